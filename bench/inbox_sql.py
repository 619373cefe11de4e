"""Cost of the inbox's reads on PostgreSQL: the statements written from the scopes
(``workflow.selectors._slice_rows_sql`` and ``_count_sql``) against the ORM path that builds the
same UNION from querysets (``inbox_scopes``, ``_filtered``, ``_walk``). Median CPU and wall-clock
microseconds per call of ``inbox_slice`` (20 rows, as the workbench's page 1 and a next page
ask) and ``inbox_count`` (capped at 1,000), for an approver of one department who is also its
head (three scopes: assigned to them, and each role's open tasks).

The tasks are made in a transaction that is rolled back; the database needs no data. If the
CPU ratio (ORM over written) falls below 2, the written statements go (docs/benchmarks.md,
"Hand-written SQL kept"). Prints one JSON object:

    DATABASE_URL=postgres://... PYTHONPATH=src python bench/inbox_sql.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import factories  # noqa: E402

from yiwang.identity.models import Role, StaffRole  # noqa: E402
from yiwang.workflow import selectors, services  # noqa: E402
from yiwang.workflow.models import Task, TaskState, WorkflowInstance  # noqa: E402
from yiwang.workflow.selectors import InboxKey  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "300"))
TASKS = int(os.environ.get("BENCH_INBOX_TASKS", "400"))


def measure(call: Callable[[], object]) -> dict[str, float]:
    call()
    cpu, wall = [], []
    for _ in range(REPEAT):
        c, w = time.process_time_ns(), time.perf_counter_ns()
        call()
        cpu.append((time.process_time_ns() - c) / 1000)
        wall.append((time.perf_counter_ns() - w) / 1000)
    return {"cpu_us": round(statistics.median(cpu), 1), "wall_us": round(statistics.median(wall), 1)}


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/inbox_sql.py measures the PostgreSQL path: set DATABASE_URL=postgres://...")
    result: dict[str, object] = {"database": connection.vendor, "repeat": REPEAT, "tasks": TASKS}
    with transaction.atomic():
        regions = factories.region_tree()
        dept = factories.department(regions["county"], code="998")
        user = get_user_model().objects.create_user("bench-inbox-approver")
        for role in (Role.APPROVER, Role.DEPARTMENT_HEAD):
            StaffRole.objects.create(user=user, role=role, department=dept, region=dept.region)
        definition = services.ensure_templates()["promise"]
        today = timezone.localdate()
        for n in range(TASKS):
            wi = WorkflowInstance.objects.create(case_id=2 * 10**9 + n, definition=definition, state={})
            Task.objects.create(
                instance=wi,
                case_id=wi.case_id,
                task_uuid=f"00000000-0000-0000-0001-{n:012d}",
                spec_name="review" if n % 3 else "decide",
                label="审查",
                role="approver" if n % 3 else "department_head",
                state=TaskState.OPEN,
                department=dept,
                region_path=dept.region.path,
                assignee=user if n % 17 == 0 else None,
                due_date=today + dt.timedelta(days=n % 40) if n % 11 else None,
            )
        roles = list(StaffRole.objects.filter(user=user).select_related("region"))
        first = selectors.inbox_slice(user, limit=20, roles=roles)
        after = InboxKey.of(first.tasks[-1])
        calls = {
            "page1": lambda: selectors.inbox_slice(user, limit=20, roles=roles),
            "next_page": lambda: selectors.inbox_slice(user, after=after, limit=20, roles=roles),
            "count": lambda: selectors.inbox_count(user, cap=1000, roles=roles),
        }
        original = selectors._use_sql
        try:
            for use_sql, suffix in ((True, ""), (False, "_orm")):
                selectors._use_sql = lambda conn, use_sql=use_sql: use_sql  # type: ignore[assignment]
                for name, call in calls.items():
                    result[name + suffix] = measure(call)
        finally:
            selectors._use_sql = original  # type: ignore[assignment]
        transaction.set_rollback(True)
    for name in calls:
        ours, orm = result[name], result[f"{name}_orm"]
        assert isinstance(ours, dict) and isinstance(orm, dict)
        result[f"{name}_cpu_ratio"] = round(orm["cpu_us"] / ours["cpu_us"], 2)
        result[f"{name}_wall_ratio"] = round(orm["wall_us"] / ours["wall_us"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
