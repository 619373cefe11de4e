"""Reads behind the API: published catalogue data only, filtered on indexed columns.

List querysets are ordered on a unique key so that pagination is stable, and join their
region and department in the same query (no N+1).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from yiwang.catalog.models import LifeEvent, ServiceItemVersion, StandardItem, StandardMaterial, Theme
from yiwang.regions.models import Department, Region


def below(field: str, path: str) -> Q:
    """Rows whose region path starts with ``path`` (a region and everything below it).

    SQLite's LIKE is case-insensitive and never uses the index, so a subtree count there scans
    the whole table, where a range walks the index. Paths hold only digits and '/', and every
    one ends with '/', so the prefix is the
    range [path, path with its final '/' replaced by '0'). PostgreSQL keeps the LIKE, which its
    pattern index serves whatever the database collation.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": path, f"{field}__lt": path[:-1] + "0"})
    return Q(**{f"{field}__startswith": path})


def region_by_code(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def regions(*, level: int | None = None, parent: Region | None = None) -> QuerySet[Region]:
    qs = Region.objects.select_related("parent").annotate(children_count=Count("children"))
    if level is not None:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent=parent)
    return qs.order_by("code")


def region_detail(code: str) -> Region | None:
    return regions().filter(code=code).first()


def ancestors(region: Region) -> list[Region]:
    """From the province down to the region's parent."""
    codes = [c for c in region.path.split("/") if c and c != region.code]
    by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def departments(
    *, region: Region | None = None, subtree: bool = False, kind: str | None = None
) -> QuerySet[Department]:
    qs = Department.objects.select_related("region")
    if region is not None:
        qs = qs.filter(below("region__path", region.path)) if subtree else qs.filter(region=region)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("region__code", "code", "id")


def department_detail(department_id: int) -> Department | None:
    return Department.objects.select_related("region").filter(pk=department_id).first()


def department_exists(department_id: int) -> bool:
    return Department.objects.filter(pk=department_id).exists()


def theme_exists(code: str) -> bool:
    return Theme.objects.filter(code=code).exists()


def published_item_count(department: Department) -> int:
    return ServiceItemVersion.objects.filter(is_current=True, department=department).count()


@dataclass(frozen=True)
class ItemFilter:
    region: Region | None = None
    subtree: bool = False
    department_id: int | None = None
    department_kind: str | None = None
    audience: str | None = None
    item_type: str | None = None
    level: int | None = None
    theme: str | None = None


def published_items(f: ItemFilter) -> QuerySet[ServiceItemVersion]:
    """Current versions matching every given filter, ordered by item code (unique among them).

    Only filter columns: ``item_summaries`` loads the rows of the page.
    """
    qs = ServiceItemVersion.objects.filter(is_current=True)
    if f.region is not None:
        if not f.subtree:
            qs = qs.filter(region=f.region)
        elif not is_only_root(f.region):
            qs = qs.filter(below("region_path", f.region.path))
    if f.department_id is not None:
        qs = qs.filter(department_id=f.department_id)
    if f.department_kind:
        qs = qs.filter(department_kind=f.department_kind)
    if f.audience == "person":
        qs = qs.filter(for_person=True)
    elif f.audience == "company":
        qs = qs.filter(for_company=True)
    if f.item_type:
        qs = qs.filter(item_type=f.item_type)
    if f.level is not None:
        qs = qs.filter(region_level=f.level)
    if f.theme:
        # Theme codes are unique, so the join cannot repeat a version.
        qs = qs.filter(themes__code=f.theme)
    return qs.order_by("code")


def is_only_root(region: Region) -> bool:
    """The province of a one-province platform: "it and everything below" is everything, and
    a filter that keeps every row only costs (1.2 s on SQLite for 70,000 items)."""
    return (
        region.parent_id is None
        and not Region.objects.filter(parent__isnull=True).exclude(pk=region.pk).exists()
    )


def item_summaries(ids: list[int]) -> list[ServiceItemVersion]:
    """The rows of one page, with region and department joined and the promised time limit
    extracted by the database so the guide JSON is not loaded."""
    return list(
        ServiceItemVersion.objects.filter(pk__in=ids)
        .select_related("region", "department")
        .defer("elements", "changes")
        # A JSON (not text) extraction: JSON null comes back as None, not "null" or 0.
        .annotate(promised_days=KeyTransform("promised_limit_days", "elements"))
    )


def current_version(code: str) -> ServiceItemVersion | None:
    return (
        ServiceItemVersion.objects.filter(code=code, is_current=True)
        .select_related("region", "department")
        .first()
    )


def item_versions(code: str) -> list[ServiceItemVersion]:
    """Every published version of the item, newest first; empty if the item is not public now."""
    if not ServiceItemVersion.objects.filter(code=code, is_current=True).exists():
        return []
    return list(ServiceItemVersion.objects.filter(code=code).defer("elements").order_by("-number"))


def standard_items(
    *,
    item_type: str | None = None,
    department_kind: str | None = None,
    audience: str | None = None,
    theme: str | None = None,
) -> QuerySet[StandardItem]:
    qs = StandardItem.objects.all()
    if item_type:
        qs = qs.filter(item_type=item_type)
    if department_kind:
        qs = qs.filter(department_kind=department_kind)
    if audience:
        qs = qs.filter(audience__in=[audience, "both"])
    if theme:
        qs = qs.filter(themes__code=theme)
    return qs.order_by("basic_code")


def standard_item_detail(basic_code: str) -> StandardItem | None:
    return (
        StandardItem.objects.filter(basic_code=basic_code)
        .prefetch_related(
            Prefetch("materials", queryset=StandardMaterial.objects.order_by("sort", "id")),
            Prefetch("themes", queryset=Theme.objects.order_by("sort", "code")),
            Prefetch("life_events", queryset=LifeEvent.objects.order_by("sort", "code")),
        )
        .first()
    )


def published_implementation_count(standard: StandardItem) -> int:
    return ServiceItemVersion.objects.filter(is_current=True, item__standard=standard).count()


def themes(*, audience: str | None = None) -> QuerySet[Theme]:
    qs = Theme.objects.all()
    if audience:
        qs = qs.filter(audience=audience)
    return qs.order_by("audience", "sort", "code")


def life_events(*, audience: str | None = None) -> QuerySet[LifeEvent]:
    qs = LifeEvent.objects.prefetch_related(
        Prefetch(
            "standard_items", queryset=StandardItem.objects.only("basic_code", "name").order_by("basic_code")
        )
    )
    if audience:
        qs = qs.filter(audience__in=[audience, "both"])
    return qs.order_by("sort", "code")
