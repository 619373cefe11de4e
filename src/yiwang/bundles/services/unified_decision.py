"""The unified decision: what the bundle's outcome rule gives for its branches, and the lead
department head's one decision, which must follow it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.core.errors import DomainError

from ..models import BranchOutcome, BranchState, BundleBranch, OutcomeRule
from .branches import umbrella_link


@dataclass
class BundleOutcome:
    """The unified decision the outcome rule gives: ``decision`` approve/deny ("" while a branch
    is still open), the binding denials (they deny the whole) and the advisory ones (shown, not
    binding), and the reasons text the decision carries."""

    decision: str
    binding_denials: list[BundleBranch] = field(default_factory=list)
    advisory_denials: list[BundleBranch] = field(default_factory=list)
    reasons: str = ""


def outcome_of(umbrella: Case) -> BundleOutcome:
    """What the outcome rule gives for the umbrella's branches ("" while one is still open)."""
    branches = list(
        BundleBranch.objects.filter(umbrella=umbrella)
        .select_related("branch", "department", "member__bundle")
        # what the rule and its reasons read (a branch case row is wide); the rule is the
        # bundle's, reached through the branches' members
        .only(
            "state",
            "outcome",
            "advisory",
            "branch__item_name",
            "branch__reasons",
            "department__name",
            "member__bundle__outcome_rule",
        )
        .order_by("member__order")
    )
    if not branches or any(b.state in (BranchState.OPEN, BranchState.CORRECTION) for b in branches):
        return BundleOutcome("")
    rule = branches[0].member.bundle.outcome_rule
    denied = [b for b in branches if b.outcome == BranchOutcome.DENIED]
    if rule == OutcomeRule.ADVISORY_ALLOWED:
        binding = [b for b in denied if not b.advisory]
        advisory = [b for b in denied if b.advisory]
    else:
        binding, advisory = denied, []
    parts = []
    if binding:
        parts.append(
            _("以下部门不予许可：")
            + "；".join(f"{b.department.name}（{b.branch.item_name}）：{b.branch.reasons}" for b in binding)
        )
    if advisory:
        parts.append(
            _("参考性意见（不影响整体结果）：")
            + "；".join(f"{b.department.name}（{b.branch.item_name}）：{b.branch.reasons}" for b in advisory)
        )
    return BundleOutcome("deny" if binding else "approve", binding, advisory, "。".join(parts))


_DECIDING: ContextVar[tuple[int, BundleOutcome] | None] = ContextVar("bundles_deciding", default=None)


def decide_bundle(umbrella: Case, *, actor: User, reasons: str = "") -> Case:
    """The unified decision (lead department head): the outcome rule decides approve or deny;
    the reasons name the denying departments (and the advisory opinions)."""
    result = outcome_of(umbrella)
    if not result.decision:
        raise DomainError(_("尚有部门未办结，不能统一决定。"), code="branches_open")
    text = "。".join(t for t in (result.reasons, (reasons or "").strip()) if t)
    # The receiver's check below need not read the branches again: once every branch is
    # decided their outcomes are final, so the rule gives what it gave here.
    token = _DECIDING.set((umbrella.pk, result))
    try:
        return actions.Decide(umbrella, actor, decision=result.decision, reasons=text).run()
    finally:
        _DECIDING.reset(token)


def check_unified_decision(case: Case) -> None:
    """Receiver side of ``case_decided`` on an umbrella: a decision against the outcome rule is
    refused (the whole Decide rolls back), whichever page or API made it."""
    known = _DECIDING.get()
    if known is not None and known[0] == case.pk:
        result = known[1]
    elif umbrella_link(case) is None:
        return
    else:
        result = outcome_of(case)
    wanted = {"approve": "approved", "deny": "denied"}.get(result.decision)
    if wanted and case.outcome != wanted:
        raise DomainError(
            _("按本一件事的结果规则，应当作出“%(d)s”的决定。")
            % {"d": _("准予") if wanted == "approved" else _("不予")},
            field="decision",
            code="outcome_rule",
        )
