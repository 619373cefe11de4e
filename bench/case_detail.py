"""Cost of the case page's reads on PostgreSQL: ``cases.selectors._case_detail_in_one_statement``
(timeline, current materials, notices, open tasks, the open correction request and clock
pauses as one hand-written statement of JSON arrays) against ``_case_detail_orm`` (the same
six reads as ORM queries). Median CPU and wall-clock microseconds and statements per call, for
the case with the most events, as staff and as the applicant see it.

Needs PostgreSQL (``DATABASE_URL``) holding at least one case (``make demo``). Prints one JSON
object:

    DATABASE_URL=postgres://... PYTHONPATH=src python bench/case_detail.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from yiwang.cases import selectors  # noqa: E402
from yiwang.cases.models import Case  # noqa: E402

REPEAT = 500


def measure(call: Callable[[], object]) -> dict[str, float]:
    """Median CPU and wall microseconds of ``call`` over ``REPEAT`` runs after a counted warm-up."""
    with CaptureQueriesContext(connection) as ctx:
        call()
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(REPEAT):
        t, w = time.process_time_ns(), time.perf_counter_ns()
        call()
        cpu.append((time.process_time_ns() - t) / 1000)
        wall.append((time.perf_counter_ns() - w) / 1000)
    return {
        "cpu_us": round(statistics.median(cpu), 1),
        "wall_us": round(statistics.median(wall), 1),
        "statements": len(ctx.captured_queries),
    }


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only: set DATABASE_URL")
    pk = Case.objects.annotate(n=Count("events")).order_by("-n", "pk").values_list("pk", flat=True).first()
    if pk is None:
        raise SystemExit("no case in the database: fill it first (make demo)")
    case = Case.objects.select_related("department", "region", "application", "item_version").get(pk=pk)
    result: dict[str, object] = {"database": connection.vendor, "events": case.events.count()}
    for who, for_applicant in (("staff", False), ("applicant", True)):
        pg = measure(lambda: selectors._case_detail_in_one_statement(case, for_applicant))  # noqa: B023
        orm = measure(lambda: selectors._case_detail_orm(case, for_applicant))  # noqa: B023
        result[who] = {
            "pg": pg,
            "orm": orm,
            "cpu_ratio": round(orm["cpu_us"] / pg["cpu_us"], 2),
            "wall_ratio": round(orm["wall_us"] / pg["wall_us"], 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
