"""Corrections during the joint process: a branch asks, the umbrella's one combined request
tells the applicant once, and the applicant's one correction flows back to the branches that
asked."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.cases import actions
from yiwang.cases import services as cases
from yiwang.cases.models import Case, NoticeKind
from yiwang.core import audit
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow import services as workflow

from ..actions import BranchRequestCorrection
from ..models import BranchState, BundleBranch, BundleField, BundleMaterial


def request_branch_correction(branch_case: Case, *, actor: User, items: list[dict[str, str]]) -> Case:
    """A branch asks for a correction (approver of its department, at review): merged into the
    umbrella's one combined correction request; the branch waits and its clock pauses."""
    return BranchRequestCorrection(branch_case, actor, items=items).run()


def on_branch_correction(case: Case, items: list[dict[str, str]]) -> None:
    """Merge a branch's correction items into the umbrella's open combined request (or open one):
    the umbrella goes to correction_requested and its clock pauses; the applicant is told once."""
    bb = BundleBranch.objects.select_related("department", "member").filter(branch=case).first()
    if bb is None:
        return
    bundle_fields = list(BundleField.objects.filter(bundle_id=bb.member.bundle_id))
    bundle_materials = list(BundleMaterial.objects.filter(bundle_id=bb.member.bundle_id))
    item_key = str(case.item_id)
    merged: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {}
        if item.get("material"):
            mat = next((m for m in bundle_materials if m.mapping.get(item_key) == item["material"]), None)
            entry["material"] = mat.name if mat else item["material"]
        if item.get("field"):
            f = next((f for f in bundle_fields if f.mapping.get(item_key) == item["field"]), None)
            entry["field"] = f.key if f else item["field"]
            entry["field_label"] = (
                (f.schema.get("title") if f else None) or item.get("field_label") or item["field"]
            )
        entry["reason"] = f"{bb.department.name}：{item['reason']}"
        entry["branches"] = [case.pk]
        merged.append(entry)
    umbrella = cases.merge_into_correction(bb.umbrella_id, merged)
    note = "；".join(f"{i.get('material') or i.get('field_label')}：{i['reason']}" for i in merged)
    cases.add_event(umbrella, "correction_requested", _("一次性告知补正（合并各部门意见）"), note=note)
    cases.notify_applicant(
        umbrella,
        "correction",
        _("您的一件事办件 %(n)s 需要补正，请登录查看一次性告知（已合并各部门意见）。")
        % {"n": umbrella.number},
    )
    cases.issue_notice_after_commit(umbrella, NoticeKind.CORRECTION)
    bb.state = BranchState.CORRECTION
    bb.save(update_fields=["state"])


def correct_bundle(umbrella: Case, *, user: User, data: dict[str, Any] | None = None) -> Case:
    """The applicant corrects once. At acceptance this is the umbrella's ordinary correction
    (``ApplicantCorrects``); during the branches it answers the combined request: the umbrella
    resumes, and each branch that asked gets the corrected fields and materials and resumes."""
    if wf_selectors.open_tasks(umbrella).filter(spec_name="applicant_correction").exists():
        return actions.ApplicantCorrects(umbrella, user, data=data or {}).run()
    with transaction.atomic():
        answer = cases.answer_correction(umbrella.pk, user=user, data=data)
        umbrella, request = answer.case, answer.request
        cases.add_event(umbrella, "corrected", _("申请人已补正"), actor=user)
        # The corrections flow to the branches that asked.
        asking = {b for i in request.items for b in i.get("branches", [])}
        app_id = umbrella.application_id
        bundle_fields = list(BundleField.objects.filter(bundle__applications__application_id=app_id))
        bundle_materials = {
            m.name: m for m in BundleMaterial.objects.filter(bundle__applications__application_id=app_id)
        }
        for bb in BundleBranch.objects.filter(
            umbrella=umbrella, branch_id__in=asking, state=BranchState.CORRECTION
        ).select_related("branch"):
            item_key = str(bb.branch.item_id)
            branch_data = {
                f.mapping[item_key]: answer.data[f.key]
                for f in bundle_fields
                if item_key in f.mapping and f.key in answer.data
            }
            branch_materials = {
                bundle_materials[name].mapping[item_key]: rows
                for name, rows in answer.materials.items()
                if name in bundle_materials and item_key in bundle_materials[name].mapping
            }
            branch = cases.carry_correction(bb.branch_id, data=branch_data, materials=branch_materials)
            task = wf_selectors.open_tasks(branch).filter(spec_name="bundle_correction").first()
            if task is not None:
                workflow.complete_task(task, actor=user, decision="corrected", case=branch)
            cases.add_event(
                branch, "corrected", _("申请人已补正（一件事合并告知）"), actor=user, visible=False
            )
            bb.state = BranchState.OPEN
            bb.due_date = branch.due_date
            bb.save(update_fields=["state", "due_date"])
        audit.record(
            "bundles.correct",
            umbrella,
            summary=f"{umbrella.number}",
            detail={"items": len(request.items), "branches": sorted(asking)},
        )
    return umbrella
