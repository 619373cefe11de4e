"""The unified decision under each outcome rule."""

from __future__ import annotations

import pytest

from yiwang.bundles import services as bundles
from yiwang.bundles.models import BundleBranch, OutcomeRule
from yiwang.cases import actions
from yiwang.cases.models import CaseState
from yiwang.core.errors import DomainError

from .conftest import accepted_bundle, build_bundle, decide_branch


def branches(umbrella) -> dict[str, BundleBranch]:
    return {
        b.department.name: b
        for b in BundleBranch.objects.filter(umbrella=umbrella).select_related("branch", "department")
    }


def test_all_must_approve_one_denial_denies_the_whole(bw):
    bundle = build_bundle(bw, outcome_rule=OutcomeRule.ALL_MUST_APPROVE)
    umbrella = accepted_bundle(bw, bundle)
    by_dept = branches(umbrella)
    for name, b in by_dept.items():
        if name == "鼓楼区文化和旅游局":
            decide_branch(bw, b.branch, "deny", reasons="项目位于文物保护单位建设控制地带，方案未避让")
        else:
            decide_branch(bw, b.branch)
    result = bundles.outcome_of(umbrella)
    assert result.decision == "deny"
    assert [b.department.name for b in result.binding_denials] == ["鼓楼区文化和旅游局"]
    # the head cannot approve against the rule, whichever way the decision comes
    with pytest.raises(DomainError) as err:
        actions.Decide(umbrella, bw.head, decision="approve").run()
    assert "不予" in err.value.messages[0]
    umbrella.refresh_from_db()
    assert umbrella.state == CaseState.UNDER_REVIEW  # nothing half written
    umbrella = bundles.decide_bundle(umbrella, actor=bw.head)
    assert umbrella.state == CaseState.DENIED and umbrella.outcome == "denied"
    assert "鼓楼区文化和旅游局" in umbrella.reasons and "建设控制地带" in umbrella.reasons
    assert umbrella.appeal_rights  # a denial carries the appeal rights


def test_advisory_denial_is_shown_but_does_not_deny(bw):
    bundle = build_bundle(
        bw, code="dpyh-adv", outcome_rule=OutcomeRule.ADVISORY_ALLOWED, advisory=("traffic",)
    )
    umbrella = accepted_bundle(bw, bundle)
    for name, b in branches(umbrella).items():
        if name == "鼓楼区交通运输局":
            assert b.advisory
            decide_branch(bw, b.branch, "deny", reasons="出入口距交叉口过近，建议调整")
        else:
            decide_branch(bw, b.branch)
    result = bundles.outcome_of(umbrella)
    assert result.decision == "approve" and not result.binding_denials
    assert [b.department.name for b in result.advisory_denials] == ["鼓楼区交通运输局"]
    umbrella = bundles.decide_bundle(umbrella, actor=bw.head)
    assert umbrella.state == CaseState.APPROVED
    assert "参考性意见" in umbrella.reasons and "交叉口" in umbrella.reasons


def test_advisory_rule_still_denies_on_a_binding_denial(bw):
    bundle = build_bundle(
        bw, code="dpyh-adv2", outcome_rule=OutcomeRule.ADVISORY_ALLOWED, advisory=("traffic",)
    )
    umbrella = accepted_bundle(bw, bundle)
    for name, b in branches(umbrella).items():
        deny = name in ("鼓楼区交通运输局", "鼓楼区生态环境局")
        decide_branch(bw, b.branch, "deny" if deny else "approve", reasons="不符合要求" if deny else "")
    result = bundles.outcome_of(umbrella)
    assert result.decision == "deny"
    assert [b.department.name for b in result.binding_denials] == ["鼓楼区生态环境局"]
    assert [b.department.name for b in result.advisory_denials] == ["鼓楼区交通运输局"]


def test_unified_decision_waits_for_every_branch(bw):
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    first = next(iter(branches(umbrella).values()))
    decide_branch(bw, first.branch)
    with pytest.raises(DomainError):
        bundles.decide_bundle(umbrella, actor=bw.head)
    with pytest.raises(DomainError):  # no decide task yet
        actions.Decide(umbrella, bw.head, decision="approve").run()
    # a decided branch is recorded once: deciding it again is refused by its own process
    with pytest.raises(DomainError):
        actions.Decide(first.branch, bw.depts["energy"].head, decision="approve").run()
