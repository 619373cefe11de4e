"""Server-side search latency, in-process: each query of bench/queries.py is run once to warm
up and then REPEAT times; prints one JSON object (percentiles in milliseconds).

Run by run_all.py with YIWANG_DATA_DIR pointing at the benchmark province."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from queries import QUERIES  # noqa: E402
from yiwang.catalog.search import search_items  # noqa: E402
from yiwang.regions.models import Department  # noqa: E402

REPEAT = int(os.environ.get("BENCH_SEARCH_REPEAT", "7"))


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def resolve(filters: dict) -> dict:
    out = dict(filters)
    dept = out.get("department_id")
    if isinstance(dept, str) and dept.startswith("@dept:"):
        _, region, kind = dept.split(":")
        out["department_id"] = Department.objects.get(region__code=region, kind=kind).pk
    return out


def main() -> None:
    samples: list[float] = []
    # CPU time of the calling thread (SQLite runs in it): what a call costs when the process is
    # not waiting for a CPU that other jobs hold.
    cpu: list[float] = []
    by_label: dict[str, list[float]] = {}
    per_query = []
    for label, q, filters in QUERIES:
        kwargs = resolve(filters)
        first = search_items(q, **kwargs)  # warm-up (and the hit count)
        times = []
        for _ in range(REPEAT):
            t, c = time.perf_counter(), time.thread_time()
            search_items(q, **kwargs)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
        samples += times
        by_label.setdefault(label, []).extend(times)
        per_query.append(
            {
                "label": label,
                "q": q,
                "filters": filters,
                "total": first.total,
                "median_ms": round(statistics.median(times), 2),
            }
        )
    result = {
        "queries": len(QUERIES),
        "repeat": REPEAT,
        "calls": len(samples),
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "max_ms": round(max(samples), 2),
        "cpu_p50_ms": round(percentile(cpu, 50), 2),
        "cpu_p95_ms": round(percentile(cpu, 95), 2),
        "cpu_p99_ms": round(percentile(cpu, 99), 2),
        "by_label": {
            k: {"p50_ms": round(percentile(v, 50), 2), "p95_ms": round(percentile(v, 95), 2)}
            for k, v in by_label.items()
        },
        "slowest": sorted(per_query, key=lambda r: -r["median_ms"])[:5],
        "zero_hits": [
            f"{r['q'] or '（空）'} {r['filters']}" if r["filters"] else r["q"]
            for r in per_query
            if r["total"] == 0
        ],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
