"""Reading the search index: match, filter, rank, paginate, on SQLite and PostgreSQL alike.

The ranking uses neither bm25 nor ts_rank: it is a sequence of tiers, each a token expression
(``ParsedQuery.tiers``), ordered inside by the integer ``sort_key``. Both databases evaluate the
same boolean expressions over the same tokens and sort by the same integer, so the same query
returns the same ids in the same order on both:

1. name tier, exact: a name or alias equals the query, or its full pinyin / initials do
   (护照, huzhao, hz for an item named 护照);
2. name tier, prefix: a name or alias starts with the query;
3. name tier, the rest: every query word is in a name or alias (``n_`` tokens);
4. body tier: found only in the guide text (legal basis, conditions, materials, result name,
   department name);

and inside each tier the ``sort_key``: shorter names first (普通护照签发 before a long item that
only mentions 护照), then higher administrative level (province, city, county, township), then
item id, which is unique, so the order is total.

Filters are tokens too (``f_r_350100``...), so a filtered search is the same single lookup. A page
is filled from the tiers in turn; FTS5 returns each tier already in rowid (= sort key) order and
stops after the page, and every count stops at COUNT_CAP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction

from yiwang.catalog.models import ServiceItemVersion
from yiwang.core.params import MAX_ID, int_param
from yiwang.regions.models import Region

from . import results_cache
from . import tokens as tk
from .index import DOC_TABLE, FTS_TABLE, TSV_TABLE
from .synonyms import synonym_groups, synonyms_state

MAX_PER_PAGE = 100
MAX_PAGE = 500
COUNT_CAP = 1_000  # matches counted for a text search; more shows as "1000+"
LIST_COUNT_CAP = 100_000  # rows counted for a filter-only listing


@dataclass
class SearchResult:
    items: list[ServiceItemVersion]
    total: int
    page: int
    per_page: int
    query: str = ""
    query_tokens: list[str] = field(default_factory=list)
    expanded_terms: list[str] = field(default_factory=list)
    total_capped: bool = False  # more matches than counted: show "1000+"
    ids: list[int] = field(default_factory=list)  # the page's version ids, in rank order
    relaxed: bool = False  # nothing matched as typed; these match the query's main words

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def render_fts5(expr: tk.Expr) -> str:
    if isinstance(expr, tk.Tok):
        return f'"{expr.text}"' + ("*" if expr.prefix else "")
    if isinstance(expr, tk.Not):
        return f"({render_fts5(expr.base)} NOT {render_fts5(expr.excluded)})"
    joiner = " AND " if isinstance(expr, tk.And) else " OR "
    return "(" + joiner.join(render_fts5(p) for p in expr.parts) + ")"


def render_tsquery(expr: tk.Expr) -> str:
    if isinstance(expr, tk.Tok):
        return f"'{expr.text}'" + (":*" if expr.prefix else "")
    if isinstance(expr, tk.Not):
        return f"({render_tsquery(expr.base)} & !{render_tsquery(expr.excluded)})"
    joiner = " & " if isinstance(expr, tk.And) else " | "
    return "(" + joiner.join(render_tsquery(p) for p in expr.parts) + ")"


def _tier_sql(expr: tk.Expr, *, body: bool) -> tuple[str, str, str, list]:
    """(FROM ... WHERE for the matching rows, their sort key column, their version id column,
    params). PostgreSQL answers the name tiers from ``name_tsv`` (the name tokens only) and the
    body tier from ``tsv`` (every token)."""
    if connection.vendor == "sqlite":
        # FTS5 stays the outer loop (CROSS JOIN) and its rowid is the sort key, so ORDER BY rowid
        # LIMIT reads only as many matches as the page needs.
        return (
            f"{FTS_TABLE} CROSS JOIN {DOC_TABLE} d ON d.sort_key = {FTS_TABLE}.rowid WHERE {FTS_TABLE} MATCH %s",
            f"{FTS_TABLE}.rowid",
            "d.version_id",
            [render_fts5(expr)],
        )
    column = "tsv" if body else "name_tsv"
    return f"{TSV_TABLE} WHERE {column} @@ %s::tsquery", "sort_key", "version_id", [render_tsquery(expr)]


def _count_sql(expr: tk.Expr, *, body: bool) -> tuple[str, list]:
    if connection.vendor == "sqlite":
        sql, params = f"{FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [render_fts5(expr)]
    else:
        sql, _, _, params = _tier_sql(expr, body=body)
    return f"(SELECT count(*) FROM (SELECT 1 FROM {sql} LIMIT %s) counted)", [*params, COUNT_CAP + 1]


def _count(cursor, from_where: str, params: list, cap: int) -> int:
    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {from_where} LIMIT %s) counted", [*params, cap + 1])
    return cursor.fetchone()[0]


def _region_path(code: str) -> str | None:
    return Region.objects.filter(code=code).values_list("path", flat=True).first()


def search_items(
    q: str | None = "",
    *,
    region_code: str | None = None,
    department_id: int | None = None,
    audience: str | None = None,
    item_type: str | None = None,
    level: int | None = None,
    page: int = 1,
    per_page: int = 20,
    load_items: bool = True,
) -> SearchResult:
    """Search the published catalogue. Bad input never raises: it is cleaned or yields nothing.
    ``load_items=False``: only ``ids`` (the portal reads its list columns itself; loading the
    whole versions, guides and all, cost more than the search)."""
    page = _clamp_int(page, 1, MAX_PAGE, 1)
    per_page = _clamp_int(per_page, 1, MAX_PER_PAGE, 20)
    args = (q, region_code, department_id, audience, item_type, level, page, per_page)
    typed = (q or "").strip()
    state = synonyms_state() if typed else ()
    seconds = results_cache.seconds()
    key = results_cache.key(state, args) if seconds > 0 else None
    result = cache.get(key) if key else None
    if result is None:
        result = _search(synonym_groups(state) if typed else None, *args)
        if key:
            cache.set(key, result, seconds)
    if load_items:
        by_id = (
            ServiceItemVersion.objects.select_related("region", "department").order_by().in_bulk(result.ids)
        )
        result.items = [by_id[i] for i in result.ids if i in by_id]
    return result


def _search(
    synonyms: dict[str, list[str]] | None,
    q: str | None,
    region_code: str | None,
    department_id: int | None,
    audience: str | None,
    item_type: str | None,
    level: int | None,
    page: int,
    per_page: int,
) -> SearchResult:
    """One search, uncached; ``items`` left empty (``search_items`` loads them)."""
    typed = (q or "").strip()
    parsed = tk.parse_query(q, synonyms)
    result = SearchResult(
        items=[],
        total=0,
        page=page,
        per_page=per_page,
        query=(q or "")[: tk.MAX_QUERY_CHARS],
        query_tokens=parsed.words,
        expanded_terms=parsed.expanded_terms,
    )
    if typed and parsed.empty:
        return result  # only punctuation or operators: nothing to look for

    # Each filter twice: as SQL on the doc table (filter-only listing) and as a token.
    where: list[str] = []
    params: list = []
    filter_tokens: list[str] = []
    if region_code:
        code = str(region_code).strip()[:12]
        path = _region_path(code) if code.isascii() and code.isalnum() else None
        if path is None:
            return result
        # "This region and everything below it" as a range on the path ('/' + 1 is '0').
        where.append("d.region_path >= %s AND d.region_path < %s")
        params += [path, path[:-1] + "0"]
        filter_tokens.append(tk.REGION_FILTER + code)
    if department_id is not None:
        dept = _clamp_int(department_id, 0, 2**62, None)
        if dept is None:
            return result
        where.append("d.department_id = %s")
        params.append(dept)
        filter_tokens.append(f"{tk.DEPARTMENT_FILTER}{dept}")
    if audience in ("person", "company"):
        where.append(f"d.for_{audience} = %s")
        params.append(True)
        filter_tokens.append(tk.AUDIENCE_FILTER + audience)
    if item_type:
        kind = "".join(c for c in str(item_type)[:16] if c.isalnum() or c == "_")
        if not kind:
            return result
        where.append("d.item_type = %s")
        params.append(kind)
        filter_tokens.append(tk.TYPE_FILTER + kind)
    if level is not None:
        lvl = _clamp_int(level, 1, 4, None)
        if lvl is None:
            return result
        where.append("d.region_level = %s")
        params.append(lvl)
        filter_tokens.append(f"{tk.LEVEL_FILTER}{lvl}")

    offset = (page - 1) * per_page
    with connection.cursor() as cursor:
        if parsed.empty:
            ids = _listing(cursor, " AND ".join(where) or "1=1", params, per_page, offset, result)
        else:
            with _planner_prefers_indexes(cursor):
                ids = _ranked_page(cursor, parsed, filter_tokens, per_page, offset, result)
                if result.total == 0:
                    # Nothing for the query as typed: try its dictionary words without the
                    # question words (怎么办理营业执照 -> 营业执照).
                    relaxed = tk.parse_query(q, synonyms, relaxed=True)
                    if not relaxed.empty and relaxed.words != parsed.words:
                        ids = _ranked_page(cursor, relaxed, filter_tokens, per_page, offset, result)
                        result.relaxed = True
                        result.query_tokens = relaxed.words
                        result.expanded_terms = relaxed.expanded_terms
    result.ids = list(ids)
    return result


def _listing(cursor, where: str, params: list, limit: int, offset: int, result: SearchResult) -> list[int]:
    """No words, maybe filters: the published items in code order."""
    count = _count(cursor, f"{DOC_TABLE} d WHERE {where}", params, LIST_COUNT_CAP)
    result.total, result.total_capped = min(count, LIST_COUNT_CAP), count > LIST_COUNT_CAP
    if offset >= result.total:
        return []
    cursor.execute(
        f"SELECT d.version_id FROM {DOC_TABLE} d WHERE {where} ORDER BY d.code LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )
    return [row[0] for row in cursor.fetchall()]


def _ranked_page(
    cursor, parsed: tk.ParsedQuery, filters: list[str], limit: int, offset: int, result: SearchResult
) -> list[int]:
    tiers = parsed.tiers(filters)
    body = [i == len(tiers) - 1 for i in range(len(tiers))]
    # Every tier's size in one statement (each count stops at COUNT_CAP).
    counts = [_count_sql(expr, body=b) for expr, b in zip(tiers, body, strict=True)]
    cursor.execute(
        "SELECT " + ", ".join(sql for sql, _ in counts), [p for _, params in counts for p in params]
    )
    sizes = list(cursor.fetchone())
    total = sum(sizes)
    result.total, result.total_capped = min(total, COUNT_CAP), total > COUNT_CAP
    ids: list[int] = []
    skip = offset  # rows of the page's offset not yet passed in earlier tiers
    for expr, is_body, size in zip(tiers, body, sizes, strict=True):
        # Never past the (capped) total: page N of "2000+" results ends where the count did.
        wanted = min(limit, result.total - offset) - len(ids)
        if wanted <= 0:
            break
        if skip < size:
            from_where, key, version, params = _tier_sql(expr, body=is_body)
            if connection.vendor == "postgresql":
                # Collected through the GIN index first (heap rows are narrow, see the
                # migration), then sorted: left to itself the planner may walk the sort key
                # order testing every row's tsvector until it has a page, which for a rare word
                # means most of the table.
                sql = (
                    f"WITH m AS MATERIALIZED (SELECT {key}, {version} FROM {from_where}) "
                    f"SELECT {version} FROM m ORDER BY {key} LIMIT %s OFFSET %s"
                )
            else:
                sql = f"SELECT {version} FROM {from_where} ORDER BY {key} LIMIT %s OFFSET %s"
            cursor.execute(sql, [*params, wanted, skip])
            ids += [row[0] for row in cursor.fetchall()]
        skip = max(0, skip - size)
    return ids


@contextmanager
def _planner_prefers_indexes(cursor) -> Iterator[None]:
    """On PostgreSQL, keep the planner off sequential scans for the search statements.

    It prices ``tsv @@ query`` as cheap, so for a common word (证) it scans the table and decodes
    every tsvector instead of asking the GIN index, whose cost grows with the matches only.
    ``set_config(..., true)`` is transaction-local; the previous value is put back afterwards so
    a caller's own transaction is not affected.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
        previous = cursor.fetchone()[0]
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])


def _clamp_int(value, low: int, high: int, default):
    number = int_param(value, None, min_value=-MAX_ID)
    if number is None:
        return default
    if number < low:
        return default if default is None else low
    return min(number, high)
