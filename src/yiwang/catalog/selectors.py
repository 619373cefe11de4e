"""Reads of the published catalogue for the portal: browse lists, guides, version history.

Everything here reads ``ServiceItemVersion`` rows only (what is published), never the working
copies departments edit. Lists read the filter columns and a few JSON keys, never the whole
``elements`` blob; a guide reads one version row.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Max, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext

from yiwang.core.params import int_param
from yiwang.regions.models import Department, DepartmentKind, Region, RegionLevel

from .models import Audience, ItemType, LifeEvent, OnlineDepth, ServiceItem, ServiceItemVersion, Theme
from .search import search_items

BROWSE_PER_PAGE = 20
MAX_CODE_LENGTH = 32
# Themes, life events and the region tree change a few times a year; a minute of staleness on
# the home page is worth not reading them on every visit.
HOME_CACHE_SECONDS = 60


@dataclass(frozen=True)
class BrowseFilters:
    """The filters of the browse list, already checked; an empty value means "any"."""

    audience: str = ""  # "person" or "company"
    theme: str = ""  # Theme.code
    department_kind: str = ""  # DepartmentKind value
    department_id: int | None = None
    region_code: str = ""  # that region and every region below it
    level: int | None = None  # RegionLevel value
    item_type: str = ""  # ItemType value

    @classmethod
    def from_params(cls, params: Any) -> BrowseFilters:
        """Build filters from query parameters, dropping values that cannot be valid.

        A stale bookmark with an unknown value shows the wider list rather than an error page.
        """

        def text(name: str) -> str:
            return (params.get(name) or "").strip()[:40]

        def integer(name: str) -> int | None:
            return int_param(text(name))

        audience = text("audience")
        kind = text("kind")
        level = integer("level")
        item_type = text("type")
        region = text("region")
        return cls(
            audience=audience if audience in {Audience.PERSON, Audience.COMPANY} else "",
            theme=text("theme"),
            department_kind=kind if kind in DepartmentKind.values else "",
            department_id=integer("department"),
            region_code=region if region.isdigit() else "",
            level=level if level in RegionLevel.values else None,
            item_type=item_type if item_type in ItemType.values else "",
        )

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query parameters (for pagination links)."""
        names = {
            "department_kind": "kind",
            "department_id": "department",
            "region_code": "region",
            "item_type": "type",
        }
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in ("", None):
                out[names.get(f.name, f.name)] = str(value)
        return out

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


def published_versions() -> QuerySet[ServiceItemVersion]:
    return ServiceItemVersion.objects.filter(is_current=True)


def filter_versions(
    qs: QuerySet[ServiceItemVersion], filters: BrowseFilters, region: Region | None = None
) -> QuerySet[ServiceItemVersion]:
    """``region`` is the already loaded region of ``filters.region_code``, to save a query."""
    if filters.audience == Audience.PERSON:
        qs = qs.filter(for_person=True)
    elif filters.audience == Audience.COMPANY:
        qs = qs.filter(for_company=True)
    if filters.theme:
        qs = qs.filter(themes__code=filters.theme)
    if filters.department_kind:
        qs = qs.filter(department_kind=filters.department_kind)
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.region_code:
        if region is None or region.code != filters.region_code:
            region = region_by_code(filters.region_code)
        qs = qs.filter(region_path__startswith=region.path) if region else qs.none()
    if filters.level:
        qs = qs.filter(region_level=filters.level)
    if filters.item_type:
        qs = qs.filter(item_type=filters.item_type)
    return qs


def list_rows(qs: QuerySet[ServiceItemVersion]) -> QuerySet:
    """The columns one list row shows, as dicts: no model instances, no whole ``elements`` blob."""
    return qs.values(
        "id",
        "code",
        "name",
        "online_depth",
        "region_level",
        "item_type",
        "published_at",
        region_name=F("region__name"),
        department_name=F("department__name"),
        promised_limit_days=KT("elements__promised_limit_days"),
        onsite_visits=KT("elements__onsite_visits"),
        is_instant=KT("elements__is_instant"),
    )


def browse(
    filters: BrowseFilters,
    page_number: Any = 1,
    per_page: int = BROWSE_PER_PAGE,
    region: Region | None = None,
) -> Page:
    """One page of published items matching ``filters``, ordered by item code. Two queries."""
    qs = filter_versions(published_versions(), filters, region).order_by("code")
    return browse_queryset_page(qs, page_number, per_page)


def normalize_row(row: dict[str, Any]) -> dict[str, Any]:
    """JSON values come back as text on some databases; give them one type everywhere."""
    row["promised_limit_days"] = _as_int(row.get("promised_limit_days"))
    row["onsite_visits"] = _as_int(row.get("onsite_visits"))
    row["is_instant"] = str(row.get("is_instant")).lower() in {"1", "true"}
    try:  # text in the active language, as the other labels: a lazy one is translated at each use
        row["depth_label"] = str(OnlineDepth(row["online_depth"]).label)
    except ValueError:
        row["depth_label"] = ""
    # The two badges of a result row, worded here: as template branches, evaluated for every
    # row, they would be a large part of a result page's rendering.
    days, visits = row["promised_limit_days"], row["onsite_visits"]
    if row["is_instant"] or days == 0:
        row["limit_label"] = gettext("即办件")
    elif days is not None:
        row["limit_label"] = ngettext("承诺%(n)s个工作日", "承诺%(n)s个工作日", days) % {"n": days}
    else:
        row["limit_label"] = gettext("承诺时限未定")
    if not visits:
        row["visits_label"] = gettext("零跑动")
    elif visits == 1:
        row["visits_label"] = gettext("最多跑一次")
    else:
        row["visits_label"] = ngettext("跑动%(n)s次", "跑动%(n)s次", visits) % {"n": visits}
    return row


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- guides ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionHead:
    """What the guide page needs of a published version before its (cached) body."""

    pk: int
    item_id: int
    code: str
    name: str
    number: int
    published_at: datetime


def current_version_head(code: str) -> VersionHead | None:
    """The published version of ``code`` without its elements, or None if unknown or withdrawn.

    This runs on every guide view, so it is one hand-written indexed query: the ORM's query
    building (and the JOIN its default ordering adds) cost more than the lookup itself.
    """
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    table = ServiceItemVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, item_id, code, name, number, published_at FROM {table} "
            "WHERE code = %s AND is_current = %s LIMIT 1",
            [code, True],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    published_at = row[5]
    if isinstance(published_at, str):  # SQLite hands back text; PostgreSQL a datetime
        published_at = parse_datetime(published_at)
    if published_at is not None and timezone.is_naive(published_at):
        published_at = timezone.make_aware(published_at, UTC)
    return VersionHead(row[0], row[1], row[2], row[3], row[4], published_at)


def version_elements(version_id: int) -> dict[str, Any]:
    return ServiceItemVersion.objects.filter(pk=version_id).values_list("elements", flat=True).first() or {}


def current_version(code: str) -> ServiceItemVersion | None:
    """The published version of ``code`` with its elements, or None if unknown or withdrawn."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    return published_versions().filter(code=code).defer("changes").first()


def version_history(code: str) -> list[ServiceItemVersion]:
    """Every published version of a currently published item, newest first; [] if not published."""
    head = current_version_head(code)
    if head is None:
        return []
    return list(ServiceItemVersion.objects.filter(item_id=head.item_id).defer("elements").order_by("-number"))


# --- home page, regions ----------------------------------------------------------------------


def province() -> Region | None:
    return Region.objects.filter(code=settings.YIWANG_PROVINCE_CODE).first()


def region_by_code(code: str) -> Region | None:
    if not code or not code.isdigit() or len(code) > 12:
        return None
    return Region.objects.filter(code=code).first()


def user_region(code: str | None) -> Region | None:
    """The region the visitor chose (cookie), or the province when none or an unknown one."""
    return region_by_code(code or "") or province()


def region_choices() -> list[dict[str, Any]]:
    """Province, cities and counties of the platform's province, grouped by city for a <select>.

    Townships are left out: a picker with 1,000 options helps nobody; a township resident picks
    the county and browses below it.
    """
    key = f"portal:region_choices:{settings.YIWANG_PROVINCE_CODE}"
    groups = cache.get(key)
    if groups is not None:
        return groups
    root = province()
    groups = []
    if root is not None:
        rows = list(
            Region.objects.filter(path__startswith=root.path, level__lte=RegionLevel.COUNTY)
            .order_by("path")
            .values("code", "name", "level", "parent__code")
        )
        by_city: dict[str, dict[str, Any]] = {}
        groups.append({"name": root.name, "regions": [{"code": root.code, "name": root.name}]})
        for r in rows:
            if r["level"] == RegionLevel.CITY:
                by_city[r["code"]] = {"name": r["name"], "regions": [{"code": r["code"], "name": r["name"]}]}
                groups.append(by_city[r["code"]])
            elif r["level"] == RegionLevel.COUNTY and r["parent__code"] in by_city:
                by_city[r["parent__code"]]["regions"].append({"code": r["code"], "name": r["name"]})
    cache.set(key, groups, HOME_CACHE_SECONDS)
    return groups


def home_catalogue() -> dict[str, Any]:
    """Themes (split by audience) and life events for the home page."""
    key = "portal:home_catalogue"
    data = cache.get(key)
    if data is not None:
        return data
    themes = list(
        Theme.objects.order_by("audience", "sort", "code").values("code", "name", "audience", "icon")
    )
    data = {
        "person_themes": [t for t in themes if t["audience"] == Audience.PERSON],
        "company_themes": [t for t in themes if t["audience"] == Audience.COMPANY],
        "life_events": list(
            LifeEvent.objects.order_by("sort", "code").values("code", "name", "audience", "description")
        ),
    }
    cache.set(key, data, HOME_CACHE_SECONDS)
    return data


def theme_by_code(code: str) -> Theme | None:
    return Theme.objects.filter(code=code).first() if code else None


def department_by_id(department_id: int | None) -> Department | None:
    return (
        Department.objects.select_related("region").filter(pk=department_id).first()
        if department_id
        else None
    )


def life_event(code: str) -> LifeEvent | None:
    return LifeEvent.objects.filter(code=code).first() if code else None


def life_event_versions(
    event: LifeEvent, region_code: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The published items of a life event's standard items for the visitor's region.

    A resident is served by the departments of their region, of the regions above it (city,
    province) and, when they chose a city or the province, of the regions below it.
    """
    region = user_region(region_code)
    qs = published_versions().filter(item__standard__life_events=event)
    if region is not None:
        ancestors = [p for p in region.path.split("/") if p]
        qs = qs.filter(Q(region__code__in=ancestors) | Q(region_path__startswith=region.path))
    return [normalize_row(r) for r in list_rows(qs.order_by("region_level", "code"))[:limit]]


# --- search ------------------------------------------------------------------------------------


@dataclass
class SearchPage:
    """One page of search results as list rows (same shape as ``browse`` rows)."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    has_next: bool
    expanded_terms: list[str]
    total_capped: bool = False  # more matches than counted: shown as "1000+"
    best_match: bool = False  # a sentence: items with the most of its words first
    query_tokens: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1


def search_published(
    q: str, filters: BrowseFilters, page: int = 1, prefer_region: str | None = None
) -> SearchPage:
    """Search published items through ``yiwang.catalog.search``: the ranked ids, then the list
    rows of those ids in one query (``list_rows``: no model instances, no guide contents).
    ``prefer_region``: the reader's region, whose items rank first (see docs/search.md)."""
    result = search_items(
        q,
        prefer_region=prefer_region,
        region_code=filters.region_code or None,
        department_id=filters.department_id,
        audience=filters.audience or None,
        item_type=filters.item_type or None,
        level=filters.level,
        page=page,
        load_items=False,
    )
    ids = result.ids
    by_id = {r["id"]: normalize_row(r) for r in list_rows(ServiceItemVersion.objects.filter(pk__in=ids))}
    return SearchPage(
        rows=[by_id[i] for i in ids if i in by_id],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        has_next=result.has_next,
        expanded_terms=list(getattr(result, "expanded_terms", None) or []),
        total_capped=result.total_capped,
        best_match=result.best_match,
        query_tokens=list(result.query_tokens),
    )


def search_item_ids(q: str, *, limit: int = 1000) -> list[int]:
    """The implementations (``ServiceItem`` ids) whose published version the portal's search finds
    for ``q`` (synonyms, abbreviations, pinyin), best first, at most ``limit``: the back office's
    item list searches with it, so 社保 finds there what it finds on the portal."""
    version_ids: list[int] = []
    page = 1
    while len(version_ids) < limit:
        result = search_items(q, page=page, per_page=100, load_items=False)
        version_ids += result.ids
        if not result.ids or not result.has_next:
            break
        page += 1
    item_of = dict(ServiceItemVersion.objects.filter(pk__in=version_ids).values_list("pk", "item_id"))
    return list(dict.fromkeys(item_of[v] for v in version_ids[:limit] if v in item_of))


def browse_queryset_page(
    qs: QuerySet[ServiceItemVersion], page_number: Any, per_page: int = BROWSE_PER_PAGE
) -> Page:
    """One page of ``qs`` (ordered) as list rows. The count is of the bare filtered versions
    (counting through the list columns' joins and JSON fields would read every row of the
    catalogue with them) and is kept ``HOME_CACHE_SECONDS`` for the same filters: every visitor of a
    listing shares it, and a publication shows in the figure within a minute. The rows are read
    for the page's ids, picked by a subquery that walks the index alone (``OFFSET`` no longer
    computes the list columns of every row it skips)."""
    paginator: Paginator[Any] = Paginator(qs, per_page)  # its page holds rows (dicts), not versions
    paginator.count = _cached_count(qs)  # the cached_property, set: Paginator does not count
    page = paginator.get_page(page_number)
    start = (page.number - 1) * per_page
    ids = qs.values("id")[start : start + per_page]
    rows = list_rows(ServiceItemVersion.objects.filter(pk__in=ids).order_by(*qs.query.order_by))
    page.object_list = [normalize_row(r) for r in rows]
    return page


def _cached_count(qs: QuerySet[ServiceItemVersion]) -> int:
    try:
        sql, params = qs.order_by().query.sql_with_params()
    except EmptyResultSet:  # qs.none(): an unknown region
        return 0
    key = "catalog:count:" + hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()[:32]
    count = cache.get(key)
    if count is None:
        count = qs.order_by().count()
        cache.set(key, count, HOME_CACHE_SECONDS)
    return count


def published_item(code: str) -> ServiceItem | None:
    """The implementation with this code if it has a published version: what an application
    is made against (the one read here of a working copy, filtered to published items)."""
    return (
        ServiceItem.objects.select_related("current_version", "department")
        .filter(code=code, current_version__isnull=False)
        .first()
    )


def published_guide_rows(fields: tuple[str, ...], elements: tuple[str, ...]) -> QuerySet:
    """The current published versions by code, as dicts of the version's ``fields`` (``region__code``
    style paths allowed) and the named guide ``elements``, read from the published snapshot, so
    only what the guide shows and never the whole ``elements`` blob."""
    values = {name: KT(f"elements__{name}") for name in elements}
    return published_versions().order_by("code").values(*fields, **values)


def published_materials_rows() -> QuerySet:
    """Code, name and the published materials list of each current version, by code."""
    return published_versions().order_by("code").values("code", "name", materials=F("elements__materials"))


def last_published_at() -> datetime | None:
    return published_versions().aggregate(last=Max("published_at"))["last"]
