"""The published guide's steps, who does them and the instant type come from the process the
item runs (issue 17, point 5): the guide cannot promise a step the process does not have."""

from __future__ import annotations

import pytest

from tests import factories as f
from yiwang.catalog import services
from yiwang.core.errors import ValidationFailed
from yiwang.workflow import services as workflow
from yiwang.workflow.bpmn_templates import PROMISE_SECOND_REVIEW, to_bpmn

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    regions = f.region_tree()
    return f.department(regions["county"]), f.standard_item()


def _steps(version):
    return [(s["name"], s["handler"], s["is_approval"]) for s in version.elements["steps"]]


def test_promise_item_lists_the_template_steps_with_their_roles(setup):
    dept, std = setup
    version = services.publish(f.implementation(std, dept))
    assert _steps(version) == [
        ("受理", "窗口受理人员", True),
        ("审查", "审批人员", True),
        ("现场核查/专家评审", "审批人员", True),
        ("决定", "部门负责人", True),
        ("送达", "窗口受理人员", False),
    ]
    assert version.elements["approval_steps"] == 4


def test_a_side_trip_is_marked_optional_in_the_guide(setup, client):
    dept, std = setup
    version = services.publish(f.implementation(std, dept))
    optional = [s["name"] for s in version.elements["steps"] if s["optional"]]
    assert optional == ["现场核查/专家评审"]
    page = client.get(f"/items/{version.item.code}/").content.decode()
    step = page[page.index("现场核查/专家评审") :]
    assert "如需" in step[: step.index("</li>")]


def test_instant_item_names_who_decides(setup):
    """The demo's instant item said 受理 → 办结 by the counter; the process's decision is the
    department head's, and the guide says so."""
    dept, std = setup
    version = services.publish(f.implementation(std, dept, is_instant=True, promised_limit_days=None))
    assert _steps(version) == [
        ("受理", "窗口受理人员", True),
        ("决定", "部门负责人", True),
        ("送达", "窗口受理人员", False),
    ]


def test_notes_give_time_limits_and_criteria_by_step_name(setup):
    dept, std = setup
    notes = [
        {
            "name": "受理",
            "is_approval": True,
            "handler": "随便写的",
            "time_limit_days": 1,
            "criteria": "材料齐全",
        },
        {"name": "决定", "is_approval": True, "handler": "", "time_limit_days": 2, "criteria": ""},
    ]
    version = services.publish(f.implementation(std, dept, steps=notes))
    by_name = {s["name"]: s for s in version.elements["steps"]}
    assert by_name["受理"]["handler"] == "窗口受理人员"  # the role, not the note
    assert (by_name["受理"]["time_limit_days"], by_name["受理"]["criteria"]) == (1, "材料齐全")
    assert by_name["决定"]["time_limit_days"] == 2
    assert by_name["审查"]["time_limit_days"] is None


def test_bound_process_gives_the_guide_its_steps(setup):
    dept, std = setup
    item = f.implementation(std, dept, steps=[])
    definition = workflow.upload_definition(key="second", xml=to_bpmn(PROMISE_SECOND_REVIEW), by="admin")
    workflow.bind(item, definition)
    version = services.publish(item)
    assert [s[0] for s in _steps(version)] == ["受理", "审查", "现场核查/专家评审", "复审", "决定", "送达"]
    assert version.elements["approval_steps"] == 5


def test_instant_item_on_a_process_with_review_is_refused(setup):
    dept, std = setup
    item = f.implementation(std, dept, is_instant=True, promised_limit_days=None, steps=[])
    definition = workflow.upload_definition(key="second", xml=to_bpmn(PROMISE_SECOND_REVIEW), by="admin")
    workflow.bind(item, definition)
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item)
    (error,) = [e for e in exc.value.errors if e.code == "instant_with_review"]
    assert error.field == "is_instant"
    assert "审查" in error.message and "复审" in error.message


def test_bulk_publish_refuses_the_same_disagreement(setup):
    dept, std = setup
    bad = f.implementation(std, dept, steps=[{"name": "办结", "is_approval": True}])
    assert services.bulk_publish([bad]) == 0
