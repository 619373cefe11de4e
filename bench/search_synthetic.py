"""Search benchmark on a synthetic province (not collected by pytest).

Builds ~70,000 published items directly as rows (no services: the point is the index and the
queries), using the generator's real item names, legal bases and material names, then times
``rebuild_index``, batched ``index_versions`` and a fixed query mix. Run against a scratch
database only:

    YIWANG_DATA_DIR=/tmp/search_bench .venv/bin/yiwang migrate
    YIWANG_DATA_DIR=/tmp/search_bench .venv/bin/python bench/search_synthetic.py --items 70000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/search_bench ... (same two commands)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from yiwang.catalog.generator.catalogue import ITEMS, POWERS, SUBITEMS  # noqa: E402
from yiwang.catalog.generator.materials import MATERIALS  # noqa: E402
from yiwang.catalog.models import ServiceItem, ServiceItemVersion, StandardItem  # noqa: E402
from yiwang.catalog.search import index_versions, rebuild_index, search_items  # noqa: E402
from yiwang.regions.models import Department, DepartmentKind, Region  # noqa: E402

TYPES = {
    "L": "licensing",
    "C": "confirmation",
    "B": "benefit",
    "V": "levy",
    "A": "award",
    "J": "adjudication",
    "I": "inspection",
    "P": "penalty",
    "E": "enforcement",
    "O": "other_power",
    "S": "public_service",
}
AUDIENCE = {"p": "person", "c": "company", "b": "both"}
QUERIES = [
    ("护照", {}),
    ("社保", {}),
    ("证", {}),
    ("身份证", {}),
    ("营业执照", {}),
    ("食品经营许可", {}),
    ("shebao", {}),
    ("sb", {}),
    ("hz", {}),
    ("huzhao", {}),
    ("结婚登记", {}),
    ("公司 变更", {}),
    ("户口迁移", {}),
    ("不动产登记", {}),
    ("医疗", {}),
    ("许可", {}),
    ("登记", {}),
    ("申请", {}),
    ("行政处罚", {}),
    ("gjj", {}),
    ("公积金提取", {}),
    ("驾驶证", {}),
    ("护照", {"region_code": "350100"}),
    ("证", {"region_code": "350102"}),
    ("登记", {"audience": "person"}),
    ("许可", {"item_type": "licensing", "level": 3}),
    ("申请", {"region_code": "350200", "page": 5}),
    ("", {"region_code": "350103"}),
    ("", {"level": 2, "page": 3}),
    ("处罚", {"department_id": "first"}),
]


def standards() -> list[dict]:
    specs = []
    for kind, block in ITEMS.items():
        for line in block.strip().splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 11:
                continue
            name, typ, aud, days, levels, weight, subs, result, _themes, mats, basis = parts[:11]
            words = SUBITEMS.get(subs, [s for s in subs.split(",") if s]) or [""]
            for word in words:
                full = name.replace("{}", word) if "{}" in name else (f"{name}（{word}）" if word else name)
                specs.append(
                    {
                        "kind": kind,
                        "name": full,
                        "type": TYPES[typ],
                        "audience": AUDIENCE[aud],
                        "levels": levels,
                        "weight": int(weight or 5),
                        "result": result,
                        "basis": basis,
                        "materials": [
                            MATERIALS[m][0].replace("{item}", full) for m in mats.split(",") if m in MATERIALS
                        ],
                    }
                )
    for line in POWERS.strip().splitlines():
        if line.count("|") < 3:
            continue
        kind, typ, name, basis = [p.strip() for p in line.split("|")][:4]
        specs.append(
            {
                "kind": kind,
                "name": name,
                "type": TYPES[typ],
                "audience": "both",
                "levels": "1234" if kind == "xzzf" else "123",
                "weight": 9,
                "result": "",
                "basis": basis,
                "materials": [],
            }
        )
    return specs


def build(target: int) -> None:
    rnd = random.Random(7)
    kinds = [k.value for k in DepartmentKind]
    with transaction.atomic():
        prov = Region.objects.create(code="350000", name="福建省", level=1)
        regions = [prov]
        for c in range(1, 10):
            city = Region.objects.create(code=f"35{c:02d}00", name=f"第{c}市", level=2, parent=prov)
            regions.append(city)
            for k in range(1, 11):
                county = Region.objects.create(
                    code=f"35{c:02d}{k:02d}", name=f"第{c}市{k}区", level=3, parent=city
                )
                regions.append(county)
                for t in range(1, 11):
                    regions.append(
                        Region.objects.create(
                            code=f"{county.code}{t:03d}", name=f"{county.name}{t}街道", level=4, parent=county
                        )
                    )
        depts: dict[tuple[int, str], Department] = {}
        rows = []
        for region in regions:
            for i, kind in enumerate(kinds if region.level < 4 else ["xzzf"]):
                rows.append(
                    Department(
                        region=region,
                        kind=kind,
                        code=f"{i + 1:03d}",
                        name=f"{region.name}{DepartmentKind(kind).label}局",
                    )
                )
        for d in Department.objects.bulk_create(rows):
            depts[(d.region_id, d.kind)] = d
        specs = standards()
        std_rows = []
        for n, s in enumerate(specs):
            std_rows.append(
                StandardItem(
                    basic_code=f"{n:011d}",
                    name=s["name"],
                    item_type=s["type"],
                    department_kind=s["kind"],
                    audience=s["audience"],
                    legal_basis=s["basis"],
                    result_name=s["result"],
                    levels=s["levels"],
                )
            )
        stds = StandardItem.objects.bulk_create(std_rows)
        slots = []
        for s, std in zip(specs, stds, strict=True):
            for region in regions:
                if str(region.level) in s["levels"] and (region.level < 4 or s["kind"] == "xzzf"):
                    slots.append((s, std, region))
        rnd.shuffle(slots)
        slots = sorted(slots[:target], key=lambda x: (x[1].basic_code, x[2].code))
        now = timezone.now()
        for start in range(0, len(slots), 5000):
            chunk = slots[start : start + 5000]
            items = ServiceItem.objects.bulk_create(
                [
                    ServiceItem(
                        standard=std,
                        region=r,
                        department=depts[(r.id, s["kind"] if r.level < 4 else "xzzf")],
                        code=f"{std.basic_code}{r.code.ljust(9, '0')}001",
                        status="published",
                    )
                    for s, std, r in chunk
                ]
            )
            versions = []
            for (s, _std, r), item in zip(chunk, items, strict=True):
                dept = item.department
                elements = {
                    "code": item.code,
                    "name": s["name"],
                    "aliases": [],
                    "legal_basis": s["basis"],
                    "acceptance_conditions": "符合法律法规规定条件的申请人均可申请。"
                    + (
                        "申请人应当具有完全民事行为能力。" if rnd.random() < 0.5 else "申请单位应当依法设立。"
                    ),
                    "extra_conditions": "",
                    "result_name": s["result"],
                    "materials": [{"name": m} for m in s["materials"]],
                    "department": {"id": dept.id, "name": dept.name},
                    "region": {"code": r.code},
                }
                versions.append(
                    ServiceItemVersion(
                        item=item,
                        number=1,
                        elements=elements,
                        published_at=now,
                        published_by="bench",
                        is_current=True,
                        code=item.code,
                        name=s["name"],
                        region=r,
                        region_level=r.level,
                        region_path=r.path,
                        department=dept,
                        department_kind=dept.kind,
                        item_type=s["type"],
                        for_person=s["audience"] in ("person", "both"),
                        for_company=s["audience"] in ("company", "both"),
                    )
                )
            ServiceItemVersion.objects.bulk_create(versions)
        print(f"built {len(regions)} regions, {len(stds)} standard items, {len(slots)} items", flush=True)


def _cpu_seconds() -> float:
    """CPU used by this process and, on PostgreSQL, by its backend: a figure that the other
    work on a shared machine does not inflate, unlike wall time."""
    used = time.process_time()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=70_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-rebuild", action="store_true")
    args = parser.parse_args()
    if not ServiceItemVersion.objects.exists():
        build(args.items)
    print(f"database: {connection.vendor}", flush=True)
    t = time.perf_counter()
    count = rebuild_index() if "--no-rebuild" not in sys.argv else 0
    print(f"rebuild_index: {count} items in {time.perf_counter() - t:.1f}s", flush=True)
    versions = list(ServiceItemVersion.objects.filter(is_current=True).order_by("id")[:5000])
    t = time.perf_counter()
    for start in range(0, len(versions), 500):
        index_versions(versions[start : start + 500])
    per = (time.perf_counter() - t) / len(versions) * 1e3
    print(f"index_versions (re-index, batches of 500): {per:.2f} ms/item", flush=True)
    first_dept = Department.objects.order_by("id").values_list("id", flat=True).first()
    all_times: list[float] = []
    cpu_total = 0.0
    print(f"load average: {os.getloadavg()}  cores: {os.cpu_count()}")
    print(f"{'query':<24}{'filters':<44}{'total':>7}{'p50 ms':>9}{'p95 ms':>9}{'cpu ms':>9}")
    for q, filters in QUERIES:
        filters = {k: (first_dept if v == "first" else v) for k, v in filters.items()}
        times = []
        cpu0 = _cpu_seconds()
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = search_items(q, **filters)
            times.append((time.perf_counter() - t) * 1e3)
        cpu = (_cpu_seconds() - cpu0) / args.repeat * 1e3
        cpu_total += cpu
        times.sort()
        all_times += times
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(
            f"{q!r:<24}{str(filters):<44}{result.total:>7}{statistics.median(times):>9.1f}{p95:>9.1f}{cpu:>9.1f}",
            flush=True,
        )
    all_times.sort()
    print(
        f"ALL: p50 {statistics.median(all_times):.1f} ms  p95 {all_times[int(len(all_times) * 0.95)]:.1f} ms  "
        f"max {all_times[-1]:.1f} ms over {len(all_times)} searches; "
        f"mean CPU per search {cpu_total / len(QUERIES):.1f} ms (this process + database backend)"
    )
    hello = hello_cpu_ms()
    mean_cpu = cpu_total / len(QUERIES)
    print(
        f"baseline: hello-world request through Django's test client, {hello:.3f} ms CPU; "
        f"mean CPU per search = {mean_cpu / hello:.1f} x hello"
    )
    print(f"load average: {os.getloadavg()}")
    sys.stdout.flush()


def hello_cpu_ms(requests: int = 300) -> float:
    """Median CPU milliseconds of Django's hello-world view in this process (test client, whole
    middleware stack): the baseline the search figures are read against (docs/benchmarks.md)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/hello/")
    samples = []
    for _ in range(requests):
        t = time.process_time()
        client.get("/hello/")
        samples.append((time.process_time() - t) * 1e3)
    return statistics.median(samples)


if __name__ == "__main__":
    main()
