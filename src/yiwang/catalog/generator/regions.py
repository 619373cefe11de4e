"""Regions (GB/T 2260 plus generated townships), departments, service halls and counters."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from yiwang.core.errors import DomainError
from yiwang.regions.models import Counter, Department, DepartmentKind, Region, RegionLevel, ServiceHall
from yiwang.regions.services import import_townships_csv, load_gbt2260

from . import names


@dataclass
class ProvinceLayout:
    province: Region
    regions: list[Region]  # every region of the generated province, province first
    departments: dict[int, list[Department]] = field(default_factory=dict)  # by region id
    halls: dict[int, ServiceHall] = field(default_factory=dict)  # by region id

    def by_level(self, level: int) -> list[Region]:
        return [r for r in self.regions if r.level == level]


def write_townships_csv(
    path: Path, counties: list[Region], rng: random.Random, per_county: tuple[int, int]
) -> int:
    """Generate 5-15 townships per county and write them as code,name,parent_code.

    Codes follow the statistical scheme: streets 001-099, towns 100-199, townships 200-399.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "name", "parent_code"])
        for county in counties:
            counters = dict(names.TOWNSHIP_CODE_START)
            for name, kind in names.township_names(county.name, rng.randint(*per_county), rng):
                writer.writerow([f"{county.code}{counters[kind]:03d}", name, county.code])
                counters[kind] += 1
                rows += 1
    return rows


def build_regions(
    province_code: str, *, rng: random.Random, work_dir: Path, cities: int | None, townships: tuple[int, int]
) -> list[Region]:
    """Load the province from GB/T 2260, then townships through the CSV importer."""
    try:
        load_gbt2260(province_code)
    except ValueError as exc:
        raise DomainError(str(exc), field="province") from exc
    province = Region.objects.get(code=province_code)
    all_cities = list(Region.objects.filter(parent=province, level=RegionLevel.CITY).order_by("code"))
    kept_cities = all_cities[:cities] if cities else all_cities
    counties = list(
        Region.objects.filter(level=RegionLevel.COUNTY, parent__in=[province, *kept_cities]).order_by("code")
    )
    if cities:
        # A small province keeps the first cities only: drop the rest so nothing is left empty.
        dropped = [c for c in all_cities if c not in kept_cities]
        Region.objects.filter(parent__in=dropped).delete()
        Region.objects.filter(pk__in=[c.pk for c in dropped]).delete()
    csv_path = work_dir / f"townships-{province_code}.csv"
    write_townships_csv(csv_path, counties, rng, townships)
    report = import_townships_csv(csv_path)
    if report.errors:
        line, err = report.errors[0]
        raise DomainError(
            _("乡镇（街道）导入失败：第%(line)s行 %(msg)s") % {"line": line, "msg": err.message}
        )
    return list(Region.objects.filter(path__startswith=province.path).order_by("level", "code"))


def build_departments(layout: ProvinceLayout, rng: random.Random) -> None:
    """Every line department (a township: its service centre), keeping any that already exist
    (a database where departments were entered by hand) and their codes."""
    by_id = {r.pk: r for r in layout.regions}
    existing: set[tuple[int, str]] = set()
    used_codes: dict[int, set[str]] = {}
    for region_id, kind, code in Department.objects.filter(region__in=layout.regions).values_list(
        "region_id", "kind", "code"
    ):
        existing.add((region_id, kind))
        used_codes.setdefault(region_id, set()).add(code)
    rows: list[Department] = []
    for region in layout.regions:
        city = by_id.get(region.parent_id) if region.level == RegionLevel.COUNTY else None
        taken = used_codes.get(region.pk, set())
        kinds = (
            [DepartmentKind.TOWNSHIP_OFFICE.value]
            if region.level == RegionLevel.TOWNSHIP
            else names.LINE_KINDS
        )
        for kind in kinds:
            if (region.pk, kind) in existing:
                continue
            code = names.kind_code(kind)
            if code in taken:
                code = next(f"{n:03d}" for n in range(100, 1000) if f"{n:03d}" not in taken)
            taken.add(code)
            rows.append(
                Department(
                    region=region,
                    kind=kind,
                    code=code,
                    name=names.department_name(kind, region.level, region.name, city.name if city else ""),
                    credit_code=names.credit_code(region.code, rng),
                    phone=names.phone(region.code, rng),
                    address=names.address(_full_name(region, by_id), rng),
                )
            )
    Department.objects.bulk_create(rows, batch_size=2000)
    for d in Department.objects.filter(region__in=layout.regions).order_by("code"):
        d.region = by_id[d.region_id]
        layout.departments.setdefault(d.region_id, []).append(d)


def _full_name(region: Region, by_id: dict[int, Region]) -> str:
    parts = []
    r: Region | None = region
    while r is not None:
        parts.append(r.name)
        r = by_id.get(r.parent_id) if r.parent_id else None
    return "".join(reversed(parts))


# Departments that keep their own counter in a hall (the rest are served at general counters).
_COUNTER_KINDS = {
    "gaj": "公安综合窗口",
    "rsj": "社保就业窗口",
    "ybj": "医疗保障窗口",
    "zrzyj": "不动产登记窗口",
    "gjj": "住房公积金窗口",
    "swju": "税务窗口",
    "scjgj": "市场主体登记窗口",
    "jtj": "交通运输窗口",
    "zjj": "工程建设项目审批窗口",
    "wjw": "卫生健康窗口",
}


def build_halls(layout: ProvinceLayout, rng: random.Random) -> None:
    by_id = {r.pk: r for r in layout.regions}
    for hall in ServiceHall.objects.filter(region__in=layout.regions).order_by("-id"):
        layout.halls[hall.region_id] = hall  # halls entered earlier are kept, counters and all
    had_hall = set(layout.halls)
    halls: list[ServiceHall] = []
    for region in layout.regions:
        if region.pk in had_hall:
            continue
        if region.level == RegionLevel.TOWNSHIP:
            name = f"{region.name}便民服务中心"
        else:
            name = f"{region.name}行政服务中心"
        halls.append(
            ServiceHall(
                region=region,
                name=name,
                address=names.address(_full_name(region, by_id), rng),
                phone=names.phone(region.code, rng),
                opening_hours=rng.choice(names.OPENING_HOURS),
            )
        )
    ServiceHall.objects.bulk_create(halls, batch_size=2000)
    for hall in ServiceHall.objects.filter(region__in=layout.regions).exclude(region__in=had_hall):
        layout.halls[hall.region_id] = hall
    counters: list[Counter] = []
    links: list[tuple[int, str, int]] = []  # (hall id, counter number, department id)
    for region in layout.regions:
        if region.pk in had_hall:
            continue
        hall = layout.halls[region.pk]
        depts = layout.departments.get(region.pk, [])
        township = region.level == RegionLevel.TOWNSHIP
        for n in range(1, (rng.randint(2, 3) if township else rng.randint(4, 10)) + 1):
            counters.append(Counter(hall=hall, number=f"A{n:02d}", name=_("综合受理窗口"), is_general=True))
        if township:
            counters.append(Counter(hall=hall, number="B01", name=_("社保医保窗口")))
            office = next(d for d in depts if d.kind == DepartmentKind.TOWNSHIP_OFFICE)
            links.append((hall.pk, "B01", office.pk))
        else:
            n = 0
            for d in depts:
                if d.kind in _COUNTER_KINDS:
                    n += 1
                    counters.append(Counter(hall=hall, number=f"B{n:02d}", name=_COUNTER_KINDS[d.kind]))
                    links.append((hall.pk, f"B{n:02d}", d.pk))
        counters.append(Counter(hall=hall, number="C01", name=_("出件窗口")))
    Counter.objects.bulk_create(counters, batch_size=2000)
    ids = {(c.hall_id, c.number): c.pk for c in Counter.objects.filter(hall__in=layout.halls.values())}
    through = Counter.departments.through
    through.objects.bulk_create(
        [through(counter_id=ids[(h, num)], department_id=d) for h, num, d in links], batch_size=2000
    )
