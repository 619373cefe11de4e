"""Reading the search index: match, filter, rank, paginate, on SQLite and PostgreSQL alike.

The ranking is computed from columns both databases evaluate identically (not bm25 or ts_rank),
so the same query returns the same ids in the same order on both:

1. every query word found in the name or an alias (``n_`` tokens) before a match in the body;
2. the name or alias equals the query (or its full pinyin / initials), then starts with it, then
   contains it as one piece, then the rest;
3. shorter names first (普通护照签发 before a long item that only mentions 护照);
4. higher administrative level first (province, city, county, township);
5. item code, which is unique, so the order is total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from yiwang.catalog.models import ServiceItemVersion
from yiwang.regions.models import Region

from . import tokens as tk
from .index import DOC_TABLE, FTS_TABLE
from .synonyms import synonym_groups

MAX_PER_PAGE = 100
MAX_PAGE = 500


@dataclass
class SearchResult:
    items: list[ServiceItemVersion]
    total: int
    page: int
    per_page: int
    query: str = ""
    query_tokens: list[str] = field(default_factory=list)
    expanded_terms: list[str] = field(default_factory=list)

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
    joiner = " AND " if isinstance(expr, tk.And) else " OR "
    return "(" + joiner.join(render_fts5(p) for p in expr.parts) + ")"


def render_tsquery(expr: tk.Expr) -> str:
    if isinstance(expr, tk.Tok):
        return f"'{expr.text}'" + (":*" if expr.prefix else "")
    joiner = " & " if isinstance(expr, tk.And) else " | "
    return "(" + joiner.join(render_tsquery(p) for p in expr.parts) + ")"


def _match(expr: tk.Expr) -> tuple[str, list]:
    """SQL true for the index rows ``d`` whose tokens satisfy ``expr``."""
    if connection.vendor == "postgresql":
        return "d.tsv @@ %s::tsquery", [render_tsquery(expr)]
    return f"d.item_id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)", [render_fts5(expr)]


def _name_match(expr: tk.Expr) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return f"d.item_id IN (SELECT item_id FROM {DOC_TABLE} WHERE tsv @@ %s::tsquery)", [
            render_tsquery(expr)
        ]
    return _match(expr)


def _region_path(code: str) -> str | None:
    return Region.objects.filter(code=code).values_list("path", flat=True).first()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _closeness(phrases: list[str]) -> tuple[str, list]:
    """0 exact name/alias/pinyin, 1 prefix, 2 contained, 3 otherwise (see ``tokens.rank_text_of``)."""
    whens: list[str] = []
    params: list[str] = []
    for rank, pattern in enumerate(("%|{}|%", "%|{}%", "%{}%")):
        tests = []
        for phrase in phrases:
            tests.append("d.rank_text LIKE %s ESCAPE '\\'")
            params.append(pattern.format(_like_escape(phrase)))
        whens.append(f"WHEN {' OR '.join(tests)} THEN {rank}")
    return f"CASE {' '.join(whens)} ELSE 3 END", params


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
) -> SearchResult:
    """Search the published catalogue. Bad input never raises: it is cleaned or yields nothing."""
    page = _clamp_int(page, 1, MAX_PAGE, 1)
    per_page = _clamp_int(per_page, 1, MAX_PER_PAGE, 20)
    parsed = tk.parse_query(q, synonym_groups() if (q or "").strip() else None)
    result = SearchResult(
        items=[],
        total=0,
        page=page,
        per_page=per_page,
        query=(q or "")[: tk.MAX_QUERY_CHARS],
        query_tokens=parsed.words,
        expanded_terms=parsed.expanded_terms,
    )
    if (q or "").strip() and parsed.empty:
        return result  # only punctuation or operators: nothing to look for

    where: list[str] = []
    params: list = []
    if region_code:
        path = _region_path(str(region_code).strip())
        if path is None:
            return result
        # "This region and everything below it" as a range on the path, which an index serves
        # on both databases ('/' + 1 is '0').
        where.append("d.region_path >= %s AND d.region_path < %s")
        params += [path, path[:-1] + "0"]
    if department_id is not None:
        dept = _clamp_int(department_id, 0, 2**62, None)
        if dept is None:
            return result
        where.append("d.department_id = %s")
        params.append(dept)
    if audience in ("person", "company"):
        where.append(f"d.for_{audience} = %s")
        params.append(True)
    if item_type:
        where.append("d.item_type = %s")
        params.append(str(item_type)[:16])
    if level is not None:
        lvl = _clamp_int(level, 1, 4, None)
        if lvl is None:
            return result
        where.append("d.region_level = %s")
        params.append(lvl)

    order: list[str] = []
    order_params: list = []
    if parsed.any_expr is not None and parsed.name_expr is not None:
        match_sql, match_params = _match(parsed.any_expr)
        where.insert(0, match_sql)
        params[:0] = match_params
        name_sql, name_params = _name_match(parsed.name_expr)
        close_sql, close_params = _closeness(parsed.phrases)
        order += [f"CASE WHEN {name_sql} THEN 0 ELSE 1 END", close_sql, "d.name_len", "d.region_level"]
        order_params += name_params + close_params
    order.append("d.code")

    where_sql = f"WHERE {' AND '.join(where)}" if where else ""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and parsed.any_expr is not None and len(where) == 1:
            # Unfiltered text search: FTS5 counts its own matches without visiting the rows.
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", params)
        else:
            cursor.execute(f"SELECT count(*) FROM {DOC_TABLE} d {where_sql}", params)
        result.total = cursor.fetchone()[0]
        offset = (page - 1) * per_page
        if result.total == 0 or offset >= result.total:
            return result
        cursor.execute(
            f"SELECT d.version_id FROM {DOC_TABLE} d {where_sql} ORDER BY {', '.join(order)} LIMIT %s OFFSET %s",
            [*params, *order_params, per_page, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
    by_id = ServiceItemVersion.objects.select_related("region", "department").in_bulk(ids)
    result.items = [by_id[i] for i in ids if i in by_id]
    return result


def _clamp_int(value, low: int, high: int, default):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if number < low:
        return default if default is None else low
    return min(number, high)
