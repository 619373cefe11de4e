"""Writes for processes: definitions (upload, templates), bindings, and running a case's process.

``start_process`` and ``complete_task`` are the contract with the cases app (docs/workflow.md):
the cases app owns the case's state and clock and checks business permissions; the workflow
decides which step comes next and who may do it. Every step runs under a row lock on the
case's WorkflowInstance, so two clerks clicking at once cannot both complete the same task.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, ValidationFailed

from . import engine
from .bpmn_templates import TEMPLATES, to_bpmn
from .models import ProcessBinding, ProcessDefinition, Task, TaskState, WorkflowInstance


def _invalid(exc: engine.ProcessInvalid) -> ValidationFailed:
    return ValidationFailed([FieldError("bpmn", m, "process_invalid") for m in exc.messages])


@transaction.atomic
def upload_definition(
    *, key: str, xml: str, name: str = "", by: str = "", is_template: bool = False
) -> ProcessDefinition:
    """Store a new version of a process; refuse one that does not parse, runs code, or has
    more than 5 approval steps (one message per problem)."""
    try:
        parsed = engine.parse(xml)
    except engine.ProcessInvalid as exc:
        raise _invalid(exc) from exc
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if latest is not None and latest.checksum == parsed.checksum:
        return latest  # the same file uploaded twice is one version
    version = (ProcessDefinition.objects.filter(key=key).aggregate(v=Max("version"))["v"] or 0) + 1
    definition = ProcessDefinition.objects.create(
        key=key,
        version=version,
        name=name or parsed.name,
        process_id=parsed.process_id,
        bpmn_xml=xml,
        approval_steps=parsed.approval_steps,
        checksum=parsed.checksum,
        is_template=is_template,
        created_by=by,
    )
    audit.record(
        "workflow.definition.upload",
        definition,
        summary=f"{key} v{version}",
        detail={"approval_steps": parsed.approval_steps},
    )
    return definition


def ensure_templates() -> dict[str, ProcessDefinition]:
    """The shipped templates, stored once (idempotent: same XML, same version)."""
    out = {}
    for key, template in TEMPLATES.items():
        current = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        if current is None or not current.is_template:
            current = upload_definition(
                key=key, xml=to_bpmn(template), name=template.name, by="system", is_template=True
            )
        out[key] = current
    return out


def definition_for_item(item_id: int, *, is_instant: bool) -> ProcessDefinition:
    binding = ProcessBinding.objects.select_related("definition").filter(item_id=item_id).first()
    if binding:
        return binding.definition
    key = "instant" if is_instant else "promise"
    # One query for the template this case needs; ensure_templates (a query per template) only
    # when it is missing or was replaced by an upload (every submission passes here).
    current = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if current is not None and current.is_template:
        return current
    return ensure_templates()[key]


@transaction.atomic
def bind(item, definition: ProcessDefinition, *, user=None) -> ProcessBinding:
    from yiwang.catalog.services import check_can_edit, mark_changed

    check_can_edit(user, item.department)
    binding, _created = ProcessBinding.objects.update_or_create(
        item=item, defaults={"definition": definition}
    )
    mark_changed(item, user=user, changed_fields=["process"])
    return binding


def _sync_tasks(instance: WorkflowInstance, wf, case, open_rows: list[Task] | None = None) -> list[Task]:
    """Make the open Task rows match the engine's ready user tasks. ``open_rows``: the instance's
    open rows when the caller already holds them (read under the instance lock), saving a query."""
    ready = {t.id: t for t in engine.ready_user_tasks(wf)}
    if open_rows is None:
        open_rows = list(instance.tasks.filter(state=TaskState.OPEN))
    by_uuid = {t.task_uuid: t for t in open_rows}
    gone = [row.pk for uuid, row in by_uuid.items() if uuid not in ready]
    if gone:
        Task.objects.filter(pk__in=gone).update(state=TaskState.CANCELLED, completed_at=timezone.now())
    created = []
    for uuid, t in ready.items():
        if uuid in by_uuid:
            continue
        step = engine.step_of(t)
        created.append(
            Task(
                instance=instance,
                case_id=instance.case_id,
                item_id=getattr(case, "item_id", None),
                task_uuid=uuid,
                spec_name=step.spec_name,
                label=step.label,
                role=step.role,
                decisions=step.decisions,
                department_id=getattr(case, "department_id", None),
                region_path=getattr(getattr(case, "region", None), "path", "") or "",
                assignee_id=(getattr(case, "applicant_id", None) if step.role == "applicant" else None),
                due_date=getattr(case, "due_date", None),
            )
        )
    if created:
        Task.objects.bulk_create(created)
    return created


@transaction.atomic(savepoint=False)  # part of the caller's submission; a savepoint is 2 round trips
def start_process(
    case,
    *,
    data: dict[str, Any] | None = None,
    new_case: bool = False,
    definition: ProcessDefinition | None = None,
) -> list[Task]:
    """Start the case's process (``definition``, or the one its item runs) and open its first
    tasks (idempotent per case). ``new_case``: the caller created the case in this transaction,
    so no instance or task can exist yet (two queries fewer)."""
    if not new_case:
        existing = WorkflowInstance.objects.filter(case_id=case.pk).first()
        if existing is not None:
            return list(existing.tasks.filter(state=TaskState.OPEN))
    if definition is None:
        version = getattr(case, "item_version", None)
        is_instant = bool(version.elements.get("is_instant")) if version is not None else False
        definition = definition_for_item(case.item_id, is_instant=is_instant)
    wf = engine.new_workflow(definition.bpmn_xml, data or {})
    instance = WorkflowInstance(
        case_id=case.pk, definition=definition, state=engine.dump(wf), finished=wf.is_completed()
    )
    schedule_timers(instance, wf)
    instance.save()
    return _sync_tasks(instance, wf, case, open_rows=[])


def complete_task(
    task: Task, *, actor, decision: str, data: dict[str, Any] | None = None, case=None
) -> list[Task]:
    """Complete one open task with a decision the step offers; returns the newly opened tasks.

    Statements: lock the instance, read its open tasks (the task must be among them: another
    clerk may have completed it since the caller read it), mark the task done, save the state,
    insert the next tasks. No savepoint of its own: it is one step of the caller's action, and
    an error here aborts that whole action."""
    with transaction.atomic(savepoint=False):
        instance = WorkflowInstance.objects.select_for_update().get(pk=task.instance_id)
        open_rows = list(instance.tasks.filter(state=TaskState.OPEN))
        row = next((r for r in open_rows if r.pk == task.pk), None)
        wf = engine.load(instance.state) if row is not None else None
        refusal = _refusal(row, wf, decision, data)
        if refusal is None:  # nothing written before this point: a refusal leaves after the block
            now = timezone.now()
            Task.objects.filter(pk=row.pk).update(
                state=TaskState.COMPLETED,
                completed_at=now,
                completed_by_id=getattr(actor, "pk", None),
                decision=decision,
            )
            instance.state = engine.dump(wf)
            instance.finished = wf.is_completed()
            instance.steps += 1
            schedule_timers(instance, wf)
            instance.save(update_fields=["state", "finished", "steps", "next_timer_at", "updated_at"])
            return _sync_tasks(instance, wf, case, open_rows=[r for r in open_rows if r.pk != row.pk])
    # Raised outside the atomic block, which wrote nothing: without a savepoint of its own, an
    # error raised inside would mark a caller's enclosing transaction as broken.
    raise refusal


def _refusal(row: Task | None, wf, decision: str, data: dict[str, Any] | None) -> DomainError | None:
    """Why the task cannot be completed with ``decision`` (None: it can, and ``wf`` moved on)."""
    if row is None:
        return DomainError(_("该环节已由他人办理或已取消，请刷新后重试。"), code="task_closed")
    if row.decisions and decision not in row.decisions:
        return DomainError(
            _("环节“%(step)s”不能作出“%(d)s”的决定。") % {"step": row.label, "d": decision},
            field="decision",
        )
    try:
        engine.complete(wf, row.task_uuid, {"decision": decision, **(data or {})})
    except ValueError:
        return DomainError(_("该环节当前不可办理。"), code="task_not_ready")
    return None


def set_due_date(case, due_date) -> None:
    """Carry the case's due date onto its open tasks (the inbox sorts by it)."""
    Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).update(due_date=due_date)


def assign(task: Task, user) -> None:
    """Put a task in one person's inbox (transfer to a colleague); permission is the caller's."""
    Task.objects.filter(pk=task.pk, state=TaskState.OPEN).update(assignee=user)


def _has_waiting_timer(wf) -> bool:
    from SpiffWorkflow.util.task import TaskState as SpiffState

    return any(
        "Timer" in type(getattr(t.task_spec, "event_definition", None)).__name__
        for t in wf.get_tasks(state=SpiffState.WAITING)
    )


TIMER_SWEEP_SECONDS = 60


def schedule_timers(instance: WorkflowInstance, wf) -> None:
    """SpiffWorkflow only fires timers when asked: note when to look again."""
    instance.next_timer_at = (
        timezone.now() + timezone.timedelta(seconds=TIMER_SWEEP_SECONDS) if _has_waiting_timer(wf) else None
    )


def sweep_timers(*, limit: int = 500) -> int:
    """Fire due timers of waiting processes (periodic job); returns how many instances moved."""
    moved = 0
    due = list(
        WorkflowInstance.objects.filter(next_timer_at__lte=timezone.now(), finished=False).values_list(
            "pk", flat=True
        )[:limit]
    )
    for pk in due:
        with transaction.atomic():
            instance = WorkflowInstance.objects.select_for_update().get(pk=pk)
            wf = engine.load(instance.state)
            before = len(engine.ready_user_tasks(wf))
            wf.refresh_timers()
            wf.do_engine_steps()
            instance.state = engine.dump(wf)
            instance.finished = wf.is_completed()
            schedule_timers(instance, wf)
            instance.save(update_fields=["state", "finished", "next_timer_at", "updated_at"])
            created = _sync_tasks(instance, wf, None)
            if created or len(engine.ready_user_tasks(wf)) != before:
                moved += 1
    return moved


@transaction.atomic(savepoint=False)
def start_process_with(
    case, definition: ProcessDefinition, *, data: dict[str, Any] | None = None
) -> list[Task]:
    """Start ``case`` on a given definition instead of its item's binding (idempotent per case):
    a bundle's branch case runs the branch process, not the member item's own (docs/bundles.md)."""
    return start_process(case, data=data, definition=definition)
