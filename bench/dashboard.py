"""The live dashboard's data endpoint (/dashboard/data.json), server side, beside Django's
hello-world in the same run. Seeds a province of rollups (no cases: the dashboard reads only
``DailyFigure``, the region names and the ten newest cases) into a migrated database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dash PYTHONPATH=src:. \
        .venv/bin/yiwang migrate
    DATABASE_URL=… PYTHONPATH=src:. .venv/bin/python bench/dashboard.py --cities 9 --counties 10 --items 20

Rollup rows: 30 days × cities × counties × items (one department per county). Measures, through
Django's test client (the whole middleware stack, no network): the endpoint with the cache
cleared before each request (the cost of a computation, paid once per cache period per scope
and language), the endpoint served from the cache (what every other screen and stream poll
costs), and /hello/. Prints one JSON object: milliseconds p50/p95/p99, the queries of one
computation, and the ratios to hello-world."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from registry_lookup import figures  # noqa: E402
from yiwang.regions.models import Region, RegionLevel  # noqa: E402
from yiwang.supervision import dashboard  # noqa: E402
from yiwang.supervision.models import DailyFigure  # noqa: E402


def seed(cities: int, counties: int, items: int) -> int:
    """The province's regions, departments, items and 30 days of rollups, unless present."""
    from tests import factories

    if DailyFigure.objects.exists():
        return DailyFigure.objects.count()
    prov = Region.objects.create(code="350000", name="福建省", level=RegionLevel.PROVINCE)
    # One implementation per standard item and department: one standard item per item slot.
    stds = [factories.standard_item(basic_code=f"0102{i + 1:07d}", name=f"事项{i + 1}") for i in range(items)]
    today = timezone.localdate()
    rows = []
    for c in range(cities):
        city = Region.objects.create(
            code=f"35{c + 1:02d}00", name=f"第{c + 1}市", level=RegionLevel.CITY, parent=prov
        )
        for k in range(counties):
            county = Region.objects.create(
                code=f"35{c + 1:02d}{k + 1:02d}",
                name=f"第{c + 1}市{k + 1}区",
                level=RegionLevel.COUNTY,
                parent=city,
            )
            dept = factories.department(county)
            for i in range(items):
                item = factories.implementation(stds[i], dept)
                for d in range(30):
                    n = 5 + (c * 7 + k * 3 + i + d) % 20
                    rows.append(
                        DailyFigure(
                            day=today - dt.timedelta(days=d),
                            region=county,
                            department=dept,
                            item=item,
                            received=n,
                            accepted=n - 1,
                            decided=n - 2,
                            timed=n - 2,
                            on_time=n - 3,
                            overdue=1,
                            fully_online=n // 2,
                            one_visit=n - 1,
                            rated=3,
                            satisfied=2 + (d % 2),
                        )
                    )
        DailyFigure.objects.bulk_create(rows, batch_size=5000)
        rows = []
    return DailyFigure.objects.count()


def timed(client: Client, path: str, n: int, *, cold: bool) -> list[float]:
    ms = []
    for _ in range(n):
        if cold:
            cache.clear()
        t0 = time.perf_counter()
        r = client.get(path)
        ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.status_code
    return ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cities", type=int, default=9)
    parser.add_argument("--counties", type=int, default=10)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup_test_environment()  # the test client's host
    rows = seed(args.cities, args.counties, args.items)
    client = Client()
    for path in ("/dashboard/data.json", "/hello/"):  # warm up: connection, templates
        timed(client, path, 5, cold=True)
    cache.clear()
    with CaptureQueriesContext(connection) as q:
        dashboard.dashboard_data(dashboard.PUBLIC, language="zh-hans")
    cold = timed(client, "/dashboard/data.json", args.requests, cold=True)
    warm = timed(client, "/dashboard/data.json", args.requests * 5, cold=False)
    hello = timed(client, "/hello/", args.requests * 5, cold=False)
    out = {
        "database": connection.vendor,
        "rollup_rows": rows,
        "queries_per_computation": len(q.captured_queries),
        "computed_ms": figures(cold),
        "cached_ms": figures(warm),
        "hello_ms": figures(hello),
    }
    out["computed_p95_per_hello_p95"] = round(out["computed_ms"]["p95"] / out["hello_ms"]["p95"], 1)
    out["cached_p95_per_hello_p95"] = round(out["cached_ms"]["p95"] / out["hello_ms"]["p95"], 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
