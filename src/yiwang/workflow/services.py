"""Writes for processes: definitions (upload, templates), bindings, and running a case's process.

``start_process`` and ``complete_task`` are the contract with the cases app (docs/workflow.md):
the cases app owns the case's state and clock and checks business permissions; the workflow
decides which step comes next and who may do it. Every step runs under a row lock on the
case's WorkflowInstance, so two clerks clicking at once cannot both complete the same task.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max, Model, signals
from django.db.models.expressions import Col
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, ValidationFailed
from yiwang.core.rows import SignalledModel

from . import engine
from .bpmn_templates import TEMPLATES, to_bpmn
from .models import ProcessBinding, ProcessDefinition, Task, TaskState, WorkflowInstance

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from yiwang.cases.models import Case
    from yiwang.catalog.models import ServiceItem

_M = TypeVar("_M", bound=Model)


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


def xml_for_checksum(checksum: str) -> str | None:
    """The BPMN whose SHA-256 is ``checksum`` (a version's checksum is that of its BPMN, and a
    version never changes): how ``engine.load`` finds the process of a state that names it."""
    return ProcessDefinition.objects.filter(checksum=checksum).values_list("bpmn_xml", flat=True).first()


def ensure_templates() -> dict[str, ProcessDefinition]:
    """The shipped templates, stored once (idempotent: same XML, same version)."""
    out: dict[str, ProcessDefinition] = {}
    for key, template in TEMPLATES.items():
        current = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        if current is None or not current.is_template:
            current = upload_definition(
                key=key, xml=to_bpmn(template), name=template.name, by="system", is_template=True
            )
        out[key] = current
    return out


def definition_for_item(item_id: int, *, is_instant: bool) -> ProcessDefinition:
    """The process the item is bound to, or else the latest template for instant or promise
    items. One hand-written statement on both databases, since every submission passes here and
    the ORM's form of it (``Coalesce`` of two subqueries) costs several times as much to build;
    rows become objects through ``_from_row``, which refuses models with signal receivers.
    ensure_templates (a query per template) only when the template is missing or was replaced
    by an upload."""
    key = "instant" if is_instant else "promise"
    conn = connections[ProcessDefinition.objects.db]
    qn = conn.ops.quote_name
    definitions, bindings = qn(ProcessDefinition._meta.db_table), qn(ProcessBinding._meta.db_table)
    columns = [f.attname for f in ProcessDefinition._meta.concrete_fields]
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join('d.' + qn(c) for c in columns)}, b.definition_id FROM {definitions} d "
            f"LEFT JOIN {bindings} b ON b.item_id = %s "
            "WHERE d.id = COALESCE(b.definition_id, "
            f"(SELECT id FROM {definitions} WHERE {qn('key')} = %s ORDER BY version DESC LIMIT 1))",
            [item_id, key],
        )
        row = cursor.fetchone()
    current = _from_row(ProcessDefinition, tuple(columns), row[:-1], conn) if row else None
    if current is not None and row is not None and (row[-1] is not None or current.is_template):
        return current  # the bound one, or the template
    return ensure_templates()[key]


@transaction.atomic
def bind(
    item: ServiceItem, definition: ProcessDefinition, *, user: User | AnonymousUser | None = None
) -> ProcessBinding:
    from yiwang.catalog.services import check_can_edit, mark_changed

    check_can_edit(user, item.department)
    binding, _created = ProcessBinding.objects.update_or_create(
        item=item, defaults={"definition": definition}
    )
    mark_changed(item, user=user, changed_fields=["process"])
    return binding


def _sync_tasks(
    instance: WorkflowInstance, wf: BpmnWorkflow, case: Case | None, open_rows: list[Task] | None = None
) -> list[Task]:
    """Make the open Task rows match the engine's ready user tasks. ``open_rows``: the instance's
    open rows when the caller already holds them (read under the instance lock), saving a query."""
    if open_rows is None:
        open_rows = list(instance.tasks.filter(state=TaskState.OPEN))
    created = _task_changes(instance, wf, case, open_rows)
    if created:
        Task.objects.bulk_create(created)
    return created


def _task_changes(
    instance: WorkflowInstance, wf: BpmnWorkflow, case: Case | None, open_rows: list[Task]
) -> list[Task]:
    """Cancel the open rows whose engine task is no longer ready; return the rows to insert for
    the newly ready user tasks (not saved)."""
    ready = {t.id: t for t in engine.ready_user_tasks(wf)}
    by_uuid = {t.task_uuid: t for t in open_rows}
    gone = [row.pk for uuid, row in by_uuid.items() if uuid not in ready]
    if gone:
        Task.objects.filter(pk__in=gone).update(state=TaskState.CANCELLED, completed_at=timezone.now())
    created = []
    for uuid, t in ready.items():
        if uuid in by_uuid:
            continue
        created.append(task_row(instance, case, t))
    return created


def task_row(instance: WorkflowInstance, case: Case | None, t: Any) -> Task:
    """The inbox row (not saved) of the engine's ready user task ``t``: the step's label, role and
    decisions, and the case's department, region, item and due date copied for the inbox queries."""
    step = engine.step_of(t)
    return Task(
        instance=instance,
        case_id=instance.case_id,
        item_id=getattr(case, "item_id", None),
        task_uuid=t.id,
        spec_name=step.spec_name,
        label=step.label,
        role=step.role,
        decisions=step.decisions,
        department_id=getattr(case, "department_id", None),
        region_path=getattr(getattr(case, "region", None), "path", "") or "",
        assignee_id=(getattr(case, "applicant_id", None) if step.role == "applicant" else None),
        due_date=getattr(case, "due_date", None),
    )


@transaction.atomic(savepoint=False)  # part of the caller's submission; a savepoint is 2 round trips
def start_process(
    case: Case,
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


_INSTANCE_COLUMNS = ("id", "case_id", "definition_id", "state", "finished", "next_timer_at", "steps")
_TASK_COLUMNS = tuple(f.attname for f in Task._meta.concrete_fields)


@dataclass
class LockedInstance:
    """A case's workflow instance read under its row lock, with its open tasks (oldest first)."""

    instance: WorkflowInstance
    open_tasks: list[Task]


_SIGNALS = (signals.pre_init, signals.post_init, signals.pre_save, signals.post_save)


def _signalled(*models: type[Model]) -> bool:
    return any(signal.has_listeners(model) for model in models for signal in _SIGNALS)


def _refuse_signalled(*models: type[Model]) -> None:
    """Raise ``SignalledModel`` when one of ``models`` has init or save receivers: the statements
    below read and write rows without ``save`` and without the ORM's query path, and code that
    listens to a model's signals expects that path (as ``core.rows.locked_row`` refuses)."""
    for model in models:
        if _signalled(model):
            raise SignalledModel(f"{model._meta.label} has signal receivers: use the ORM")


def _from_row(
    model: type[_M], names: tuple[str, ...], values: Sequence[Any], conn: BaseDatabaseWrapper
) -> _M:
    """A model instance from a raw row, as the ORM's compiler makes it: each field's converters
    (JSON text to objects; on SQLite, text to UUIDs and datetimes), then ``from_db``. Refuses a
    model with signal receivers (``_refuse_signalled``). tests/workflow/test_sql_paths.py compares
    the objects with the ORM's, so a change in these Django pieces fails there."""
    _refuse_signalled(model)
    cache = conn.__dict__.setdefault("_yiwang_row_converters", {})
    converters = cache.get((model, names))
    if converters is None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        converters = []
        for name in names:
            col = Col(model._meta.db_table, fields[name])
            converters.append((col, conn.ops.get_db_converters(col) + col.get_db_converters(conn)))
        cache[(model, names)] = converters
    out = []
    for (col, convert_all), value in zip(converters, values, strict=True):
        for convert in convert_all:
            value = convert(value, col, conn)
        out.append(value)
    return model.from_db(conn.alias, list(names), out)


def lock_instance(case_id: int) -> LockedInstance | None:
    """Lock the case's instance and read its open tasks, in one statement (a step then needs
    neither another lock nor another read: ``complete_task(..., locked=...)``). Call it with the
    case row locked: every writer of the case's tasks locks the case first, or the instance.
    Hand-written (the ORM needs a second statement for the tasks, inside the case's lock) and
    run on both databases, without ``FOR UPDATE`` where the database has none (SQLite locks the
    whole database for a write); rows become objects through ``_from_row``."""
    conn = connections[WorkflowInstance.objects.db]
    qn = conn.ops.quote_name
    columns = ", ".join([f"i.{qn(c)}" for c in _INSTANCE_COLUMNS] + [f"t.{qn(c)}" for c in _TASK_COLUMNS])
    lock = " FOR UPDATE OF i" if conn.features.has_select_for_update_of else ""
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {qn(WorkflowInstance._meta.db_table)} i "
            f"LEFT JOIN {qn(Task._meta.db_table)} t ON t.instance_id = i.id AND t.state = %s "
            f"WHERE i.case_id = %s ORDER BY t.created_at, t.id{lock}",
            [TaskState.OPEN, case_id],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    n = len(_INSTANCE_COLUMNS)
    instance = _from_row(WorkflowInstance, _INSTANCE_COLUMNS, rows[0][:n], conn)
    # A LEFT JOIN row without a task (no task open) has a null task id.
    tasks = [_from_row(Task, _TASK_COLUMNS, r[n:], conn) for r in rows if r[n] is not None]
    return LockedInstance(instance, tasks)


def complete_task(
    task: Task,
    *,
    actor: User | None,
    decision: str,
    data: dict[str, Any] | None = None,
    case: Case | None = None,
    locked: LockedInstance | None = None,
) -> list[Task]:
    """Complete one open task with a decision the step offers; returns the newly opened tasks.

    Statements: lock the instance, read its open tasks (the task must be among them: another
    clerk may have completed it since the caller read it), mark the task done, save the state,
    insert the next tasks. ``locked``: the caller has already done the first two in this
    transaction (``lock_instance``), and nothing has changed the tasks since. No savepoint of its
    own: it is one step of the caller's action, and an error here aborts that whole action."""
    with transaction.atomic(savepoint=False):
        if locked is not None and locked.instance.pk == task.instance_id:
            instance, open_rows = locked.instance, list(locked.open_tasks)
        else:
            instance = WorkflowInstance.objects.select_for_update().get(pk=task.instance_id)
            open_rows = list(instance.tasks.filter(state=TaskState.OPEN))
        row = next((r for r in open_rows if r.pk == task.pk), None)
        wf = engine.load(instance.state) if row is not None else None
        refusal = _refusal(row, wf, decision, data)
        if refusal is None:  # nothing written before this point: a refusal leaves after the block
            assert row is not None and wf is not None  # else _refusal refused
            now = timezone.now()
            done = {
                "state": TaskState.COMPLETED,
                "completed_at": now,
                "completed_by_id": getattr(actor, "pk", None),
                "decision": decision,
            }
            instance.state = engine.dump(wf)
            instance.finished = wf.is_completed()
            instance.steps += 1
            schedule_timers(instance, wf)
            created = _task_changes(instance, wf, case, [r for r in open_rows if r.pk != row.pk])
            write_step([([row.pk], done)], instance, created, now)
            return created
    # Raised outside the atomic block, which wrote nothing: without a savepoint of its own, an
    # error raised inside would mark a caller's enclosing transaction as broken.
    raise refusal


_NEW_TASK_COLUMNS = tuple(
    f.attname for f in Task._meta.concrete_fields if not f.primary_key and f.name != "completed_at"
)


def write_step(
    done: list[tuple[list[int], dict[str, Any]]],
    instance: WorkflowInstance,
    created: list[Task],
    now: dt.datetime,
) -> None:
    """A step's workflow writes: the tasks completed (``done``: task ids and the columns they get,
    a group per decision), the instance's state saved, the next tasks inserted. It runs under the
    case's row lock, so on PostgreSQL it is one statement (``_write_step_pg``: one round trip
    instead of one per group, the save and the insert); elsewhere, or when the models have signal
    receivers, the ORM's statements. Both write the same rows (tests/workflow/test_sql_paths.py)."""
    conn = connections[WorkflowInstance.objects.db]
    if conn.vendor == "postgresql" and not _signalled(WorkflowInstance, Task):
        _write_step_pg(done, instance, created, now)
        return
    _write_step_orm(done, instance, created)


def _write_step_orm(
    done: list[tuple[list[int], dict[str, Any]]], instance: WorkflowInstance, created: list[Task]
) -> None:
    """``write_step`` through the ORM: an update per group, ``save``, ``bulk_create``."""
    for ids, columns in done:
        Task.objects.filter(pk__in=ids).update(**columns)
    instance.save(update_fields=["state", "finished", "steps", "next_timer_at", "updated_at"])
    if created:
        Task.objects.bulk_create(created)


def _write_step_pg(
    done: list[tuple[list[int], dict[str, Any]]],
    instance: WorkflowInstance,
    created: list[Task],
    now: dt.datetime,
) -> None:
    """A step's writes in one statement (PostgreSQL): the tasks completed (``done``: task ids and
    the columns they get, a group per decision), the instance's state saved, the next tasks
    inserted. The same rows as ``_write_step_orm`` (an update per group, save, bulk_create), in
    one round trip and with nothing to compile. Refuses models with signal receivers."""
    _refuse_signalled(WorkflowInstance, Task)
    conn = connections[WorkflowInstance.objects.db]
    qn = conn.ops.quote_name
    task_table, instance_table = qn(Task._meta.db_table), qn(WorkflowInstance._meta.db_table)
    instance.updated_at = now
    params: list[Any] = []
    sql = "WITH "
    for n, (ids, columns) in enumerate(done):
        sql += (
            f"done{n} AS (UPDATE {task_table} SET {', '.join(f'{qn(k)} = %s' for k in columns)} "
            f"WHERE id IN ({', '.join(['%s'] * len(ids))})), "
        )
        params += [*columns.values(), *ids]
    sql += (
        f"inst AS (UPDATE {instance_table} SET state = %s::jsonb, finished = %s, steps = %s, "
        "next_timer_at = %s, updated_at = %s WHERE id = %s) "
    )
    params += [
        json.dumps(instance.state),
        instance.finished,
        instance.steps,
        instance.next_timer_at,
        instance.updated_at,
        instance.pk,
    ]
    if created:
        insert, values = _insert_tasks_sql(created, now)
        sql, params = sql + insert, params + values
    else:
        sql += "SELECT 1"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if created:
            _inserted(created, cursor.fetchall(), conn)


def _insert_tasks_sql(created: list[Task], now: dt.datetime) -> tuple[str, list[Any]]:
    """The INSERT of new task rows (RETURNING id, instance_id) for ``_write_step_pg``, with the
    values ``bulk_create`` would send (``created_at`` is ``now``, as ``auto_now_add`` sets it)."""
    qn = connections[Task.objects.db].ops.quote_name
    row_sql = "(" + ", ".join("%s::jsonb" if a == "decisions" else "%s" for a in _NEW_TASK_COLUMNS) + ")"
    params: list[Any] = []
    for t in created:
        t.created_at = now
        for a in _NEW_TASK_COLUMNS:
            params.append(json.dumps(t.decisions) if a == "decisions" else getattr(t, a))
    sql = (
        f"INSERT INTO {qn(Task._meta.db_table)} ({', '.join(qn(a) for a in _NEW_TASK_COLUMNS)}) "
        f"VALUES {', '.join([row_sql] * len(created))} RETURNING id, instance_id"
    )
    return sql, params


def _inserted(created: list[Task], returned: Sequence[tuple[Any, ...]], conn: BaseDatabaseWrapper) -> None:
    """Set on the objects ``_insert_tasks_sql`` wrote what ``bulk_create`` sets on those it saves."""
    for t, (pk, instance_id) in zip(created, returned, strict=True):
        t.pk, t.instance_id = pk, instance_id
        t._state.adding, t._state.db = False, conn.alias


def _refusal(
    row: Task | None, wf: BpmnWorkflow | None, decision: str, data: dict[str, Any] | None
) -> DomainError | None:
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


def set_due_date(case: Case, due_date: dt.date | None) -> None:
    """Carry the case's due date onto its open tasks (the inbox sorts by it)."""
    Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).update(due_date=due_date)


def assign(task: Task, user: User) -> None:
    """Put a task in one person's inbox (transfer to a colleague); permission is the caller's."""
    Task.objects.filter(pk=task.pk, state=TaskState.OPEN).update(assignee=user)


def _has_waiting_timer(wf: BpmnWorkflow) -> bool:
    from SpiffWorkflow.util.task import TaskState as SpiffState

    return any(
        "Timer" in type(getattr(t.task_spec, "event_definition", None)).__name__
        for t in wf.get_tasks(state=SpiffState.WAITING)
    )


TIMER_SWEEP_SECONDS = 60


def schedule_timers(instance: WorkflowInstance, wf: BpmnWorkflow) -> None:
    """SpiffWorkflow only fires timers when asked: note when to look again."""
    instance.next_timer_at = (
        timezone.now() + dt.timedelta(seconds=TIMER_SWEEP_SECONDS) if _has_waiting_timer(wf) else None
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
    case: Case, definition: ProcessDefinition, *, data: dict[str, Any] | None = None
) -> list[Task]:
    """Start ``case`` on a given definition instead of its item's binding (idempotent per case):
    a bundle's branch case runs the branch process, not the member item's own (docs/bundles.md)."""
    return start_process(case, data=data, definition=definition)
