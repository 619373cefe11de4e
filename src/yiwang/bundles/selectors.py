"""Reads of the bundles app for pages: bundle definitions, a bundle case's overview, what a
staff member may see of a bundle case, and the supervisor's list of bundles held up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from yiwang.cases.actions import has_role_for
from yiwang.cases.models import Case, CaseState, Notice, NoticeKind
from yiwang.cases.selectors import time_left
from yiwang.catalog.models import ServiceItem
from yiwang.identity.selectors import department_scope_q
from yiwang.regions.models import Department
from yiwang.workflow import selectors as wf_selectors

from .models import BranchState, Bundle, BundleApplication, BundleBranch
from .services import BundleOutcome, outcome_of


@dataclass
class BranchRow:
    branch: BundleBranch
    case: Case  # the branch case
    department_name: str
    item_name: str
    state: str  # the branch case's state
    state_label: str
    advisory: bool
    outcome: str  # "", "approved", "denied"
    due_date: dt.date | None
    days_left: int | None  # working days; negative when overdue; None once decided
    holding_up: bool = False
    decision_notice: Notice | None = None  # of the branch decision


@dataclass
class BundleOverview:
    bundle: Bundle
    umbrella: Case
    rows: list[BranchRow] = field(default_factory=list)
    holding_up: BranchRow | None = None
    outcome: BundleOutcome | None = None  # once every branch is decided


@dataclass
class HeldUp:
    umbrella: Case
    bundle: Bundle | None
    row: BranchRow


def published_bundles() -> QuerySet[Bundle]:
    return Bundle.objects.filter(published=True, item__current_version__isnull=False).select_related(
        "item", "lead_department"
    )


def bundle_for_item(item: ServiceItem | int) -> Bundle | None:
    return Bundle.objects.filter(item_id=getattr(item, "pk", item)).first()


def is_umbrella(case: Case) -> bool:
    return BundleApplication.objects.filter(application_id=case.application_id).exists()


def branch_of(case: Case) -> BundleBranch | None:
    return (
        BundleBranch.objects.select_related("umbrella", "member", "department")
        .filter(branch_id=case.pk)
        .first()
    )


def _rows(branches: list[BundleBranch], today: dt.date | None) -> list[BranchRow]:
    notices = {
        n.case_id: n
        for n in Notice.objects.filter(case_id__in=[b.branch_id for b in branches], kind=NoticeKind.DECISION)
    }
    rows = []
    for b in branches:
        case = b.branch
        decided = b.state not in (BranchState.OPEN, BranchState.CORRECTION)
        days_left = None if decided else time_left(case, today=today).days_left
        rows.append(
            BranchRow(
                branch=b,
                case=case,
                department_name=b.department.name,
                item_name=case.item_name,
                state=case.state,
                state_label=str(case.get_state_display()),
                advisory=b.advisory,
                outcome=b.outcome,
                due_date=case.due_date,
                days_left=days_left,
                decision_notice=notices.get(case.pk),
            )
        )
    return rows


def _holding_up(rows: list[BranchRow]) -> BranchRow | None:
    """The branch the bundle waits for: the most overdue open branch, else the open branch due
    last (a branch waiting for the applicant's correction is not the department's delay)."""
    open_rows = [r for r in rows if r.branch.state in (BranchState.OPEN, BranchState.CORRECTION)]
    if not open_rows:
        return None
    overdue = [r for r in open_rows if r.days_left is not None and r.days_left < 0]
    if overdue:
        return min(overdue, key=lambda r: (r.days_left, r.branch.pk))
    return max(open_rows, key=lambda r: (r.due_date or dt.date.min, -r.branch.pk))


def _branches(umbrella_ids: list[int]) -> list[BundleBranch]:
    return list(
        BundleBranch.objects.filter(umbrella_id__in=umbrella_ids)
        .select_related("branch", "department", "member")
        .prefetch_related("branch__pauses")
        .order_by("umbrella_id", "member__order", "pk")
    )


def bundle_overview(umbrella: Case, *, today: dt.date | None = None) -> BundleOverview:
    """Each branch's department, state, due date, days left and decision notice, the branch that
    holds the bundle up, and (once every branch is decided) the outcome the rule gives."""
    link = BundleApplication.objects.select_related("bundle").get(application_id=umbrella.application_id)
    rows = _rows(_branches([umbrella.pk]), today)
    holding = _holding_up(rows)
    if holding is not None:
        holding.holding_up = True
    result = outcome_of(umbrella) if rows else None
    return BundleOverview(
        bundle=link.bundle,
        umbrella=umbrella,
        rows=rows,
        holding_up=holding,
        outcome=result if result and result.decision else None,
    )


CASE_ROLES = ("counter_clerk", "approver", "department_head", "supervisor")


def _covers(user: User, department: Department) -> bool:
    return has_role_for(user, set(CASE_ROLES), department)


def branches_for_staff(user: User, umbrella: Case, *, today: dt.date | None = None) -> list[BranchRow]:
    """The branches a staff member may see: all of them for the lead department (and supervisors
    and anyone whose scope covers the lead department), else only their own departments'."""
    rows = _rows(_branches([umbrella.pk]), today)
    if _covers(user, umbrella.department):
        return rows
    return [r for r in rows if _covers(user, r.branch.department)]


def held_up_bundles(user: User | None = None, *, today: dt.date | None = None) -> list[HeldUp]:
    """Open bundle cases (in the user's supervision scope when given) with the branch that holds
    each up, the most urgent first."""
    open_states = [
        CaseState.ACCEPTED,
        CaseState.UNDER_REVIEW,
        CaseState.CORRECTION_REQUESTED,
        CaseState.SUSPENDED,
    ]
    found = Case.objects.filter(state__in=open_states, bundle_branches__isnull=False).distinct()
    if user is not None:
        scope = Q(pk__in=[])
        for role in CASE_ROLES:
            scope |= department_scope_q(user, role)
        found = found.filter(scope)
    umbrellas = list(found.select_related("department", "region"))
    links = {
        link.application_id: link.bundle
        for link in BundleApplication.objects.filter(
            application_id__in=[u.application_id for u in umbrellas]
        ).select_related("bundle")
    }
    by_umbrella: dict[int, list[BundleBranch]] = {}
    for b in _branches([u.pk for u in umbrellas]):
        by_umbrella.setdefault(b.umbrella_id, []).append(b)
    out = []
    for u in umbrellas:
        rows = _rows(by_umbrella.get(u.pk, []), today)
        holding = _holding_up(rows)
        if holding is not None:
            holding.holding_up = True
            out.append(HeldUp(umbrella=u, bundle=links.get(u.application_id), row=holding))
    out.sort(key=lambda h: (h.row.days_left if h.row.days_left is not None else 10**6, h.umbrella.pk))
    return out


@dataclass
class InboxBundleCase:
    """A bundle case with an open task in a staff member's inbox."""

    case: Case  # the umbrella or the branch case the task is on
    umbrella: Case
    bundle: Bundle | None
    is_branch: bool
    steps: list[str]  # the labels of its open tasks in the inbox
    due_date: dt.date | None  # the earliest of those tasks' due dates
    branch: BranchRow | None  # a branch: its own row; an umbrella: the branch holding it up


def inbox_bundle_cases(
    user: User, roles: Any = None, *, today: dt.date | None = None
) -> list[InboxBundleCase]:
    """The bundle cases (umbrellas, including those still waiting for unified acceptance, and
    branch cases) on which the user's inbox shows an open task: read through
    ``workflow.selectors.inbox_scopes``, the inbox's own rule, so the two never disagree. Due
    first, then by case."""
    steps: dict[int, list[str]] = {}
    due: dict[int, dt.date | None] = {}
    bundle_cases = Q(case_id__in=BundleBranch.objects.values("branch_id")) | Q(
        case_id__in=Case.objects.filter(application__bundle_link__isnull=False).values("pk")
    )
    for scope in wf_selectors.inbox_scopes(user, roles):
        for case_id, label, due_date in scope.filter(bundle_cases).values_list(
            "case_id", "label", "due_date"
        ):
            if label not in steps.setdefault(case_id, []):
                steps[case_id].append(label)
            was = due.get(case_id)
            if case_id not in due or (due_date is not None and (was is None or due_date < was)):
                due[case_id] = due_date
    if not steps:
        return []
    cases = {c.pk: c for c in Case.objects.filter(pk__in=steps).select_related("department")}
    as_branch = {
        b.branch_id: b
        for b in BundleBranch.objects.filter(branch_id__in=steps).select_related(
            "umbrella", "branch", "department", "member"
        )
    }
    umbrellas = {b.umbrella_id: b.umbrella for b in as_branch.values()}
    umbrellas.update({pk: c for pk, c in cases.items() if pk not in as_branch})
    bundle_of = {
        link.application_id: link.bundle
        for link in BundleApplication.objects.filter(
            application_id__in=[u.application_id for u in umbrellas.values()]
        ).select_related("bundle__lead_department")
    }
    by_umbrella: dict[int, list[BundleBranch]] = {}
    for b in _branches(list(umbrellas)):
        by_umbrella.setdefault(b.umbrella_id, []).append(b)
    out = []
    for case_id, labels in steps.items():
        case = cases.get(case_id)
        if case is None:
            continue
        own = as_branch.get(case_id)
        umbrella = own.umbrella if own is not None else case
        rows = _rows(by_umbrella.get(umbrella.pk, []), today)
        # a branch: its own row; an umbrella: the branch holding it up
        row = next((r for r in rows if r.branch.pk == own.pk), None) if own is not None else _holding_up(rows)
        out.append(
            InboxBundleCase(
                case=case,
                umbrella=umbrella,
                bundle=bundle_of.get(umbrella.application_id),
                is_branch=own is not None,
                steps=labels,
                due_date=due.get(case_id),
                branch=row,
            )
        )
    out.sort(key=lambda r: (r.due_date or dt.date.max, r.case.pk))
    return out


def without_branches(cases_queryset: QuerySet[Case]) -> QuerySet[Case]:
    """A cases queryset without bundle branch cases ("my cases": the applicant follows those on
    their umbrella case)."""
    return cases_queryset.filter(bundle_branch__isnull=True)
