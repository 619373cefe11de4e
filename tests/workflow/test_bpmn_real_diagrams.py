"""Real diagrams drawn in Camunda Modeler, the Flowable/Activiti designers, bpmn-js and
SpiffWorkflow's tests (tests/workflow/diagrams/real/README.md for their sources and licences).

Each is uploaded as an administrator would upload it. Those that use only elements yiwang runs,
and whose assignments (candidate groups, assignees, lanes, pools) map to yiwang roles, are
accepted and run to completion through the services, every user task done from its inbox row.
The others are refused with a message naming each unsupported element and saying why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import factories as f
from yiwang.core.errors import ValidationFailed
from yiwang.workflow import bpmn_model, selectors, services
from yiwang.workflow.models import ProcessDefinition, Task, TaskState

REAL = Path(__file__).parent / "diagrams" / "real"

# The mapping a site would configure (setting YIWANG_BPMN_GROUP_ROLES) for these tools' groups.
SITE_GROUPS = {
    "demo": "approver",
    "kermit": "counter_clerk",
    "management": "department_head",
    "accountancy": "approver",
    "accounting": "approver",
    "engineering": "approver",
    "sales": "approver",
    "Lane 1": "counter_clerk",
    "Lane 2": "approver",
}


@dataclass
class Accepted:
    file: str
    approval_steps: int
    roles: dict[str, str]  # element id → role of every human step
    done: Counter  # how many times each step is completed on the way through
    groups: dict[str, str] = field(default_factory=lambda: SITE_GROUPS)
    start: dict[str, Any] = field(default_factory=dict)
    # Data given when completing a step, one dict per visit (the last repeats).
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


ACCEPTED = [
    # camunda:assignee
    Accepted("camunda-loan-approval.bpmn", 1, {"UserTask_1": "approver"}, Counter(UserTask_1=1)),
    Accepted("camunda-invoice-approval.bpmn", 1, {"UserTask_1": "approver"}, Counter(UserTask_1=1)),
    # camunda:candidateGroups and camunda:initiator, an embedded subprocess whose error end event
    # is caught on its boundary and loops back to the applicant, and an untyped task passed through.
    Accepted(
        "camunda-review-sales-lead.bpmn",
        2,
        {
            "provideNewSalesLead": "applicant",
            "provideAdditionalDetails": "applicant",
            "reviewCustomerRating": "approver",
            "reviewProfitability": "department_head",
        },
        Counter(
            provideNewSalesLead=1,
            provideAdditionalDetails=1,
            reviewCustomerRating=2,
            reviewProfitability=2,
        ),
        answers={
            "reviewProfitability": [{"notEnoughInformation": "true"}, {"notEnoughInformation": "false"}]
        },
    ),
    # A non-interrupting timer on an embedded subprocess: its step counts with the one inside.
    Accepted(
        "camunda-timer-on-embedded-subprocess.bpmn",
        2,
        {"UserTask_1": "counter_clerk", "UserTask_2": "counter_clerk"},
        Counter(UserTask_1=1),
    ),
    # Two embedded subprocesses joined by an inclusive gateway on Java EL conditions.
    Accepted(
        "camunda-inclusive-join-after-subprocesses.bpmn",
        2,
        {"usertask1": "counter_clerk", "usertask2": "approver", "usertask3": "department_head"},
        Counter(usertask1=1, usertask2=1, usertask3=1),
        groups={"a": "counter_clerk", "b": "approver", "c": "department_head"},
        start={"a": 1, "b": 1},
    ),
    # activiti:candidateGroups, parallel steps inside a subprocess with a timer on it.
    Accepted(
        "flowable-fix-system-failure.bpmn",
        2,
        {
            "task1": "approver",
            "task2": "approver",
            "taskAfterSubProcess": "approver",
            "taskAfterTimer": "department_head",
        },
        Counter(task1=1, task2=1, taskAfterSubProcess=1),
    ),
    # activiti:assignee and activiti:candidateGroups, a timer boundary event.
    Accepted(
        "flowable-helpdesk.bpmn",
        2,
        {"firstLineSupport": "counter_clerk", "handleEscalation": "department_head"},
        Counter(firstLineSupport=1),
    ),
    # flowable:candidateGroups
    Accepted(
        "flowable-candidate-groups.bpmn",
        2,
        {"processTask": "approver", "processTask2": "approver"},
        Counter(processTask=1, processTask2=1),
    ),
    # Lanes (in pools, and with Flowable's lane extension elements).
    Accepted(
        "flowable-pools-lanes.bpmn",
        2,
        {"usertask1": "counter_clerk", "usertask2": "approver"},
        Counter(usertask1=1, usertask2=1),
    ),
    Accepted(
        "flowable-lane-extension.bpmn",
        2,
        {"usertask1": "counter_clerk", "usertask2": "approver"},
        Counter(usertask1=1, usertask2=1),
    ),
    # Lanes A, B, C over user and manual tasks, and a subprocess in lane C whose task has none.
    Accepted(
        "spiff-lanes.bpmn",
        4,
        {
            "Activity_A1": "applicant",
            "Activity_A2": "applicant",
            "Activity_B1": "approver",
            "Implement_Feature": "approver",
            "Activity_1uksrqx": "department_head",
            "SubProcessTask": "department_head",
        },
        Counter(
            Activity_A1=1,
            Activity_B1=1,
            Activity_A2=1,
            Implement_Feature=1,
            Activity_1uksrqx=1,
            SubProcessTask=1,
        ),
        groups={"A": "applicant", "B": "approver", "C": "department_head"},
        answers={"Activity_B1": [{"NeedClarification": "Yes"}]},
    ),
]

# file → (element id, words of the reason) that a message must hold, for every unsupported part.
REFUSED = {
    "camunda-parse-bpmn.bpmn": [
        ("serviceTask", "服务任务"),
        ("scriptTask", "脚本任务"),
        ("endEvent", "camunda:executionListener"),
    ],
    "camunda-xslt-scripttask.bpmn": [
        ("ScriptTask_1", "脚本任务"),
        ("StartEvent_1", "camunda:executionListener"),
        ("EndEvent_1", "camunda:executionListener"),
    ],
    "camunda-job-announcement.bpmn": [
        ("mail", "服务任务"),
        ("publication", "不在本文件中"),
        ("#{jobAnnouncementService.findRequester(jobAnnouncementId)}", "无法对应到一网的角色"),
    ],
    "camunda-tenant-main-process.bpmn": [("CallActivity_0ahffuc", "“subProcess”不在本文件中")],
    "camunda-invoice-v2.bpmn": [
        ("approveInvoice", "camunda:taskListener"),
        ("assignApprover", "决策表"),
        ("ServiceTask_1", "服务任务"),
        ("reviewInvoice", "“ReviewInvoice”不在本文件中"),
    ],
    "camunda-json-variables.bpmn": [
        ("Task_0n2pfas", "服务任务"),
        ("SequenceFlow_4", "网关条件不被允许"),
    ],
    "flowable-activiti-designer.bpmn": [
        ("Send_rejection_notification_via_email__3", "服务任务"),
        ("Publish_on_Twitter_3", "服务任务"),
    ],
    # Listeners on an embedded subprocess and on a task.
    "flowable-subprocess-listeners.bpmn": [
        ("subprocess1", "activiti:executionListener"),
        ("userTask1", "activiti:taskListener"),
    ],
    "flowable-call-activity-message-start.bpmn": [("messageStart", "消息事件")],
    "bpmnjs-kitchen-sink.bpmn": [
        ("Task_1ank6jx", "脚本任务"),
        ("Task_1suvpez", "服务任务"),
        ("Task_1165fo8", "决策表"),
        ("Task_0oz8m30", "接收任务"),
        ("Task_0qibn8y", "发送任务"),
        ("ExclusiveGateway_08cpnyi", "复杂网关"),
        ("BoundaryEvent_1pheq3p", "信号事件"),
        ("BoundaryEvent_0iiyz0j", "消息事件"),
        ("Task_0vcqxha", "calledElement"),
    ],
    "spiff-scripts.bpmn": [
        ("sid-26E89636-8D64-4086-A71F-A225A5AA8F81", "脚本任务"),
        ("sid-F7545D0E-08BD-4415-968E-CEF57C5261A9", "脚本任务"),
    ],
    "spiff-call-activity-other-file.bpmn": [
        ("sid-C014B4B9-889F-4EE9-9949-C89502C35CF0", "“sid-c7ccc144-a90c-4a5b-973d-a9d67bc9aae7”不在本文件中")
    ],
}


def test_every_shipped_diagram_is_tested_and_listed():
    files = {p.name for p in REAL.glob("*.bpmn")}
    assert files == {a.file for a in ACCEPTED} | set(REFUSED)
    assert len(files) >= 12
    readme = (REAL / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)


def _case(pk: int, dept):
    return SimpleNamespace(
        pk=pk, item_id=None, department_id=dept.pk, region=dept.region, applicant_id=None, due_date=None
    )


@pytest.mark.django_db
@pytest.mark.parametrize("diagram", ACCEPTED, ids=lambda a: a.file)
def test_real_diagram_is_accepted_and_runs_to_completion(diagram: Accepted, settings):
    settings.YIWANG_BPMN_GROUP_ROLES = diagram.groups
    xml = (REAL / diagram.file).read_text(encoding="utf-8")
    definition = services.upload_definition(key="real", xml=xml, by="admin")
    assert definition.approval_steps == diagram.approval_steps

    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = _case(900, dept)
    services.start_process(case, data=diagram.start, definition=definition)
    visits: Counter = Counter()
    for _ in range(40):
        open_tasks = list(selectors.open_tasks(case))
        if not open_tasks:
            break
        task = open_tasks[0]
        # Each inbox row carries the role read from the tool's own assignment, lane or pool.
        assert task.role == diagram.roles[task.spec_name]
        answers = diagram.answers.get(task.spec_name) or [{}]
        data = {**diagram.start, **answers[min(visits[task.spec_name], len(answers) - 1)]}
        visits[task.spec_name] += 1
        services.complete_task(task, actor=None, decision="done", data=data, case=case)
    assert selectors.is_finished(case)
    assert visits == diagram.done
    assert not Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_diagram_with_unsupported_elements_is_refused_naming_them(name: str, settings):
    settings.YIWANG_BPMN_GROUP_ROLES = SITE_GROUPS
    xml = (REAL / name).read_text(encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        services.upload_definition(key="real", xml=xml, by="admin")
    messages = [e.message for e in exc.value.errors]
    for element, reason in REFUSED[name]:
        assert any(element in m and reason in m for m in messages), (element, reason, messages)
    assert not ProcessDefinition.objects.filter(key="real").exists()


def test_built_in_names_and_the_setting_map_groups_to_roles(settings):
    settings.YIWANG_BPMN_GROUP_ROLES = {"Management": "department_head"}
    configured = bpmn_model.configured_group_roles()
    assert bpmn_model.group_role("审核", configured) == "approver"
    assert bpmn_model.group_role("窗口人员", configured) == "counter_clerk"
    assert bpmn_model.group_role("局长", configured) == "department_head"
    assert bpmn_model.group_role("Approver", configured) == "approver"
    assert bpmn_model.group_role("management", configured) == "department_head"
    assert bpmn_model.group_role("sales", configured) is None


def test_steps_are_listed_in_the_order_a_case_meets_them():
    """The guide lists a process's steps from the start: returns and correction loops do not
    reorder them, and a side trip (inspection) comes before the step that goes on."""
    from yiwang.workflow import engine
    from yiwang.workflow.bpmn_templates import INSTANT, PROMISE, to_bpmn

    assert [(s.spec_name, optional) for s, optional in engine.outline(to_bpmn(PROMISE))] == [
        ("accept", False),
        ("applicant_correction", True),  # leads back to acceptance
        ("review", False),
        ("inspection", True),  # leads back to the review
        ("decide", False),
        ("deliver", False),
    ]
    assert [s.spec_name for s, _optional in engine.outline(to_bpmn(INSTANT))] == [
        "accept",
        "applicant_correction",
        "decide",
        "deliver",
    ]
