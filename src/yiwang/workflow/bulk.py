"""Several workflow steps written together, for callers that move many tasks or start many
processes in one action (a bundle's unified acceptance starts seven branch processes; its last
branch decision completes the umbrella's branch wait tasks at once).

Same rules as ``services.start_process`` and ``services.complete_task`` (the instance row lock,
the open rows re-read under it, the decisions a step offers, the ready user tasks as open Task
rows), with one load and one save of the engine state per instance and one INSERT per table,
instead of one of each per task or process.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState as SpiffState

from yiwang.core.errors import DomainError

from . import engine
from .models import ProcessDefinition, Task, TaskState, WorkflowInstance
from .services import _refusal, _task_changes, lock_instance, schedule_timers, task_row, write_step


def _run_together(wf, steps: list[tuple[Task, str]]) -> None:
    """Complete each (task row, decision) in the engine, then run the engine's own steps once
    (``engine.complete`` runs them after every task: for a wide parallel process that walk is
    most of the cost). Refused as ``services.complete_task`` would refuse each one."""
    for row, decision in steps:
        if row.decisions and decision not in row.decisions:
            raise _refusal(row, None, decision, None)  # the "not a decision of this step" error
        task = wf.get_task_from_id(row.task_uuid)
        if task is None or task.state != SpiffState.READY:
            raise DomainError(_("该环节当前不可办理。"), code="task_not_ready")
        task.data.update({"decision": decision})
        task.run()
    wf.do_engine_steps()


@transaction.atomic(savepoint=False)
def start_processes(starts: list[tuple[Any, ProcessDefinition]]) -> list[Task]:
    """Start the processes of cases created in this transaction (no instance can exist yet):
    ``starts`` = [(case, definition)]. Returns the opened tasks of all of them. The engine runs
    once per definition; the other starts of it get a copy of that start with new task ids
    (``engine.started_copies``)."""
    if not starts:
        return []
    by_definition: dict[int, list[Any]] = defaultdict(list)
    for case, definition in starts:
        by_definition[definition.pk].append((case, definition))
    instances, rows = [], []
    for group in by_definition.values():
        definition = group[0][1]
        wf = engine.new_workflow(definition.bpmn_xml, {})
        # (the started workflow whose ready tasks give the rows, the state to store, and the map
        # from that workflow's task ids to the stored state's: None when they are its own)
        entries: list[tuple[Any, dict, dict | None]] = [(wf, engine.dump(wf), None)]
        copies = engine.started_copies(wf, len(group) - 1)
        if copies is None:  # one engine start each
            for _ in group[1:]:
                other = engine.new_workflow(definition.bpmn_xml, {})
                entries.append((other, engine.dump(other), None))
        else:
            entries += [(wf, state, ids) for state, ids in copies]
        for (case, _definition), (flow, state, ids) in zip(group, entries, strict=True):
            instance = WorkflowInstance(
                case_id=case.pk, definition=definition, state=state, finished=flow.is_completed()
            )
            schedule_timers(instance, flow)
            instances.append(instance)
            for t in engine.ready_user_tasks(flow):
                row = task_row(instance, case, t)
                if ids is not None:
                    row.task_uuid = ids[t.id]
                rows.append(row)
    WorkflowInstance.objects.bulk_create(instances)
    Task.objects.bulk_create(rows)  # each row takes its instance's id, now written
    return rows


def complete_tasks(
    instance_id: int | None, decisions: dict[str, str], *, actor=None, case=None
) -> tuple[list[Task], list[str]]:
    """Complete the open tasks of one instance named in ``decisions`` (step name → decision) in
    one step, under the instance's row lock. Steps with no open task (none ready, or completed
    by another step since the caller looked) are left out. Returns (the newly opened tasks, the
    step names completed here). ``instance_id`` None: the instance of ``case``."""
    with transaction.atomic(savepoint=False):
        if instance_id is None:  # the case's (one statement: the lock and its open tasks)
            found = lock_instance(case.pk)
            if found is None:
                return [], []
            instance, open_rows = found.instance, list(found.open_tasks)
        else:
            instance = WorkflowInstance.objects.select_for_update().get(pk=instance_id)
            open_rows = list(instance.tasks.filter(state=TaskState.OPEN))
        rows = [r for r in open_rows if r.spec_name in decisions]
        if not rows:
            return [], []
        wf = engine.load(instance.state)
        _run_together(wf, [(row, decisions[row.spec_name]) for row in rows])
        now = timezone.now()
        by_decision: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_decision[decisions[row.spec_name]].append(row.pk)
        done = [
            (
                ids,
                {
                    "state": TaskState.COMPLETED,
                    "completed_at": now,
                    "completed_by_id": getattr(actor, "pk", None),
                    "decision": decision,
                },
            )
            for decision, ids in by_decision.items()
        ]
        instance.state = engine.dump(wf)
        instance.finished = wf.is_completed()
        instance.steps += len(rows)
        schedule_timers(instance, wf)
        completed = {r.pk for r in rows}
        opened = _task_changes(instance, wf, case, [r for r in open_rows if r.pk not in completed])
        write_step(done, instance, opened, now)  # as a single step writes (one statement on PostgreSQL)
        return opened, [r.spec_name for r in rows]
