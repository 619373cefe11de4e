"""Is every process consistent with its inbox rows? (issue 6; ``yiwang check-consistency``)

The serialized workflow (``WorkflowInstance.state``) says which user tasks are ready; the
``Task`` rows are the index the inboxes read. Both are written in one transaction per step
(``services``), so after any crash they must still agree: the open Task rows of an instance
are exactly the engine's ready user tasks, a finished process has no open row, and the
``finished`` flag matches the engine. This module only reads; it never repairs (a repair
would hide the bug that made the difference).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction

from . import engine
from .models import Task, TaskState, WorkflowInstance


@dataclass(frozen=True)
class Problem:
    case_id: int
    instance_id: int
    message: str

    def __str__(self) -> str:
        return f"case {self.case_id} (instance {self.instance_id}): {self.message}"


def check_instance(instance: WorkflowInstance) -> list[Problem]:
    problems: list[Problem] = []

    def bad(message: str) -> None:
        problems.append(Problem(instance.case_id, instance.pk, message))

    try:
        wf = engine.load(instance.state)
    except Exception as exc:  # a state that does not load is itself the finding
        bad(f"serialized workflow does not load: {type(exc).__name__}: {exc}")
        return problems
    ready = {str(t.id): t.task_spec.name for t in engine.ready_user_tasks(wf)}
    rows = list(Task.objects.filter(instance=instance).values("task_uuid", "state", "spec_name"))
    open_rows: dict[str, str] = {}
    for row in rows:
        if row["state"] != TaskState.OPEN:
            continue
        uuid = str(row["task_uuid"])
        if uuid in open_rows:
            bad(f"two open rows for task {uuid}")
        open_rows[uuid] = row["spec_name"]
    for uuid in sorted(set(ready) - set(open_rows)):
        bad(f"ready task {ready[uuid]} ({uuid}) has no open inbox row")
    for uuid in sorted(set(open_rows) - set(ready)):
        bad(f"open inbox row {open_rows[uuid]} ({uuid}) is not a ready task of the process")
    if bool(instance.finished) != bool(wf.is_completed()):
        bad(f"finished flag is {instance.finished}, the engine says {wf.is_completed()}")
    return problems


def instance_ids(*, case_ids: list[int] | None = None) -> list[int]:
    qs = WorkflowInstance.objects.order_by("pk")
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    return list(qs.values_list("pk", flat=True))


def check(*, case_ids: list[int] | None = None) -> Iterator[Problem]:
    """Check every instance (or those of ``case_ids``). Each one is read under its row lock, so
    a step running at the same moment is seen before or after, never half done."""
    for pk in instance_ids(case_ids=case_ids):
        with transaction.atomic():
            instance = WorkflowInstance.objects.select_for_update().filter(pk=pk).first()
            if instance is None:
                continue
            yield from check_instance(instance)
