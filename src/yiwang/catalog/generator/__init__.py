"""Generate a realistic province: regions, departments, halls, the standard catalogue and
tens of thousands of published implementations (``yiwang generate-province``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from yiwang.catalog.models import ServiceItem
from yiwang.catalog.services import bulk_publish
from yiwang.core import audit
from yiwang.core.errors import DomainError

from .implementations import build_items, room_for, too_many
from .regions import ProvinceLayout, build_departments, build_halls, build_regions
from .standards import catalogue_specs, load_standard_catalogue, load_synonyms

__all__ = ["GenerationReport", "generate_province", "province_exists"]

# progress(phase, total) returns a bar: called with the units just done, closed at the end.
ProgressFactory = Callable[[str, int], Any]


@dataclass
class GenerationReport:
    province: str
    regions: dict[int, int] = field(default_factory=dict)  # by level
    departments: int = 0
    halls: int = 0
    standard_items: int = 0
    items: int = 0
    published: int = 0
    items_by_level: dict[int, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def province_exists(province_code: str | None = None) -> bool:
    """Has a province already been generated here (it has implementations)?"""
    code = province_code or settings.YIWANG_PROVINCE_CODE
    return ServiceItem.objects.filter(region__path__startswith=f"{code}/").exists()


def generate_province(
    *,
    items: int,
    province_code: str | None = None,
    seed: int = 2026,
    cities: int | None = None,
    townships: tuple[int, int] = (5, 15),
    progress: ProgressFactory | None = None,
    work_dir: Path | None = None,
    bundles: bool = False,
) -> GenerationReport:
    """Build the whole province in one transaction: nothing is left half-generated.

    ``bundles``: also the ready-made bundles (一件事) of every prefecture (the command's default;
    ``load_demo`` makes them after its demo cases instead)."""
    code = province_code or settings.YIWANG_PROVINCE_CODE
    if items < 1:
        raise DomainError(_("事项数须为正整数。"), field="items")
    if province_exists(code):
        raise DomainError(
            _("区划 %(code)s 已生成过实施清单；请换用新的数据目录（YIWANG_DATA_DIR）或数据库。")
            % {"code": code},
            field="province",
        )
    rng = random.Random(seed)
    report = GenerationReport(province=code)
    work_dir = work_dir or Path(settings.DATA_DIR) / "generated"
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = round(now - clock, 2)
        clock = now

    def bar(phase: str, total: int):
        return progress(phase, total) if progress else None

    with transaction.atomic():
        regions = build_regions(code, rng=rng, work_dir=work_dir, cities=cities, townships=townships)
        room = room_for(regions, catalogue_specs())
        if items > room:
            raise too_many(items, room)  # before the slow part, and the transaction undoes the regions
        layout = ProvinceLayout(province=regions[0], regions=regions)
        build_departments(layout, rng)
        build_halls(layout, rng)
        for r in regions:
            report.regions[r.level] = report.regions.get(r.level, 0) + 1
        report.departments = sum(len(d) for d in layout.departments.values())
        report.halls = len(layout.halls)
        lap("regions")

        standards, materials, specs = load_standard_catalogue()
        load_synonyms()
        report.standard_items = len(standards)
        lap("catalogue")

        # The bundle step claims the members the draw did not make and adds each bundle's own
        # item: draw fewer by the most it can add, then top up to exactly ``items``.
        reserve = 0
        if bundles:
            from .bundles import build_bundles, most_items

            reserve = most_items(regions[0], cities=cities)
            if items < reserve:
                raise DomainError(
                    _("生成各设区市的“一件事”至少需要 %(n)s 个事项；请增加事项数或不生成“一件事”。")
                    % {"n": reserve},
                    field="items",
                )
        b = bar(_("生成实施清单"), items - reserve)
        ids = build_items(layout, standards, materials, specs, items - reserve, rng, progress=b)
        if b:
            b.close()
        lap("items")
        _publish(ids, bar)
        refresh_statistics()
        lap("publish")
        if bundles:
            build_bundles(regions[0], cities=cities)
            lap("bundles")
            made = ServiceItem.objects.filter(region__path__startswith=f"{code}/")
            short = items - made.count()
            if short > 0:
                taken = frozenset(made.values_list("standard_id", "department_id"))
                ids = build_items(layout, standards, materials, specs, short, rng, exclude=taken)
                _publish(ids, None)
                refresh_statistics()
                lap("top-up")
        for level, n in _count_by_level(code).items():
            report.items_by_level[level] = n
        report.items = sum(report.items_by_level.values())
        report.published = ServiceItem.objects.filter(
            region__path__startswith=f"{code}/", current_version__isnull=False
        ).count()
        audit.record(
            "catalog.generate_province",
            object_type="regions.region",
            object_id=code,
            summary=f"generated {report.items} items, {report.published} published",
            detail={"items": report.items, "published": report.published, "seed": seed, "cities": cities},
        )
    return report


def _publish(ids: list[int], bar: ProgressFactory | None) -> int:
    b = bar(_("发布"), len(ids)) if bar else None
    published = bulk_publish([ServiceItem(pk=i) for i in ids], progress=b, actor_label="generator")
    if b:
        b.close()
    return published


def refresh_statistics() -> None:
    """Give the query planner statistics after a bulk load. Without them SQLite looks a guide
    up through the is_current index, which matches every published row, instead of the unique
    code index."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _count_by_level(code: str) -> dict[int, int]:
    from django.db.models import Count

    rows = (
        ServiceItem.objects.filter(region__path__startswith=f"{code}/")
        .values("region__level")
        .annotate(n=Count("id"))
    )
    return {r["region__level"]: r["n"] for r in rows}
