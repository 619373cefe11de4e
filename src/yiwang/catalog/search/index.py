"""Writing the search index: one row per published item, replaced whenever the item is published.

The callers (``catalog.services.publish`` / ``bulk_publish`` / ``withdraw``) run inside their own
transaction, so the index changes commit or roll back with the version they describe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, connection, transaction

from yiwang.catalog.models import ServiceItemVersion

from . import results_cache
from . import tokens as tk

DOC_TABLE = "catalog_search_doc"
FTS_TABLE = "catalog_search_fts"
TSV_TABLE = "catalog_search_tsv"
BATCH = 1000
FLUSH_AFTER = 200  # rows written by one call after which PostgreSQL's GIN pending lists are merged

_DOC_COLUMNS = (
    "item_id",
    "sort_key",
    "version_id",
    "code",
    "region_path",
    "region_level",
    "department_id",
    "item_type",
    "for_person",
    "for_company",
)
_MAX_ITEM_ID = 10**15


def sort_key(name_len: int, region_level: int, item_id: int) -> int:
    """The static part of the ranking as one integer: shorter name, then higher administrative
    level (province first), then item id. An integer so FTS5 can use it as its rowid and return
    matches already in this order."""
    if not 0 < item_id < _MAX_ITEM_ID:
        raise ValueError(f"item id {item_id} out of range for the search sort key")
    return min(max(name_len, 0), 899) * 10**16 + min(max(region_level, 0), 9) * 10**15 + item_id


def body_texts(elements: dict[str, Any]) -> list[str]:
    """The guide text a search looks through besides the name and aliases."""
    texts = [
        elements.get("legal_basis") or "",
        elements.get("acceptance_conditions") or "",
        elements.get("extra_conditions") or "",
        elements.get("result_name") or "",
        (elements.get("department") or {}).get("name") or "",
    ]
    texts.extend((m or {}).get("name") or "" for m in elements.get("materials") or [])
    return texts


def _aliases(elements: dict[str, Any]) -> list[str]:
    aliases = elements.get("aliases") or []
    if isinstance(aliases, str):  # tolerate an unsplit string from older snapshots
        aliases = [aliases]
    return [str(a) for a in aliases]


def document_row(version: ServiceItemVersion) -> tuple[tuple[Any, ...], tk.Document]:
    elements = version.elements or {}
    name = version.name or elements.get("name") or ""
    filters = tk.filter_tokens(
        region_path=version.region_path,
        department_id=version.department_id,
        item_type=version.item_type,
        for_person=bool(version.for_person),
        for_company=bool(version.for_company),
        region_level=version.region_level,
    )
    doc = tk.document(
        code=version.code, name=name, aliases=_aliases(elements), body=body_texts(elements), filters=filters
    )
    row = (
        version.item_id,
        sort_key(len(name), version.region_level, version.item_id),
        version.pk,
        version.code,
        version.region_path,
        version.region_level,
        version.department_id,
        version.item_type,
        bool(version.for_person),
        bool(version.for_company),
    )
    return row, doc


def index_versions(versions: Iterable[ServiceItemVersion]) -> None:
    """Upsert the index rows of these versions (one row per item). Versions that are no longer
    current are skipped: a stale caller must not bring an old guide back."""
    batch: list[ServiceItemVersion] = []
    written = 0
    with transaction.atomic():
        results_cache.index_changed()
        for version in versions:
            if not version.is_current:
                continue
            batch.append(version)
            if len(batch) >= BATCH:
                _write([document_row(v) for v in batch])
                written += len(batch)
                batch = []
        if batch:
            _write([document_row(v) for v in batch])
            written += len(batch)
        if written >= FLUSH_AFTER:
            _flush_pending()


def _flush_pending() -> None:
    """PostgreSQL: merge the GIN pending lists now. Inserts go to a pending list (fast), but every
    search scans it linearly until it is merged; after a bulk write, merge at once so that the
    writer pays for the merge, not the next readers."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list(%s::regclass), gin_clean_pending_list(%s::regclass)",
                [f"{TSV_TABLE}_tsv", f"{TSV_TABLE}_name_tsv"],
            )
    except DatabaseError:
        pass  # not the index owner: autovacuum merges it later


def remove_items(item_ids: Iterable[int]) -> None:
    """Drop these items from the index (withdrawn, deleted)."""
    ids = [int(i) for i in item_ids]
    with transaction.atomic(), connection.cursor() as cursor:
        results_cache.index_changed()
        for start in range(0, len(ids), BATCH):
            _delete(cursor, ids[start : start + BATCH])


def _delete(cursor, ids: list[int]) -> None:
    marks = ",".join(["%s"] * len(ids))
    if connection.vendor == "sqlite":
        cursor.execute(
            f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT sort_key FROM {DOC_TABLE} WHERE item_id IN ({marks}))",
            ids,
        )
    else:
        cursor.execute(f"DELETE FROM {TSV_TABLE} WHERE item_id IN ({marks})", ids)
    cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE item_id IN ({marks})", ids)


def clear_index() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        results_cache.index_changed()
        cursor.execute(f"DELETE FROM {DOC_TABLE}")
        cursor.execute(f"DELETE FROM {FTS_TABLE if connection.vendor == 'sqlite' else TSV_TABLE}")


def _write(rows: list[tuple[tuple[Any, ...], tk.Document]]) -> None:
    if not rows:
        return
    columns = ", ".join(_DOC_COLUMNS)
    marks = ", ".join(["%s"] * len(_DOC_COLUMNS))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _write_postgres(cursor, rows)
            return
        _delete(cursor, [row[0] for row, _ in rows])
        cursor.executemany(f"INSERT INTO {DOC_TABLE} ({columns}) VALUES ({marks})", [r for r, _ in rows])
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, tokens) VALUES (%s, %s)",
            [(row[1], " ".join(doc.tokens)) for row, doc in rows],
        )


def recreate_tables() -> None:
    """Drop and re-create the index tables from migration 0002's statements: for a database whose
    tables were made by an earlier draft of that migration. Leaves the index empty."""
    import importlib

    results_cache.index_changed()
    migration = importlib.import_module("yiwang.catalog.migrations.0002_search_index")
    if connection.vendor == "sqlite":
        statements = migration.SQLITE_BACKWARD + migration.SQLITE_FORWARD
    else:
        statements = migration.POSTGRES_BACKWARD + migration.POSTGRES_FORWARD
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# One statement per batch (arrays unnested server-side) instead of one per row: the per-row
# round trips cost more than the rows themselves.
_PG_DOC_TYPES = (
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "smallint",
    "bigint",
    "text",
    "boolean",
    "boolean",
)


def _write_postgres(cursor, rows: list[tuple[tuple[Any, ...], tk.Document]]) -> None:
    by_item = {row[0]: (row, doc) for row, doc in rows}  # ON CONFLICT cannot touch a row twice
    rows = list(by_item.values())
    columns = ", ".join(_DOC_COLUMNS)
    arrays = ", ".join(f"%s::{t}[]" for t in _PG_DOC_TYPES)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _DOC_COLUMNS[1:])
    cursor.execute(
        f"INSERT INTO {DOC_TABLE} ({columns}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (item_id) DO UPDATE SET {updates}",
        [list(column) for column in zip(*(row for row, _ in rows), strict=True)],
    )
    cursor.execute(
        f"INSERT INTO {TSV_TABLE} (item_id, sort_key, version_id, name_tsv, tsv) "
        "SELECT i, k, v, array_to_tsvector(string_to_array(n, ' ')), array_to_tsvector(string_to_array(t, ' ')) "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS u(i, k, v, n, t) "
        "ON CONFLICT (item_id) DO UPDATE SET sort_key = EXCLUDED.sort_key, version_id = EXCLUDED.version_id, "
        "name_tsv = EXCLUDED.name_tsv, tsv = EXCLUDED.tsv",
        [
            [row[0] for row, _ in rows],
            [row[1] for row, _ in rows],
            [row[2] for row, _ in rows],
            [" ".join(doc.name_tokens) for _, doc in rows],
            [" ".join(doc.tokens) for _, doc in rows],
        ],
    )


def rebuild_index(progress: Callable[[int, int], None] | None = None) -> int:
    """Re-create the whole index from the current published versions; returns the row count.
    One transaction: searches keep seeing the old index until the new one commits."""
    current = ServiceItemVersion.objects.filter(is_current=True).only(
        "id",
        "item_id",
        "code",
        "name",
        "elements",
        "region_path",
        "region_level",
        "department_id",
        "item_type",
        "for_person",
        "for_company",
        "is_current",
    )
    total = current.count()
    done = 0
    with transaction.atomic():
        clear_index()
        last_id = 0
        while True:
            chunk = list(current.filter(id__gt=last_id).order_by("id")[:BATCH])
            if not chunk:
                break
            last_id = chunk[-1].pk
            _write([document_row(v) for v in chunk])
            done += len(chunk)
            if progress:
                progress(done, total)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
                cursor.execute(f"ANALYZE {DOC_TABLE}")
            else:
                # Fresh statistics, or the planner guesses how selective the filters are.
                cursor.execute(f"ANALYZE {DOC_TABLE}")
                cursor.execute(f"ANALYZE {TSV_TABLE}")
        _flush_pending()
    return done
