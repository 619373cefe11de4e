"""The workflow's hand-written statements (``lock_instance``, ``definition_for_item``,
``_write_step_pg``) against the ORM doing the same work: the same objects, the same rows. They
rely on Django's converters, ``from_db`` and what ``save``/``bulk_create`` write; if Django
changes any of these, a test here fails. bench/workflow_sql.py is why the statements exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model, signals
from django.utils import timezone

from tests import factories as f
from yiwang.core.rows import SignalledModel
from yiwang.workflow import engine, services
from yiwang.workflow.models import ProcessBinding, ProcessDefinition, Task, TaskState, WorkflowInstance

# Set by the database or the moment of the write, not by the step. The instance's state holds
# the engine's new task ids and times: compared with the state written instead.
_OWN = {"id", "instance_id", "case_id", "task_uuid", "created_at", "updated_at"}
NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)


def _case(pk: int, dept: Any) -> SimpleNamespace:
    return SimpleNamespace(
        pk=pk,
        item_id=None,
        department_id=dept.pk,
        region=dept.region,
        applicant_id=None,
        due_date=dt.date(2026, 12, 31),
        item_version=None,
    )


def _values(obj: Model, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    names = names or tuple(f.attname for f in type(obj)._meta.concrete_fields)
    return {n: getattr(obj, n) for n in names}


@pytest.fixture
def dept() -> Any:
    return f.department(f.region_tree()["county"])


@pytest.mark.django_db
def test_lock_instance_returns_what_the_orm_reads(dept: Any) -> None:
    case = _case(21, dept)
    (task,) = services.start_process(case)
    (review,) = services.complete_task(task, actor=None, decision="accept", case=case)
    Task.objects.filter(pk=review.pk).update(decision="x", completed_at=timezone.now())  # non-null
    locked = services.lock_instance(21)
    assert locked is not None
    instance = WorkflowInstance.objects.get(case_id=21)
    assert _values(locked.instance, services._INSTANCE_COLUMNS) == _values(
        instance, services._INSTANCE_COLUMNS
    )
    assert locked.instance._state.adding is False and locked.instance._state.db == "default"
    orm_tasks = list(instance.tasks.filter(state=TaskState.OPEN).order_by("created_at", "id"))
    assert [_values(t) for t in locked.open_tasks] == [_values(t) for t in orm_tasks]
    assert all(not t._state.adding for t in locked.open_tasks)


@pytest.mark.django_db
def test_definition_for_item_returns_what_the_orm_reads(dept: Any) -> None:
    templates = services.ensure_templates()
    item = f.implementation(f.standard_item(), dept)
    found = services.definition_for_item(item.pk, is_instant=True)
    assert _values(found) == _values(ProcessDefinition.objects.get(pk=templates["instant"].pk))
    custom = services.upload_definition(key="custom", xml=templates["promise"].bpmn_xml, name="c")
    ProcessBinding.objects.create(item=item, definition=custom)
    found = services.definition_for_item(item.pk, is_instant=True)
    assert _values(found) == _values(ProcessDefinition.objects.get(pk=custom.pk))
    assert found._state.adding is False


def _step_rows(case_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    instance = WorkflowInstance.objects.get(case_id=case_id)
    tasks = Task.objects.filter(case_id=case_id).order_by("id")
    strip = lambda row: {k: v for k, v in row.items() if k not in _OWN}  # noqa: E731
    return strip(_values(instance)) | {"state": None}, [strip(_values(t)) for t in tasks]


def _run_step(case: SimpleNamespace, write: Any) -> tuple[WorkflowInstance, list[Task]]:
    """complete_task's accept on the case's first task, its writes made by ``write``."""
    (task,) = services.start_process(case)
    locked = services.lock_instance(case.pk)
    assert locked is not None
    instance, wf = locked.instance, engine.load(locked.instance.state)
    engine.complete(wf, task.task_uuid, {"decision": "accept"})
    instance.state, instance.finished, instance.steps = engine.dump(wf), wf.is_completed(), 1
    created = services._task_changes(instance, wf, case, [])
    now = NOW
    done = [([task.pk], {"state": TaskState.COMPLETED, "completed_at": now, "decision": "accept"})]
    write(done, instance, created, now)
    return instance, created


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement step is PostgreSQL's")
def test_step_statement_writes_the_rows_the_orm_writes(dept: Any) -> None:
    instance, ours = _run_step(_case(31, dept), services._write_step_pg)
    _, orm = _run_step(_case(32, dept), lambda d, i, c, now: services._write_step_orm(d, i, c))
    assert _step_rows(31) == _step_rows(32)
    assert WorkflowInstance.objects.get(case_id=31).state == instance.state
    assert [t.state for t in Task.objects.filter(case_id=31).order_by("id")] == ["completed", "open"]
    # The returned objects are saved rows, as bulk_create leaves them.
    for made in (ours, orm):
        (row,) = made
        assert row.pk is not None and not row._state.adding and row._state.db == "default"
        assert Task.objects.get(pk=row.pk).instance_id == row.instance_id
    # The statement stamps the step's moment where save and bulk_create take the clock's.
    assert WorkflowInstance.objects.get(case_id=31).updated_at == NOW
    assert Task.objects.get(pk=ours[0].pk).created_at == NOW


@pytest.fixture
def task_receiver() -> Iterator[None]:
    def noted(**kwargs: Any) -> None:
        pass

    signals.post_save.connect(noted, sender=Task)
    try:
        yield
    finally:
        signals.post_save.disconnect(noted, sender=Task)


@pytest.mark.django_db
def test_statements_refuse_models_with_signal_receivers(dept: Any, task_receiver: None) -> None:
    case = _case(41, dept)
    (task,) = services.start_process(case)
    with pytest.raises(SignalledModel):
        services.lock_instance(41)
    with pytest.raises(SignalledModel):
        services._write_step_pg([], WorkflowInstance.objects.get(case_id=41), [], timezone.now())
    # write_step takes the ORM's path instead.
    (review,) = services.complete_task(task, actor=None, decision="accept", case=case)
    assert review.spec_name == "review" and review.pk is not None
