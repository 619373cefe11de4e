"""The joint process: unified acceptance opens a branch case per applicable member; each branch
decision is recorded, and the last one opens the unified decision; delivery and closing of the
umbrella settle its branches."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import F, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import personal
from yiwang.cases import services as cases
from yiwang.cases.models import Case, CaseState
from yiwang.core import audit
from yiwang.workflow import bulk as wf_bulk
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow import services as workflow
from yiwang.workflow.models import ProcessDefinition, Task, WorkflowInstance

from .. import process
from ..models import BranchOutcome, BranchState, Bundle, BundleApplication, BundleBranch, BundleMember
from .combined_form import forms_of
from .definitions import branch_limit

_BRANCH_DEFINITIONS: dict[str, int] = {}


def branch_definition(key: str) -> ProcessDefinition:
    """The branch process ``key`` (one of ``process.BRANCH_KEYS``), uploaded on first use."""
    pk = _BRANCH_DEFINITIONS.get(key)
    if pk is not None:
        # the key too: a rolled-back test database may give the id to another definition
        found = ProcessDefinition.objects.filter(pk=pk, key=key).first()
        if found is not None:
            return found
    definition = workflow.upload_definition(
        key=key, xml=process.branch_bpmn(key), by="system", is_template=True
    )
    _BRANCH_DEFINITIONS[key] = definition.pk
    return definition


def _branch_key(bundle: Bundle, second_review: bool) -> str:
    if bundle.one_step_branches:
        return process.BRANCH_ONE_STEP  # the department's opinion is its review: no second review
    return process.BRANCH_SECOND_REVIEW if second_review else process.BRANCH_TWO_STEP


def umbrella_link(case: Case) -> BundleApplication | None:
    """The bundle application of an umbrella case (with its bundle), or None for any other."""
    return (
        BundleApplication.objects.select_related("bundle").filter(application_id=case.application_id).first()
    )


def spawn_branches(
    umbrella: Case, *, actor: User | None = None, opened: Iterable[Task] | None = None
) -> list[BundleBranch]:
    """Unified acceptance: one accepted branch case per applicable member, at its department, with
    the mapped fields and the shared materials (rows pointing at the same stored files); the
    wait tasks of members that do not apply are completed as ``skipped``. Runs inside the
    umbrella's Accept (receiver of ``case_accepted``). The rows of all branches are written
    together (``cases.services.open_branch_cases``)."""
    link = umbrella_link(umbrella)
    if link is None:
        return []
    bundle = link.bundle
    applicable = set(link.member_ids)
    # The branch wait tasks the acceptance opened (``opened``: as the Accept step made them).
    tasks = opened if opened is not None else wf_selectors.open_tasks(umbrella)
    waits = {t.spec_name: t for t in tasks if t.role == process.BRANCH_ROLE}
    members = list(
        BundleMember.objects.filter(bundle=bundle).select_related(
            "item__current_version", "item__department", "item__region"
        )
    )
    chosen: list[BundleMember] = []
    for member in members:
        task = waits.get(process.branch_step(member.pk))
        if task is None:
            continue  # not in this umbrella's process (added after it started)
        if member.pk not in applicable:
            workflow.complete_task(task, actor=actor, decision="skipped", case=umbrella)
            continue
        chosen.append(member)
    if not chosen:
        return []
    umbrella_data = personal.open_data(umbrella.application, reader=personal.SYSTEM)
    fields = list(bundle.fields.all())
    materials = list(bundle.materials.all())
    if bundle.one_step_branches:
        second: set[int] = set()  # the member's own process is not asked for: it is not used
    else:
        second = {
            i
            for i, p in wf_selectors.bound_processes([m.item_id for m in chosen]).items()
            if "second" in p["key"]
        }
    keys = {m.pk: _branch_key(bundle, m.item_id in second) for m in chosen}
    definitions = {key: branch_definition(key) for key in set(keys.values())}
    forms = forms_of([m.item_id for m in chosen])
    openings = []
    for member in chosen:
        item_key = str(member.item_id)
        data = {
            f.mapping[item_key]: umbrella_data[f.key]
            for f in fields
            if item_key in f.mapping and f.key in umbrella_data
        }
        openings.append(
            cases.BranchOpening(
                item=member.item,
                form=forms[member.item_id],
                data=data,
                limit_days=branch_limit(member),
                idempotency_key=f"bundle-{umbrella.pk}-{member.pk}",
            )
        )
    branches = cases.open_branch_cases(umbrella, openings)
    # Shared materials: a row per material each member needs, pointing at the stored file.
    shared = cases.share_materials(
        umbrella,
        [
            (
                branch.application_id,
                branch.pk,
                {
                    mat.name: mat.mapping[str(member.item_id)]
                    for mat in materials
                    if str(member.item_id) in mat.mapping
                },
            )
            for member, branch in zip(chosen, branches, strict=True)
        ],
    )
    wf_bulk.start_processes(
        [(branch, definitions[keys[member.pk]]) for member, branch in zip(chosen, branches, strict=True)]
    )
    if link.open_branches != len(branches):  # set at the draft; a member may have left the process
        BundleApplication.objects.filter(pk=link.pk).update(open_branches=len(branches))
    created = BundleBranch.objects.bulk_create(
        [
            BundleBranch(
                umbrella=umbrella,
                branch=branch,
                member=member,
                department=member.item.department,
                advisory=member.advisory,
                limit_days=branch.limit_days,
                due_date=branch.due_date,
                wait_step=process.branch_step(member.pk),
            )
            for member, branch in zip(chosen, branches, strict=True)
        ]
    )
    note = _("一件事办件 %(n)s") % {"n": umbrella.number}
    # The branches' timeline lines and the umbrella's, with the Accept step's other rows.
    cases.add_events(
        [
            cases.timeline_line(
                branch, "bundle_accepted", _("一件事统一受理，分送本部门办理"), actor=actor, note=note
            )
            for branch in branches
        ]
        + [
            cases.timeline_line(
                umbrella,
                "bundle_branches",
                _("已分送各部门并联办理"),
                actor=actor,
                note="；".join(
                    f"{m.item.department.name}：{b.item_name}（{b.number}）"
                    for m, b in zip(chosen, branches, strict=True)
                ),
            )
        ]
    )
    umbrella.state = CaseState.UNDER_REVIEW
    audit.record(
        "bundles.branches_created",
        umbrella,
        summary=f"{umbrella.number} → {len(branches)}",
        detail={
            "bundle": bundle.code,
            "branches": [
                {
                    "case": b.number,
                    "member": m.pk,
                    "fields": sorted(o.data),
                    "materials": shared.get(b.pk, 0),
                }
                for m, b, o in zip(chosen, branches, openings, strict=True)
            ],
        },
    )
    return created


def on_branch_decided(case: Case) -> bool:
    """A branch case was decided: record it; when it was the last open branch, complete the
    umbrella's branch wait tasks together, which opens the unified decision. Returns whether
    ``case`` is a branch.

    Exactly once: the branch row is marked decided (only from open: a second call does
    nothing), then the umbrella link's count of open branches is decremented in one UPDATE,
    which takes that row's lock; of two last branches decided at the same moment, the second
    waits for the first's commit, decrements what it left and reaches 0: it alone completes the
    waits. Until then the waits stay open (one engine step of the umbrella per bundle instead of
    one per branch); ``BundleBranch`` rows carry each branch's progress for the pages and
    supervision."""
    outcome = BranchOutcome.APPROVED if case.outcome == "approved" else BranchOutcome.DENIED
    row = BundleBranch.objects.filter(branch_id=case.pk, state__in=(BranchState.OPEN, BranchState.CORRECTION))
    marked = row.update(
        state=BranchState.DECIDED, outcome=outcome, decided_at=case.decided_at or timezone.now()
    )
    if not marked:  # not a branch, or decided already
        return BundleBranch.objects.filter(branch_id=case.pk).exists()
    umbrella_id = BundleBranch.objects.filter(branch_id=case.pk).values_list("umbrella_id", flat=True).get()
    label = _("准予") if outcome == BranchOutcome.APPROVED else _("不予")
    cases.add_event(
        Case(pk=umbrella_id),
        "branch_decided",
        (_("%(d)s已作出决定：%(o)s") % {"d": case.department.name, "o": label})[:100],
        note=f"{case.item_name}（{case.number}）{('：' + case.reasons) if case.reasons else ''}",
    )
    link = BundleApplication.objects.filter(
        application_id=Subquery(Case.objects.filter(pk=umbrella_id).values("application_id")[:1])
    )
    counted = link.update(open_branches=F("open_branches") - 1)
    left = link.values_list("open_branches", flat=True).first() if counted else None
    if left is None:
        # Accepted before the count existed: lock the umbrella's process (the lock its steps
        # take), then read the other branches; the second of two last branches sees the first.
        WorkflowInstance.objects.select_for_update().filter(case_id=umbrella_id).values_list("pk").first()
        unfinished = (BranchState.OPEN, BranchState.CORRECTION)
        if BundleBranch.objects.filter(umbrella_id=umbrella_id, state__in=unfinished).exists():
            return True
    elif left > 0:
        return True
    _open_unified_decision(umbrella_id)
    return True


def _open_unified_decision(umbrella_id: int) -> None:
    """Every branch is decided: complete the umbrella's branch wait tasks in one engine step
    (each with its branch's outcome); the parallel join opens the unified decision."""
    umbrella = Case.objects.select_related("region").get(pk=umbrella_id)
    decisions = dict(
        BundleBranch.objects.filter(umbrella_id=umbrella_id).order_by().values_list("wait_step", "outcome")
    )
    opened, _done = wf_bulk.complete_tasks(None, decisions, case=umbrella)
    if any(t.spec_name == "decide" for t in opened):
        cases.add_event(umbrella, "branches_done", _("各部门均已办结，待统一决定"))


def _mark_branches(umbrella: Case, state: str) -> list[int]:
    """Every branch row of the umbrella to ``state``; returns their branch case ids."""
    rows = BundleBranch.objects.filter(umbrella_id=umbrella.pk)
    ids = sorted(rows.values_list("branch_id", flat=True))
    rows.update(state=state)
    return ids


def on_umbrella_delivered(case: Case) -> None:
    """One delivery of all results: each branch case is delivered with the umbrella."""
    ids = _mark_branches(case, BranchState.DELIVERED)
    if not ids:
        return
    method = getattr(getattr(case, "delivery", None), "method", None) or case.delivery_method
    # One delivery row per branch case: one a branch already has is kept.
    cases.settle_with(ids, delivered_at=case.delivered_at or timezone.now(), method=method)
    label = _("随一件事统一送达（%(n)s）") % {"n": case.number}
    cases.add_events([cases.timeline_line(i, "delivered", label[:100]) for i in ids])


def on_umbrella_closed(case: Case) -> None:
    """The umbrella closed: each branch case closes with it."""
    ids = _mark_branches(case, BranchState.CLOSED)
    if not ids:
        return
    cases.settle_with(ids, closed_at=case.closed_at or timezone.now())
    label = _("随一件事办结（%(n)s）") % {"n": case.number}
    cases.add_events([cases.timeline_line(i, "closed", label[:100]) for i in ids])
