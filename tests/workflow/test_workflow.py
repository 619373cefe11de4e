from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f
from tests.identity.auth.helpers import login_with_second_factor
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.identity.models import Role, StaffRole
from yiwang.workflow import engine, expressions, selectors, services
from yiwang.workflow.bpmn_templates import PROMISE, TEMPLATES, to_bpmn
from yiwang.workflow.models import ProcessDefinition, Task, TaskState


def test_templates_parse_with_their_approval_steps():
    counts = {k: engine.parse(to_bpmn(t)).approval_steps for k, t in TEMPLATES.items()}
    assert counts == {"instant": 2, "promise": 4, "promise_second_review": 5}


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ('decision == "accept"', {"decision": "accept"}, True),
        ('decision == "accept" or decision == "pass"', {"decision": "pass"}, True),
        ("amount > 100 and not urgent", {"amount": 150, "urgent": False}, True),
        ('form["area"] >= 50', {"form": {"area": 40}}, False),
        ('kind in ["a", "b"]', {"kind": "c"}, False),
    ],
)
def test_restricted_expressions_evaluate(expression, data, expected):
    assert expressions.evaluate(expression, data) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "decision.__class__",
        "(lambda: 1)()",
        "[x for x in y]",
    ],
)
def test_restricted_expressions_refuse_code(expression):
    with pytest.raises(expressions.UnsafeExpression):
        expressions.evaluate(expression, {})


def _replace(xml: str, old: str, new: str) -> str:
    assert old in xml
    return xml.replace(old, new, 1)


def test_invalid_bpmn_is_refused_with_messages():
    with pytest.raises(engine.ProcessInvalid) as exc:
        engine.parse("<not-bpmn/>")
    assert "BPMN" in exc.value.messages[0]
    with pytest.raises(engine.ProcessInvalid) as exc:
        engine.parse('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>')
    assert "DOCTYPE" in exc.value.messages[0]


def test_unsafe_condition_in_uploaded_bpmn_is_refused():
    xml = _replace(to_bpmn(PROMISE), 'decision == "pass"', '__import__("os").getcwd()')
    with pytest.raises(engine.ProcessInvalid) as exc:
        engine.parse(xml)
    assert any("网关条件不被允许" in m for m in exc.value.messages)


def test_more_than_five_approval_steps_refused():
    xml = to_bpmn(PROMISE)
    extra = "".join(
        f'<bpmn:userTask id="extra{i}" name="额外审查{i}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="role" value="approver" /></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>'
        for i in range(3)
    )
    flows = "".join(
        f'<bpmn:sequenceFlow id="xflow{i}" sourceRef="extra{i}" targetRef="{"extra" + str(i + 1) if i < 2 else "accept"}" />'
        for i in range(3)
    )
    xml = _replace(xml, 'sourceRef="start" targetRef="accept"', 'sourceRef="start" targetRef="extra0"')
    xml = _replace(xml, "</bpmn:process>", extra + flows + "</bpmn:process>")
    with pytest.raises(engine.ProcessInvalid) as exc:
        engine.parse(xml)
    assert any("不得超过5个（当前为7个）" in m for m in exc.value.messages)


@pytest.mark.django_db
def test_upload_same_file_twice_is_one_version_and_bad_upload_writes_nothing():
    d1 = services.upload_definition(key="custom", xml=to_bpmn(PROMISE))
    d2 = services.upload_definition(key="custom", xml=to_bpmn(PROMISE))
    assert d1.pk == d2.pk and d1.version == 1 and d1.approval_steps == 4
    with pytest.raises(ValidationFailed):
        services.upload_definition(key="custom", xml="<broken")
    assert ProcessDefinition.objects.filter(key="custom").count() == 1


def _case(pk: int, dept, instant: bool = False):
    return SimpleNamespace(
        pk=pk,
        item_id=None,
        department_id=dept.pk,
        region=dept.region,
        applicant_id=None,
        due_date=None,
        item_version=SimpleNamespace(elements={"is_instant": instant}),
    )


@pytest.mark.django_db
def test_promise_process_with_correction_loop_and_inspection():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(1, dept)
    (task,) = services.start_process(case)
    assert task.spec_name == "accept" and task.role == "counter_clerk"
    assert services.start_process(case)[0].pk == task.pk  # idempotent
    path = [
        ("accept", "correction"),
        ("applicant_correction", "corrected"),
        ("accept", "accept"),
        ("review", "inspection"),
        ("inspection", "done"),
        ("review", "pass"),
        ("decide", "approve"),
        ("deliver", "delivered"),
    ]
    for spec, decision in path:
        (open_task,) = selectors.open_tasks(case)
        assert open_task.spec_name == spec
        services.complete_task(open_task, actor=None, decision=decision, case=case)
    assert selectors.is_finished(case)
    assert not selectors.open_tasks(case).exists()
    assert Task.objects.filter(case_id=1, state=TaskState.COMPLETED).count() == len(path)


@pytest.mark.django_db
def test_refusal_ends_the_process_and_bad_decisions_are_refused():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(2, dept, instant=True)
    (task,) = services.start_process(case)
    with pytest.raises(DomainError, match="不能作出"):
        services.complete_task(task, actor=None, decision="approve", case=case)
    assert services.complete_task(task, actor=None, decision="refuse", case=case) == []
    assert selectors.is_finished(case)
    with pytest.raises(DomainError, match="已由他人办理"):
        services.complete_task(task, actor=None, decision="refuse", case=case)


@pytest.mark.django_db
def test_inbox_follows_role_and_department():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    other = f.department(regions["other_city"])
    User = get_user_model()
    clerk = User.objects.create_user("clerk", password="x" * 12)
    StaffRole.objects.create(user=clerk, role=Role.COUNTER_CLERK, department=dept, region=dept.region)
    approver = User.objects.create_user("approver", password="x" * 12)
    StaffRole.objects.create(user=approver, role=Role.APPROVER, department=dept, region=dept.region)
    city_approver = User.objects.create_user("city", password="x" * 12)
    StaffRole.objects.create(user=city_approver, role=Role.APPROVER, region=regions["city"])
    outsider = User.objects.create_user("outsider", password="x" * 12)
    StaffRole.objects.create(user=outsider, role=Role.COUNTER_CLERK, department=other, region=other.region)

    case = _case(3, dept)
    (accept,) = services.start_process(case)
    assert list(selectors.inbox(clerk)) == [accept]
    assert not selectors.inbox(approver).exists()
    assert not selectors.inbox(outsider).exists()
    assert selectors.may_work(clerk, accept) and not selectors.may_work(outsider, accept)
    (review,) = services.complete_task(accept, actor=clerk, decision="accept", case=case)
    assert list(selectors.inbox(approver)) == [review]
    assert list(selectors.inbox(city_approver)) == [review]  # a city scope covers its counties
    assert not selectors.inbox(clerk).exists()
    services.assign(review, approver)
    assert not selectors.inbox(city_approver).exists()  # assigned to a colleague


@pytest.mark.django_db
def test_admin_upload_download_and_diagram(client):
    admin_user = get_user_model().objects.create_superuser("root", password="pw-123456789")
    login_with_second_factor(client, admin_user)
    resp = client.get("/admin/workflow/processdefinition/")
    assert resp.status_code == 200
    assert ProcessDefinition.objects.filter(key="promise", is_template=True).exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.bpmn", b"MZ\x90\x00not xml", content_type="application/octet-stream")
    resp = client.post("/admin/workflow/processdefinition/upload/", {"key": "mine", "bpmn": bad})
    assert resp.status_code == 200 and "BPMN" in resp.content.decode()
    assert not ProcessDefinition.objects.filter(key="mine").exists()
    good = SimpleUploadedFile("p.bpmn", to_bpmn(PROMISE).encode(), content_type="application/xml")
    resp = client.post("/admin/workflow/processdefinition/upload/", {"key": "mine", "bpmn": good})
    definition = ProcessDefinition.objects.get(key="mine")
    assert resp.status_code == 302 and resp["Location"].endswith(f"/{definition.pk}/diagram/")
    page = client.get(resp["Location"]).content.decode()
    assert "bpmn-navigated-viewer" in page and "bpmn-xml" in page
    download = client.get(f"/admin/workflow/processdefinition/{definition.pk}/download/")
    assert download.content.decode() == definition.bpmn_xml
    engine.parse(download.content.decode())  # what is downloaded uploads again


@pytest.mark.django_db
def test_binding_a_process_shows_in_the_guide_and_is_checked_at_publication():
    from yiwang.catalog import services as catalog_services
    from yiwang.catalog.models import ItemStatus

    regions = f.region_tree()
    dept = f.department(regions["county"])
    item = f.implementation(f.standard_item(), dept)
    catalog_services.publish(item)
    definition = services.upload_definition(key="second", xml=to_bpmn(TEMPLATES["promise_second_review"]))
    services.bind(item, definition)
    item.refresh_from_db()
    assert item.status == ItemStatus.CHANGED
    v2 = catalog_services.publish(item)
    assert v2.elements["process"] == {
        "key": "second",
        "version": 1,
        "name": definition.name,
        "approval_steps": 5,
    }
    assert any(c["field"] == "process" for c in v2.changes)
    # A definition over the limit can only exist if someone wrote it to the database by hand.
    ProcessDefinition.objects.filter(pk=definition.pk).update(approval_steps=6)
    from yiwang.catalog.models import ServiceItem

    ServiceItem.objects.filter(pk=item.pk).update(promised_limit_days=9)
    with pytest.raises(ValidationFailed) as exc:
        catalog_services.publish(item)
    assert any(e.code == "process_too_many_steps" for e in exc.value.errors)


TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
<bpmn:process id="timed" isExecutable="true">
  <bpmn:startEvent id="start" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait" name="公示期">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="decide" />
  <bpmn:userTask id="decide" name="决定"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="role" value="department_head" /><spiffworkflow:property name="decisions" value="approve" />
  </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end" />
  <bpmn:endEvent id="end" />
</bpmn:process></bpmn:definitions>"""


@pytest.mark.django_db
def test_timer_is_fired_by_the_sweep():
    from django.utils import timezone

    from yiwang.catalog.models import ServiceItem
    from yiwang.workflow.models import ProcessBinding, WorkflowInstance

    regions = f.region_tree()
    dept = f.department(regions["county"])
    item = f.implementation(f.standard_item(), dept)
    ProcessBinding.objects.create(
        item=item, definition=services.upload_definition(key="timed", xml=TIMER_BPMN)
    )
    case = _case(9, dept)
    case.item_id = ServiceItem.objects.get(pk=item.pk).pk
    assert services.start_process(case) == []
    instance = WorkflowInstance.objects.get(case_id=9)
    assert instance.next_timer_at is not None
    assert services.sweep_timers() == 0  # not due yet
    # The BPMN timer itself is one second of wall-clock time; on a loaded machine allow more.
    moved = 0
    deadline = time.monotonic() + 10
    while not moved and time.monotonic() < deadline:
        time.sleep(0.5)
        WorkflowInstance.objects.filter(pk=instance.pk).update(next_timer_at=timezone.now())
        moved = services.sweep_timers()
    assert moved == 1
    (task,) = selectors.open_tasks(case)
    assert task.spec_name == "decide"
    assert WorkflowInstance.objects.get(pk=instance.pk).next_timer_at is None


@pytest.mark.django_db
def test_state_names_its_process_instead_of_holding_the_spec(monkeypatch):
    """The stored state leaves the spec out (a version never changes) and names it by the
    checksum of its BPMN; a process that has not parsed it yet finds it by that checksum."""
    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(11, dept)
    (task,) = services.start_process(case)
    instance = task.instance
    assert "spec" not in instance.state and instance.state["spec_ref"] == instance.definition.checksum
    # As in a fresh process: nothing parsed yet, so the BPMN is read by checksum.
    monkeypatch.setattr(engine, "_SPECS_BY_CHECKSUM", {})
    engine._spec.cache_clear()
    wf = engine.load(instance.state)
    assert [t.task_spec.name for t in engine.ready_user_tasks(wf)] == ["accept"]
    services.complete_task(task, actor=None, decision="accept", case=case)
    (review,) = selectors.open_tasks(case)
    assert review.spec_name == "review"


@pytest.mark.django_db
def test_a_state_stored_with_its_spec_still_loads_and_runs():
    """States written before the spec was left out (the spec inside) are read as before."""
    from yiwang.workflow.models import WorkflowInstance

    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(12, dept)
    (task,) = services.start_process(case)
    wf = engine.load(task.instance.state)
    full = engine.SERIALIZER.to_dict(wf)  # the library's own format, spec included
    assert "spec" in full
    WorkflowInstance.objects.filter(pk=task.instance_id).update(state=full)
    for spec, decision in [("accept", "accept"), ("review", "pass"), ("decide", "approve")]:
        (open_task,) = selectors.open_tasks(case)
        assert open_task.spec_name == spec
        services.complete_task(open_task, actor=None, decision=decision, case=case)
    (deliver,) = selectors.open_tasks(case)
    assert deliver.spec_name == "deliver"


@pytest.mark.django_db
def test_lock_instance_reads_the_open_tasks_for_the_step():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(13, dept)
    assert services.lock_instance(13) is None  # no process yet
    (task,) = services.start_process(case)
    locked = services.lock_instance(13)
    assert locked.instance.pk == task.instance_id and [t.pk for t in locked.open_tasks] == [task.pk]
    row = locked.open_tasks[0]
    assert (row.task_uuid, row.decisions, row.role) == (task.task_uuid, task.decisions, task.role)
    (review,) = services.complete_task(row, actor=None, decision="accept", case=case, locked=locked)
    assert review.spec_name == "review"
    assert [t.spec_name for t in services.lock_instance(13).open_tasks] == ["review"]
    Task.objects.filter(pk=review.pk).update(state=TaskState.COMPLETED)
    assert services.lock_instance(13).open_tasks == []  # the instance, with no open task


@pytest.mark.django_db
def test_processes_started_together_are_copies_with_their_own_task_ids():
    """``bulk.start_processes``: the engine starts a definition once and the other instances get
    its state with new task ids (``engine.started_copies``); each runs on its own."""
    from yiwang.workflow import bulk
    from yiwang.workflow.models import WorkflowInstance

    regions = f.region_tree()
    dept = f.department(regions["county"])
    cases = [_case(20 + i, dept) for i in range(3)]
    definition = services.ensure_templates()[PROMISE.key]
    rows = bulk.start_processes([(c, definition) for c in cases])
    assert [r.spec_name for r in rows] == ["accept"] * 3 and len({r.task_uuid for r in rows}) == 3
    states = [
        i.state
        for i in WorkflowInstance.objects.filter(case_id__in=[c.pk for c in cases]).order_by("case_id")
    ]
    ids = [set(s["tasks"]) for s in states]
    assert all(len(x) == len(ids[0]) for x in ids) and not (
        ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2]
    )
    for row, state in zip(sorted(rows, key=lambda r: r.case_id), states, strict=True):
        assert str(row.task_uuid) in state["tasks"]
    # the second one moves on alone; the others keep their first step
    services.complete_task(rows[1], actor=None, decision="accept", case=cases[1])
    assert [t.spec_name for t in selectors.open_tasks(cases[1])] == ["review"]
    assert [t.spec_name for t in selectors.open_tasks(cases[0])] == ["accept"]
    assert [t.spec_name for t in selectors.open_tasks(cases[2])] == ["accept"]
