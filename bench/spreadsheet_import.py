"""Measure spreadsheet export and import at province scale (not collected by pytest).

    YIWANG_DATA_DIR=/tmp/sheets .venv/bin/yiwang migrate
    YIWANG_DATA_DIR=/tmp/sheets .venv/bin/python bench/spreadsheet_import.py create --rows 10000
    YIWANG_DATA_DIR=/tmp/sheets .venv/bin/python bench/spreadsheet_import.py update --rows 10000
    YIWANG_DATA_DIR=/tmp/sheets .venv/bin/python bench/spreadsheet_import.py export

``create`` builds its own regions, departments and standard items (prefix 3598..) and imports
``--rows`` new implementations with 5% bad rows; ``update`` exports ``--rows`` existing items
(e.g. from ``yiwang generate-province``), changes every row, spoils 5% and imports the file back;
``export`` writes every implementation and reports time and peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from openpyxl import Workbook, load_workbook  # noqa: E402

from yiwang.catalog.models import ServiceItem, StandardItem, StandardMaterial  # noqa: E402
from yiwang.catalog.spreadsheets import export_items, import_items  # noqa: E402
from yiwang.catalog.spreadsheets.columns import COLUMNS  # noqa: E402
from yiwang.catalog.spreadsheets.exporting import items_for_export, write_items  # noqa: E402
from yiwang.regions.models import Department, Region, RegionLevel  # noqa: E402

KEYS = [c.key for c in COLUMNS]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(rows: int) -> tuple[list[Region], list[StandardItem]]:
    n_counties = 20
    n_std = -(-rows // n_counties)
    prov = Region.objects.filter(code="359800").first() or Region.objects.create(
        code="359800", name="测试省", level=RegionLevel.PROVINCE
    )
    counties = []
    for i in range(n_counties):
        c = Region.objects.filter(code=f"3598{i + 1:02d}").first() or Region.objects.create(
            code=f"3598{i + 1:02d}", name=f"测试县{i}", level=RegionLevel.COUNTY, parent=prov
        )
        Department.objects.get_or_create(
            region=c, code="901", defaults={"kind": "scjgj", "name": f"{c.name}市场监督管理局", "phone": "1"}
        )
        counties.append(c)
    StandardItem.objects.bulk_create(
        [
            StandardItem(
                basic_code=f"01098{i:04d}00",
                name=f"测试许可{i}",
                item_type="licensing",
                department_kind="scjgj",
                audience="company",
                legal_basis="《测试条例》",
                statutory_limit_days=20,
                levels="234",
            )
            for i in range(n_std)
        ],
        ignore_conflicts=True,
    )
    standards = list(
        StandardItem.objects.filter(basic_code__startswith="01098").order_by("basic_code")[:n_std]
    )
    StandardMaterial.objects.bulk_create(
        [StandardMaterial(standard=s, name="申请书", sort=1) for s in standards if not s.materials.exists()]
    )
    return counties, standards


def create(rows: int) -> None:
    counties, standards = build(rows)
    ServiceItem.objects.filter(region__in=counties).delete()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实施清单")
    ws.append([c.header for c in COLUMNS])
    n = bad = 0
    for std in standards:
        for county in counties:
            if n >= rows:
                break
            cells = {
                "standard": std.basic_code,
                "region": county.code,
                "department": "901",
                "promised_limit_days": 25 if n % 20 == 7 else 10,
                "online_depth": "全程网办（四级）",
                "channels": "网上办事大厅、移动端",
                "consult_phone": "0591-1",
                "materials": "申请书|原件|1|必要|申请人自备\n身份证|电子件|1|必要|电子证照||居民身份证",
            }
            bad += n % 20 == 7
            ws.append([cells.get(k) for k in KEYS])
            n += 1
    path = Path(tempfile.mkdtemp()) / "create.xlsx"
    wb.save(path)
    report(path, n, bad)


def update(rows: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "export.xlsx"
    items = items_for_export().exclude(region__code__startswith="3598")[:rows]
    t = time.monotonic()
    n = write_items(items, src)
    print(f"exported {n} rows in {time.monotonic() - t:.1f}s")
    rb = load_workbook(src, read_only=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实施清单")
    promised, statutory = KEYS.index("promised_limit_days"), KEYS.index("statutory_limit_days")
    bad, stamp = 0, int(time.time())  # a new value each run, so every good row is an update
    for i, row in enumerate(rb.active.iter_rows(values_only=True)):
        row = list(row)
        if i:
            row[KEYS.index("office_hours")] = f"工作日 9:00-17:00（{i}-{stamp}）"
            if i % 20 == 7:
                row[promised], row[statutory] = 30, 20
                bad += 1
        ws.append(row)
    path = tmp / "update.xlsx"
    wb.save(path)
    report(path, n, bad)


def report(path: Path, n: int, bad: int) -> None:
    print(f"file {path} {path.stat().st_size / 1024 / 1024:.1f} MB, {n} rows, {bad} bad")
    t, cpu = time.monotonic(), time.process_time()
    result = import_items(path)
    elapsed, cpu = time.monotonic() - t, time.process_time() - cpu
    print(result.summary())
    print(
        f"import: {n} rows in {elapsed:.1f}s wall, {cpu:.1f}s CPU = {n / elapsed:.0f} rows/s; "
        f"load {os.getloadavg()[0]:.1f}; peak RSS {peak_mb():.0f} MB"
    )
    assert result.failed == bad, (result.failed, bad, result.errors[:3])


def export() -> None:
    out = Path(tempfile.mkdtemp()) / "all.xlsx"
    t, cpu = time.monotonic(), time.process_time()
    n = export_items(out)
    elapsed, cpu = time.monotonic() - t, time.process_time() - cpu
    size = out.stat().st_size / 1024 / 1024
    print(
        f"export: {n} rows in {elapsed:.1f}s wall, {cpu:.1f}s CPU, {size:.1f} MB; "
        f"load {os.getloadavg()[0]:.1f}; peak RSS {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["create", "update", "export"])
    p.add_argument("--rows", type=int, default=10_000)
    a = p.parse_args()
    {"create": lambda: create(a.rows), "update": lambda: update(a.rows), "export": export}[a.what]()
