"""The one case action a bundle adds: a branch's correction request.

A branch case is already accepted, so the ordinary ``RequestCorrection`` (a step of acceptance)
does not apply; this one is a step of the branch's review. It does not write to the applicant:
``on_branch_correction`` (receiver of ``correction_requested``) merges the items into the
umbrella's one combined request and tells the applicant once.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from yiwang.cases import actions, services
from yiwang.cases.models import CaseState
from yiwang.cases.signals import correction_requested
from yiwang.core.errors import DomainError
from yiwang.workflow import selectors as wf_selectors

from .models import BundleBranch


class BranchRequestCorrection(actions.RequestCorrection):
    name, label, step, decision = (
        "branch_correction",
        "申请补正（并入一件事合并告知）",
        "review",
        "correction",
    )
    from_states = {CaseState.ACCEPTED, CaseState.UNDER_REVIEW}

    def check(self) -> None:
        # A one-step branch (多评合一 opinion) asks from its decision step, by its department head;
        # that step offers "correction", the two-step branch's decision step does not.
        decide = wf_selectors.open_tasks(self.case).filter(spec_name="decide").first()
        if decide is not None and "correction" in decide.decisions:
            self.step = "decide"
        super().check()

    def check_params(self) -> None:
        if not BundleBranch.objects.filter(branch_id=self.case.pk).exists():
            raise DomainError(_("只有一件事的分支办件可以这样申请补正。"), code="not_branch")
        super().check_params()

    def execute(self) -> None:
        items = self.open_request()
        actions.recompute_due(self.case)
        services.add_event(
            self.case,
            "correction_requested",
            _("申请补正（并入一件事合并告知）"),
            actor=self.actor,
            note=actions.correction_note(items),
        )
        correction_requested.send(sender=type(self.case), case=self.case, actor=self.actor, items=items)

    def audit_detail(self) -> dict[str, Any]:
        return {"decision": "correction", "items": len(self.params["items"]), "bundle_branch": True}


# The workbench maps action names to classes (cases.actions.ACTIONS); branch pages add this one.
BRANCH_ACTIONS = {BranchRequestCorrection.name: BranchRequestCorrection}
