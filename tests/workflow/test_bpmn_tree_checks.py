"""Upload checks over the whole tree of a diagram: inside embedded subprocesses and inside the
processes that call activities call (docs/workflow.md "Checks on upload").

A probe found that a script task and three approver tasks inside an embedded ``subProcess``
passed upload: the 5-step cap was bypassed and the script failed at run time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests import factories as f
from yiwang.core.errors import ValidationFailed
from yiwang.workflow import engine, selectors, services
from yiwang.workflow.models import ProcessDefinition

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:flowable="http://flowable.org/bpmn" '
    'xmlns:yiwang="https://yiwang.example/bpmn"'
)


def user_task(ident: str, role: str = "approver", attrs: str = "") -> str:
    props = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="role" value="{role}" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        if role
        else ""
    )
    return f'<bpmn:userTask id="{ident}" name="环节{ident}" {attrs}>{props}</bpmn:userTask>'


def chain(*ids: str, prefix: str = "f") -> str:
    """Sequence flows start → ids… → end, with the given start and end ids at the ends."""
    return "".join(
        f'<bpmn:sequenceFlow id="{prefix}{i}" sourceRef="{a}" targetRef="{b}" />'
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    )


def process(ident: str, body: str, *, executable: bool = True) -> str:
    return f'<bpmn:process id="{ident}" isExecutable="{str(executable).lower()}">{body}</bpmn:process>'


def document(*processes: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="d">{"".join(processes)}</bpmn:definitions>'


def refused(xml: str) -> list[str]:
    with pytest.raises(engine.ProcessInvalid) as exc:
        engine.parse(xml)
    return exc.value.messages


def subprocess(ident: str, inner: str, inner_ids: list[str]) -> str:
    return (
        f'<bpmn:subProcess id="{ident}" name="子流程{ident}">'
        f'<bpmn:startEvent id="{ident}_start" />{inner}<bpmn:endEvent id="{ident}_end" />'
        f"{chain(f'{ident}_start', *inner_ids, f'{ident}_end', prefix=f'{ident}_f')}</bpmn:subProcess>"
    )


def test_script_task_inside_a_subprocess_is_refused():
    inner = '<bpmn:scriptTask id="hidden_script" name="藏起来的脚本"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
    xml = document(
        process(
            "main",
            '<bpmn:startEvent id="start" />'
            + user_task("accept", "counter_clerk")
            + subprocess("sub", inner, ["hidden_script"])
            + '<bpmn:endEvent id="end" />'
            + chain("start", "accept", "sub", "end"),
        )
    )
    messages = refused(xml)
    assert any("scriptTask" in m and "hidden_script" in m and "脚本任务" in m for m in messages), messages


def test_approver_steps_inside_a_subprocess_count_towards_the_cap():
    inner = "".join(user_task(f"in{i}") for i in range(3))
    outer = "".join(user_task(f"out{i}") for i in range(3))
    xml = document(
        process(
            "main",
            '<bpmn:startEvent id="start" />'
            + outer
            + subprocess("sub", inner, ["in0", "in1", "in2"])
            + '<bpmn:endEvent id="end" />'
            + chain("start", "out0", "out1", "out2", "sub", "end"),
        )
    )
    messages = refused(xml)
    assert any("审批环节不得超过5个（当前为6个）" in m for m in messages), messages


def test_steps_in_nested_subprocesses_and_parallel_branches_are_counted_along_the_longest_path():
    # Two parallel branches of three approvers each are alternatives on a path: 3, not 6; the
    # nested subprocess adds its two steps to the branch it is on: 1 + 3 + 1 = 5, at the cap.
    nested = subprocess("deep", user_task("d0") + user_task("d1"), ["d0", "d1"])
    branch_a = "".join(user_task(f"a{i}") for i in range(3))
    branch_b = user_task("b0") + nested
    body = (
        '<bpmn:startEvent id="start" />'
        + user_task("accept", "counter_clerk")
        + '<bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" />'
        + branch_a
        + subprocess("sub", branch_b, ["b0", "deep"])
        + user_task("decide", "department_head")
        + '<bpmn:endEvent id="end" />'
        + chain("start", "accept", "split", "a0", "a1", "a2", "join", "decide", "end", prefix="p")
        + chain("split", "sub", "join", prefix="q")
    )
    parsed = engine.parse(document(process("main", body)))
    assert parsed.approval_steps == 5
    assert {s.spec_name for s in parsed.steps} >= {"d0", "d1", "b0", "a2"}


def test_call_activity_is_checked_and_counted_in_the_process_it_calls():
    called = process(
        "review_proc",
        '<bpmn:startEvent id="r_start" />'
        + "".join(user_task(f"r{i}") for i in range(3))
        + '<bpmn:serviceTask id="r_mail" name="发邮件" camunda:class="org.example.Mail" />'
        + '<bpmn:endEvent id="r_end" />'
        + chain("r_start", "r0", "r1", "r2", "r_mail", "r_end", prefix="r"),
        executable=False,
    )
    main = process(
        "main",
        '<bpmn:startEvent id="start" />'
        + "".join(user_task(f"m{i}") for i in range(3))
        + '<bpmn:callActivity id="call_review" name="审查" calledElement="review_proc" />'
        + '<bpmn:endEvent id="end" />'
        + chain("start", "m0", "m1", "m2", "call_review", "end"),
    )
    messages = refused(document(main, called))
    assert any("审批环节不得超过5个（当前为6个）" in m for m in messages), messages
    assert any("serviceTask" in m and "r_mail" in m for m in messages), messages


def test_call_activity_to_a_process_not_in_the_file_is_refused():
    main = process(
        "main",
        '<bpmn:startEvent id="start" />'
        + user_task("accept", "counter_clerk")
        + '<bpmn:callActivity id="call_x" name="外部审查" calledElement="elsewhere" />'
        + '<bpmn:endEvent id="end" />'
        + chain("start", "accept", "call_x", "end"),
    )
    messages = refused(document(main))
    assert any("call_x" in m and "“elsewhere”不在本文件中" in m for m in messages), messages


def test_recursive_call_activity_is_refused():
    main = process(
        "main",
        '<bpmn:startEvent id="start" />'
        + user_task("accept", "counter_clerk")
        + '<bpmn:callActivity id="again" calledElement="helper" />'
        + '<bpmn:endEvent id="end" />'
        + chain("start", "accept", "again", "end"),
    )
    helper = process(
        "helper",
        '<bpmn:startEvent id="h_start" /><bpmn:callActivity id="loop_call" calledElement="helper" />'
        '<bpmn:endEvent id="h_end" />' + chain("h_start", "loop_call", "h_end", prefix="h"),
    )
    messages = refused(document(main, helper))
    assert any("loop_call" in m and "递归" in m for m in messages), messages


def test_user_task_not_connected_to_the_start_gets_its_own_message():
    body = (
        '<bpmn:startEvent id="start" />'
        + user_task("accept", "counter_clerk")
        + user_task("orphan")
        + '<bpmn:endEvent id="end" />'
        + chain("start", "accept", "end")
        + '<bpmn:sequenceFlow id="o1" sourceRef="orphan" targetRef="end" />'
    )
    messages = refused(document(process("main", body)))
    assert any("“环节orphan”（orphan）与开始事件不相连" in m for m in messages), messages


def test_unconnected_task_inside_a_subprocess_is_named_too():
    inner = user_task("inside") + user_task("stray")
    body = (
        '<bpmn:startEvent id="start" />'
        + subprocess("sub", inner, ["inside"])
        + '<bpmn:endEvent id="end" />'
        + chain("start", "sub", "end")
    )
    messages = refused(document(process("main", body)))
    assert [m for m in messages if "与开始事件不相连" in m] == [
        "环节“环节stray”（stray）与开始事件不相连：没有任何案件会到达它，请连线或删除。"
    ]


def test_groups_that_map_to_no_role_are_listed_in_one_message(settings):
    settings.YIWANG_BPMN_GROUP_ROLES = {"management": "department_head"}
    body = (
        '<bpmn:startEvent id="start" />'
        + user_task("t1", "", 'camunda:candidateGroups="sales,marketing"')
        + user_task("t2", "", 'flowable:candidateGroups="management"')
        + user_task("t3", "", 'camunda:assignee="${reviewer}"')
        + '<bpmn:endEvent id="end" />'
        + chain("start", "t1", "t2", "t3", "end")
    )
    messages = refused(document(process("main", body)))
    unmapped = [m for m in messages if "无法对应到一网的角色" in m]
    assert len(unmapped) == 1
    for name in ("“sales”", "“marketing”", "“${reviewer}”"):
        assert name in unmapped[0]
    assert "management" not in unmapped[0]  # mapped by the setting
    assert "YIWANG_BPMN_GROUP_ROLES" in unmapped[0]


def test_a_role_that_is_not_yiwangs_is_refused():
    body = (
        '<bpmn:startEvent id="start" />'
        + user_task("t1", "boss")
        + '<bpmn:endEvent id="end" />'
        + chain("start", "t1", "end")
    )
    messages = refused(document(process("main", body)))
    assert any("“boss”不是一网的角色" in m for m in messages), messages


def test_spiff_prescript_inside_a_subprocess_is_refused():
    inner = (
        '<bpmn:userTask id="pre" name="预处理"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="role" value="approver" /></spiffworkflow:properties>'
        "<spiffworkflow:preScript>import os</spiffworkflow:preScript></bpmn:extensionElements></bpmn:userTask>"
    )
    body = (
        '<bpmn:startEvent id="start" />'
        + subprocess("sub", inner, ["pre"])
        + '<bpmn:endEvent id="end" />'
        + chain("start", "sub", "end")
    )
    messages = refused(document(process("main", body)))
    assert any("pre" in m and "spiffworkflow:preScript" in m for m in messages), messages


def _case(pk: int, dept):
    return SimpleNamespace(
        pk=pk, item_id=None, department_id=dept.pk, region=dept.region, applicant_id=None, due_date=None
    )


@pytest.mark.django_db
def test_call_activity_and_lanes_run_with_roles_from_chinese_names():
    """A process calling another in the same file, lanes named 受理/审核 and a call activity in
    a lane named 局长: each inbox row has the role, and the case runs to its end."""
    lanes = (
        '<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="受理"><bpmn:flowNodeRef>accept</bpmn:flowNodeRef>'
        '</bpmn:lane><bpmn:lane id="l2" name="局长"><bpmn:flowNodeRef>call_decide</bpmn:flowNodeRef></bpmn:lane>'
        "</bpmn:laneSet>"
    )
    main = process(
        "main",
        lanes
        + '<bpmn:startEvent id="start" />'
        + '<bpmn:userTask id="accept" name="受理" />'
        + '<bpmn:callActivity id="call_decide" name="决定" calledElement="decide_proc" />'
        + '<bpmn:endEvent id="end" />'
        + chain("start", "accept", "call_decide", "end"),
    )
    called = process(
        "decide_proc",
        '<bpmn:startEvent id="d_start" /><bpmn:userTask id="sign" name="签发" />'
        '<bpmn:userTask id="check" name="复核" yiwang:role="审核" /><bpmn:endEvent id="d_end" />'
        + chain("d_start", "check", "sign", "d_end", prefix="d"),
        executable=False,
    )
    definition = services.upload_definition(key="called", xml=document(main, called), by="admin")
    assert definition.approval_steps == 3

    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(910, dept)
    services.start_process(case, definition=definition)
    seen = []
    while tasks := list(selectors.open_tasks(case)):
        seen.append((tasks[0].spec_name, tasks[0].role))
        services.complete_task(tasks[0], actor=None, decision="done", case=case)
    assert seen == [("accept", "counter_clerk"), ("check", "approver"), ("sign", "department_head")]
    assert selectors.is_finished(case)


@pytest.mark.django_db
def test_refused_upload_writes_nothing():
    xml = document(
        process(
            "main",
            '<bpmn:startEvent id="start" />'
            + subprocess("sub", '<bpmn:serviceTask id="svc" camunda:class="x.Y" />', ["svc"])
            + user_task("accept", "counter_clerk")
            + '<bpmn:endEvent id="end" />'
            + chain("start", "accept", "sub", "end"),
        )
    )
    with pytest.raises(ValidationFailed) as exc:
        services.upload_definition(key="bad", xml=xml)
    assert any(e.field == "bpmn" and "svc" in e.message for e in exc.value.errors)
    assert not ProcessDefinition.objects.filter(key="bad").exists()


def test_calls_that_nest_and_repeat_are_refused_before_they_expand_without_end():
    # Each level calls the next twice: 2**16 copies of the last one if expanded in full.
    levels = [
        process(
            f"p{i}",
            f'<bpmn:startEvent id="s{i}" />'
            f'<bpmn:callActivity id="c{i}a" calledElement="p{i + 1}" />'
            f'<bpmn:callActivity id="c{i}b" calledElement="p{i + 1}" />'
            f'<bpmn:endEvent id="e{i}" />' + chain(f"s{i}", f"c{i}a", f"c{i}b", f"e{i}", prefix=f"x{i}_"),
            executable=i == 0,
        )
        for i in range(16)
    ]
    last = process(
        "p16",
        '<bpmn:startEvent id="s16" />'
        + user_task("leaf")
        + '<bpmn:endEvent id="e16" />'
        + chain("s16", "leaf", "e16", prefix="x16_"),
        executable=False,
    )
    messages = refused(document(*levels, last))
    assert any("请减少嵌套的调用" in m for m in messages), messages


def test_pool_names_the_role_of_user_tasks_and_untyped_tasks_without_one_pass_through():
    collaboration = (
        '<bpmn:collaboration id="c"><bpmn:participant id="pool" name="审核" processRef="main" />'
        "</bpmn:collaboration>"
    )
    body = (
        '<bpmn:startEvent id="start" /><bpmn:task id="note" name="登记" />'
        '<bpmn:userTask id="check" name="审核材料" /><bpmn:endEvent id="end" />'
        + chain("start", "note", "check", "end")
    )
    xml = document(process("main", body)).replace("<bpmn:process", collaboration + "<bpmn:process", 1)
    parsed = engine.parse(xml)
    assert [(s.spec_name, s.role) for s in parsed.steps] == [("check", "approver")]
    wf = engine.new_workflow(xml)
    (ready,) = engine.ready_user_tasks(wf)  # the untyped task ran by itself
    assert ready.task_spec.name == "check" and engine.step_of(ready).role == "approver"
    engine.complete(wf, ready.id, {"decision": "done"})
    assert wf.is_completed()
