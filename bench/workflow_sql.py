"""The workflow's hand-written statements against the ORM's, path by path: CPU time (median
microseconds), wall time (which includes the round trips) and statements sent.

- ``lock``: a case step's instance lock with its open tasks (``workflow.services.lock_instance``,
  one statement) against ``select_for_update().get(case_id=...)`` and a query for the tasks.
- ``step``: a step's writes (``workflow.services.write_step``: one task completed, one opened).
  Against ``_write_step_orm``: an update, ``save`` and ``bulk_create``. On PostgreSQL only.
- ``definition``: ``definition_for_item`` for an item with no binding (the template), one
  statement, against the same statement built by the ORM (``Coalesce`` of two subqueries).

Each ``*_orm`` figure is the same work through the ORM only; ``*_ratio`` is ORM over ours. If a
ratio falls below 2, the hand-written statement goes (docs/benchmarks.md, "Hand-written SQL kept"). Everything runs in one transaction
that is rolled back. Runs on the database the settings name (``DATABASE_URL``, else the SQLite
file), which needs no data. Prints one JSON object:

    DATABASE_URL=postgres://... PYTHONPATH=src python bench/workflow_sql.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Subquery  # noqa: E402
from django.db.models.functions import Coalesce  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from yiwang.workflow import engine, services  # noqa: E402
from yiwang.workflow.models import (  # noqa: E402
    ProcessBinding,
    ProcessDefinition,
    Task,
    TaskState,
    WorkflowInstance,
)

REPEAT = int(os.environ.get("BENCH_REPEAT", "500"))


def measure(call: Callable[[], object], setup: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Median CPU and wall microseconds of ``call`` (``setup`` before each run, not timed), and
    the statements one call sends."""
    setup()
    with CaptureQueriesContext(connection) as queries:
        call()
    cpu, wall = [], []
    for _ in range(REPEAT):
        setup()
        c, w = time.process_time_ns(), time.perf_counter_ns()
        call()
        cpu.append((time.process_time_ns() - c) / 1000)
        wall.append((time.perf_counter_ns() - w) / 1000)
    return {
        "cpu_us": round(statistics.median(cpu), 1),
        "wall_us": round(statistics.median(wall), 1),
        "statements": len(queries),
    }


def lock_orm(case_id: int) -> tuple[WorkflowInstance, list[Task]]:
    instance = WorkflowInstance.objects.select_for_update().get(case_id=case_id)
    return instance, list(instance.tasks.filter(state=TaskState.OPEN).order_by("created_at", "id"))


def definition_orm(item_id: int, key: str) -> ProcessDefinition | None:
    bound = ProcessBinding.objects.filter(item_id=item_id).values("definition_id")[:1]
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").values("id")[:1]
    return (
        ProcessDefinition.objects.annotate(bound_id=Subquery(bound))
        .filter(pk=Coalesce(Subquery(bound), Subquery(latest)))
        .first()
    )


def main() -> None:
    result: dict[str, Any] = {"database": connection.vendor, "repeat": REPEAT}
    case_ids = iter(range(10**9, 2 * 10**9))

    def case() -> SimpleNamespace:
        return SimpleNamespace(
            pk=next(case_ids),
            item_id=None,
            department_id=None,
            region=None,
            applicant_id=None,
            due_date=None,
            item_version=None,
        )

    with transaction.atomic():
        definition = services.ensure_templates()["promise"]
        sample = case()
        (first,) = services.start_process(sample, new_case=True, definition=definition)

        result["lock"] = measure(lambda: services.lock_instance(sample.pk))
        result["lock_orm"] = measure(lambda: lock_orm(sample.pk))

        # A step: the open task completed again (same row), a new task opened.
        locked = services.lock_instance(sample.pk)
        assert locked is not None
        instance, wf = locked.instance, engine.load(locked.instance.state)
        (ready,) = engine.ready_user_tasks(wf)
        step: dict[str, Any] = {}

        def new_step() -> None:
            row = services.task_row(instance, sample, ready)
            row.task_uuid = uuid.uuid4()
            step["created"] = [row]

        now = timezone.now()
        done = [([first.pk], {"state": TaskState.COMPLETED, "completed_at": now, "decision": "accept"})]
        if connection.vendor == "postgresql":
            result["step"] = measure(
                lambda: services._write_step_pg(done, instance, step["created"], now), new_step
            )
            result["step_orm"] = measure(
                lambda: services._write_step_orm(done, instance, step["created"]), new_step
            )

        result["definition"] = measure(lambda: services.definition_for_item(-1, is_instant=False))
        result["definition_orm"] = measure(lambda: definition_orm(-1, "promise"))
        transaction.set_rollback(True)
    for path in ("lock", "step", "definition"):
        if path in result:
            ours, orm = result[path], result[f"{path}_orm"]
            result[f"{path}_cpu_ratio"] = round(orm["cpu_us"] / ours["cpu_us"], 2)
            result[f"{path}_wall_ratio"] = round(orm["wall_us"] / ours["wall_us"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
