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

import math
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
TERM_CAP = 3_000  # matches of one word read by a best-match (sentence) search
SENTENCE_CHARS = 6  # a query with this many Chinese characters and no full match: best match
NAME_WEIGHT = 1.5  # a sentence word found in the name counts this much more than in the guide


@dataclass(frozen=True)
class PreferredRegion:
    """The reader's region for the ranking: its code, level and path, and its ancestors'."""

    code: str
    level: int
    path: str
    ancestors: tuple[tuple[str, int, str], ...]  # (code, level, path), province first

    def tiers(self) -> list[tk.RegionTier]:
        return tk.region_tiers((self.code, self.level), [(c, lvl) for c, lvl, _ in self.ancestors])

    def rank(self, region_path: str) -> int:
        """The tier of an item's region: 0 this region, 1 above it, 2 below it, 3 elsewhere."""
        if region_path == self.path:
            return 0
        if any(region_path == p for _, _, p in self.ancestors):
            return 1
        return 2 if region_path.startswith(self.path) else 3


def preferred_region(code: str | None) -> PreferredRegion | None:
    """The region to rank first, or None for an empty or unknown code."""
    code = str(code or "").strip()[:12]
    if not code or not (code.isascii() and code.isalnum()):
        return None
    region = Region.objects.filter(code=code).values_list("code", "level", "path").first()
    if region is None:
        return None
    above = [c for c in region[2].strip("/").split("/") if c and c != region[0]]
    rows = {
        c: (c, lvl, p)
        for c, lvl, p in Region.objects.filter(code__in=above).values_list("code", "level", "path")
    }
    return PreferredRegion(region[0], region[1], region[2], tuple(rows[c] for c in above if c in rows))


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
    best_match: bool = False  # a sentence: items with the most of its meaningful words first
    region_code: str = ""  # the region ranked first ("" when none was given or it is unknown)

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
    prefer_region: str | None = None,
) -> SearchResult:
    """Search the published catalogue. Bad input never raises: it is cleaned or yields nothing.
    ``load_items=False``: only ``ids`` (the portal reads its list columns itself; loading the
    whole versions, guides and all, cost more than the search). ``prefer_region``: the reader's
    region code; its items rank first, then those of the regions above it, then below it."""
    page = _clamp_int(page, 1, MAX_PAGE, 1)
    per_page = _clamp_int(per_page, 1, MAX_PER_PAGE, 20)
    args = (q, region_code, department_id, audience, item_type, level, page, per_page, prefer_region or None)
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
    prefer_region: str | None,
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
    region = preferred_region(prefer_region) if prefer_region and typed else None
    result.region_code = region.code if region else ""
    with connection.cursor() as cursor:
        if parsed.empty:
            ids = _listing(cursor, " AND ".join(where) or "1=1", params, per_page, offset, result)
        else:
            with _planner_prefers_indexes(cursor):
                ids = _ranked_page(cursor, parsed, filter_tokens, per_page, offset, result, region)
                if result.total == 0:
                    # Nothing for the query as typed: try its dictionary words without the
                    # question words (怎么办理营业执照 -> 营业执照).
                    relaxed = tk.parse_query(q, synonyms, relaxed=True)
                    if not relaxed.empty and relaxed.words != parsed.words:
                        ids = _ranked_page(cursor, relaxed, filter_tokens, per_page, offset, result, region)
                        result.relaxed = True
                        result.query_tokens = relaxed.words
                        result.expanded_terms = relaxed.expanded_terms
                    if result.total == 0 and len(relaxed.words) > 1 and _is_sentence(parsed):
                        # A sentence: no item has all its words. Rank the items by how many of
                        # its meaningful words they have (and how rare those are).
                        ids = _best_match(
                            cursor, relaxed, synonyms, filter_tokens, per_page, offset, result, region
                        )
                        result.relaxed = result.best_match = result.total > 0
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
    cursor,
    parsed: tk.ParsedQuery,
    filters: list[str],
    limit: int,
    offset: int,
    result: SearchResult,
    region: PreferredRegion | None = None,
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
    # With a preferred region, each of its tiers (own, above, below, elsewhere) holds the
    # relevance tiers in turn; a sub-tier is counted only when the page starts past it.
    steps: list[tuple[tk.Expr, bool, int | None]] = []
    region_tiers: list[tk.RegionTier | None] = list(region.tiers()) if region else [None]
    for region_tier in region_tiers:
        for expr, is_body, size in zip(tiers, body, sizes, strict=True):
            if size:
                steps.append(
                    (region_tier.apply(expr) if region_tier else expr, is_body, None if region_tier else size)
                )
    ids: list[int] = []
    skip = offset  # rows of the page's offset not yet passed in earlier tiers
    for expr, is_body, known_size in steps:
        # Never past the (capped) total: page N of "2000+" results ends where the count did.
        wanted = min(limit, result.total - offset) - len(ids)
        if wanted <= 0:
            break
        size = known_size
        if skip and size is None:
            sql, params = _count_sql(expr, body=is_body)
            cursor.execute("SELECT " + sql, params)
            size = cursor.fetchone()[0]
        if size is None or skip < size:
            ids += _tier_page(cursor, expr, is_body, wanted, skip)
            skip = 0
        else:
            skip -= size
    return ids


def _tier_page(cursor, expr: tk.Expr, is_body: bool, limit: int, offset: int) -> list[int]:
    from_where, key, version, params = _tier_sql(expr, body=is_body)
    if connection.vendor == "postgresql":
        # Collected through the GIN index first (heap rows are narrow, see the migration), then
        # sorted: left to itself the planner may walk the sort key order testing every row's
        # tsvector until it has a page, which for a rare word means most of the table.
        sql = (
            f"WITH m AS MATERIALIZED (SELECT {key}, {version} FROM {from_where}) "
            f"SELECT {version} FROM m ORDER BY {key} LIMIT %s OFFSET %s"
        )
    else:
        sql = f"SELECT {version} FROM {from_where} ORDER BY {key} LIMIT %s OFFSET %s"
    cursor.execute(sql, [*params, limit, offset])
    return [row[0] for row in cursor.fetchall()]


def _matches(cursor, expr: tk.Expr, *, body: bool, cap: int) -> list[tuple[int, int, str]]:
    """(sort key, version id, region path) of the first ``cap`` rows matching, in sort key order."""
    if connection.vendor == "sqlite":
        sql = (
            f"SELECT {FTS_TABLE}.rowid, d.version_id, d.region_path FROM {FTS_TABLE} "
            f"CROSS JOIN {DOC_TABLE} d ON d.sort_key = {FTS_TABLE}.rowid WHERE {FTS_TABLE} MATCH %s "
            f"ORDER BY {FTS_TABLE}.rowid LIMIT %s"
        )
        params = [render_fts5(expr), cap]
    else:
        column = "tsv" if body else "name_tsv"
        sql = (
            f"WITH m AS MATERIALIZED (SELECT item_id, sort_key, version_id FROM {TSV_TABLE} "
            f"WHERE {column} @@ %s::tsquery) "
            f"SELECT m.sort_key, m.version_id, d.region_path FROM m JOIN {DOC_TABLE} d ON d.item_id = m.item_id "
            "ORDER BY m.sort_key LIMIT %s"
        )
        params = [render_tsquery(expr), cap]
    cursor.execute(sql, params)
    return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def _is_sentence(parsed: tk.ParsedQuery) -> bool:
    """A question typed as a sentence, not a few keywords: SENTENCE_CHARS Chinese characters."""
    return sum(len(w) for w in parsed.words if tk.is_cjk(w)) >= SENTENCE_CHARS


def _best_match(
    cursor,
    parsed: tk.ParsedQuery,
    synonyms: dict[str, list[str]] | None,
    filters: list[str],
    limit: int,
    offset: int,
    result: SearchResult,
    region: PreferredRegion | None,
) -> list[int]:
    """A sentence no item matches as a whole (我想给刚出生的孩子办户口需要什么材料): every item
    that has at least one of its meaningful words, ranked by the sum of those words' weights
    (rarer words weigh more, a word in the name 1.5 times more), inside the region tiers, then
    by sort key. Single characters are left out when the sentence has longer words."""
    words = [w for w in parsed.words if not tk.is_cjk(w) or len(w) > 1] or parsed.words
    cursor.execute(f"SELECT count(*) FROM {DOC_TABLE}")
    documents = max(1, cursor.fetchone()[0])
    scope = [tk.Tok(f) for f in filters]
    scores: dict[int, float] = {}
    rows: dict[int, tuple[int, str]] = {}  # sort key -> (version id, region path)
    for word in words:
        term = tk.parse_query(word, synonyms)
        if term.empty:
            continue
        assert term.any_expr is not None and term.name_expr is not None
        anywhere = _matches(cursor, tk.all_of([*scope, term.any_expr]), body=True, cap=TERM_CAP)
        if not anywhere:
            continue
        in_name = {
            key
            for key, _, _ in _matches(cursor, tk.all_of([*scope, term.name_expr]), body=False, cap=TERM_CAP)
        }
        weight = math.log(1 + documents / len(anywhere))
        for key, version_id, path in anywhere:
            rows[key] = (version_id, path)
            scores[key] = scores.get(key, 0.0) + weight * (NAME_WEIGHT if key in in_name else 1.0)
    ranked = sorted(scores, key=lambda k: (region.rank(rows[k][1]) if region else 0, -round(scores[k], 9), k))
    result.total, result.total_capped = min(len(ranked), COUNT_CAP), len(ranked) > COUNT_CAP
    result.query_tokens = words
    return [rows[k][0] for k in ranked[offset : min(offset + limit, result.total)]]


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
