"""Search index tables (vendor-specific; see docs/search.md and yiwang.catalog.search).

One row per published item in ``catalog_search_doc``, keyed by the item id, carrying the filter
columns of its current version (for the filter-only listing in code order) and ``sort_key``
(shorter name, then higher level, then item id, as one integer) so both databases order the
same way. The tokens (words, pinyin, whole names, filter values) live beside it:

- SQLite: an FTS5 table ``catalog_search_fts`` whose rowid is the sort key, so FTS5 hands rows
  back already in rank order and a page of a very common word stops after a few rows.
  ``detail=none`` and ``columnsize=0`` because we never use positions or bm25 (the ranking is
  ours, identical on both databases), which keeps the index small. ``tokenchars '_'`` keeps
  ``n_p_shebao`` one token; unicode61 otherwise splits only on spaces and punctuation, never
  inside our CJK tokens.
- PostgreSQL: ``tsvector`` columns built with ``array_to_tsvector`` (lexemes verbatim, no parser,
  no stemming) and GIN indexes, in ``catalog_search_tsv``: all tokens (``tsv``) and the name-tier
  tokens (``name_tsv``), beside the sort key and version id. GIN has no index-only scans, so every
  match costs a heap row: uncompressed (EXTERNAL) tsvectors make every row longer than the 2 kB
  TOAST threshold and ``toast_tuple_target = 128`` then moves both out of line, leaving heap rows
  of about 60 bytes, so counting or sorting a few thousand matches reads a few hundred pages
  instead of thousands (the GIN index answers the match without reading the tsvectors back).
  Text columns compared by range or order use ``COLLATE "C"``, so ``region_path`` prefix ranges
  and ``code`` order are bytewise, as on SQLite.
"""

from django.db import migrations

DOC_TABLE = "catalog_search_doc"
FTS_TABLE = "catalog_search_fts"
TSV_TABLE = "catalog_search_tsv"

_DOC_INDEXES = [
    f"CREATE INDEX catalog_search_doc_region ON {DOC_TABLE} (region_path)",
    f"CREATE INDEX catalog_search_doc_department ON {DOC_TABLE} (department_id)",
    f"CREATE INDEX catalog_search_doc_type ON {DOC_TABLE} (item_type)",
    f"CREATE INDEX catalog_search_doc_level ON {DOC_TABLE} (region_level)",
    f"CREATE INDEX catalog_search_doc_code ON {DOC_TABLE} (code)",
    f"CREATE INDEX catalog_search_doc_level_region ON {DOC_TABLE} (region_level, region_path)",
]

SQLITE_FORWARD = [
    f"""CREATE TABLE {DOC_TABLE} (
        sort_key INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL UNIQUE,
        version_id INTEGER NOT NULL,
        code VARCHAR(32) NOT NULL,
        region_path VARCHAR(64) NOT NULL,
        region_level INTEGER NOT NULL,
        department_id INTEGER NOT NULL,
        item_type VARCHAR(16) NOT NULL,
        for_person BOOL NOT NULL,
        for_company BOOL NOT NULL
    )""",
    *_DOC_INDEXES,
    f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
        tokens, detail=none, columnsize=0, tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
    )""",
]
SQLITE_BACKWARD = [f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP TABLE IF EXISTS {DOC_TABLE}"]

POSTGRES_FORWARD = [
    f"""CREATE TABLE {DOC_TABLE} (
        item_id BIGINT PRIMARY KEY,
        sort_key BIGINT NOT NULL UNIQUE,
        version_id BIGINT NOT NULL,
        code VARCHAR(32) COLLATE "C" NOT NULL,
        region_path VARCHAR(64) COLLATE "C" NOT NULL,
        region_level SMALLINT NOT NULL,
        department_id BIGINT NOT NULL,
        item_type VARCHAR(16) NOT NULL,
        for_person BOOLEAN NOT NULL,
        for_company BOOLEAN NOT NULL
    )""",
    *_DOC_INDEXES,
    f"""CREATE TABLE {TSV_TABLE} (
        item_id BIGINT PRIMARY KEY,
        sort_key BIGINT NOT NULL,
        version_id BIGINT NOT NULL,
        name_tsv TSVECTOR NOT NULL,
        tsv TSVECTOR NOT NULL
    ) WITH (toast_tuple_target = 128)""",
    f"ALTER TABLE {TSV_TABLE} ALTER COLUMN name_tsv SET STORAGE EXTERNAL",
    f"ALTER TABLE {TSV_TABLE} ALTER COLUMN tsv SET STORAGE EXTERNAL",
    f"CREATE INDEX catalog_search_tsv_name_tsv ON {TSV_TABLE} USING GIN (name_tsv)",
    f"CREATE INDEX catalog_search_tsv_tsv ON {TSV_TABLE} USING GIN (tsv)",
]
POSTGRES_BACKWARD = [f"DROP TABLE IF EXISTS {TSV_TABLE}", f"DROP TABLE IF EXISTS {DOC_TABLE}"]


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = SQLITE_FORWARD
    elif vendor == "postgresql":
        statements = POSTGRES_FORWARD
    else:
        raise NotImplementedError(f"search index: unsupported database vendor {vendor!r}")
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_BACKWARD if vendor == "sqlite" else POSTGRES_BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
