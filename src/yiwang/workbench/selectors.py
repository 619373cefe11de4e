"""Reads for the workbench pages: which cases a staff member may see, the inbox page, the
person at the counter. Scopes follow ``identity.selectors.department_scope_q``: a role with a
department covers that department, a role with only a region covers every department below it."""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.catalog.models import ServiceItem
from yiwang.identity.models import Person, Role, StaffRole
from yiwang.identity.registries import id_number_hash
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow.models import Task, TaskState
from yiwang.worktime import selectors as worktime

WORK_ROLES = (Role.COUNTER_CLERK, Role.APPROVER, Role.DEPARTMENT_HEAD)
PER_PAGE = 50
STEPS = (
    ("accept", "受理"),
    ("review", "审查"),
    ("second_review", "复审"),
    ("inspection", "现场核查/专家评审"),
    ("decide", "决定"),
    ("deliver", "送达"),
)


def work_roles(user) -> list[StaffRole]:
    if user is None or not user.is_authenticated:
        return []
    return list(StaffRole.objects.filter(user=user).select_related("region", "department"))


def is_staff_member(roles: list[StaffRole], user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or any(r.role in WORK_ROLES for r in roles)))


def case_scope_q(user, roles: list[StaffRole]) -> Q:
    """The cases whose department lies in one of the user's working scopes."""
    if user.is_superuser or any(r.role == Role.PLATFORM_ADMIN for r in roles):
        return Q()
    q = Q(pk__in=[])
    for sr in roles:
        if sr.role not in WORK_ROLES:
            continue
        if sr.department_id:
            q |= Q(department_id=sr.department_id)
        elif sr.region_id:
            q |= Q(department__region__path__startswith=sr.region.path)
    return q


def visible_case(user, roles: list[StaffRole], case_id: int) -> Case:
    """The case if it lies in the user's scope; 404 otherwise (not 403: no hint it exists)."""
    case = (
        Case.objects.filter(case_scope_q(user, roles), pk=case_id)
        .select_related("department", "region", "application", "item_version", "applicant")
        .first()
    )
    if case is None:
        raise Http404
    return case


@dataclass
class InboxRow:
    task: Task
    case: Case | None
    days_left: int | None
    light: str  # green / yellow / red / none


@dataclass
class InboxPage:
    rows: list[InboxRow]
    page: int
    more: bool
    filters: dict[str, str]


def _inbox_parts(user, roles: list[StaffRole]) -> list[QuerySet[Task]]:
    """``workflow.selectors.inbox`` split into one query per scope (assigned to me; open to my
    role in each department or region of mine). The OR of the scopes defeats the inbox indexes
    (PostgreSQL scans and sorts every open task: 67 ms at 200,000); each part alone walks
    ``task_dept_inbox`` / ``task_assignee_inbox`` in due-date order and stops after one page."""
    base = Task.objects.filter(state=TaskState.OPEN).exclude(role="applicant")
    parts = [base.filter(assignee=user)]
    for sr in roles:
        step_roles = [k for k, v in wf_selectors.STAFF_ROLES_BY_STEP_ROLE.items() if sr.role in v]
        if not step_roles:
            continue
        scope = base.filter(role__in=step_roles, assignee__isnull=True)
        if sr.department_id:
            parts.append(scope.filter(department_id=sr.department_id))
        elif sr.region_id:
            parts.append(scope.filter(region_path__startswith=sr.region.path))
    return parts


def _sort_key(t: Task) -> tuple:
    return (t.due_date is None, t.due_date or dt.date.min, t.created_at, t.pk)


def inbox_page(
    user,
    *,
    step: str = "",
    item: str = "",
    state: str = "",
    page: int = 1,
    today: dt.date | None = None,
    roles: list[StaffRole] | None = None,
) -> InboxPage:
    """One page of the inbox sorted by due date (no date last). No total count: a department
    may hold 100,000 open tasks and counting them costs more than the page; one extra row
    tells "more"."""
    today = today or timezone.localdate()
    roles = work_roles(user) if roles is None else roles
    page = max(page, 1)
    start = (page - 1) * PER_PAGE
    wanted = start + PER_PAGE + 1
    bounds = worktime.state_bounds(today)
    case_ids = None
    if item:
        ids = list(ServiceItem.objects.filter(code=item.strip()).values_list("pk", flat=True)[:50])
        case_ids = Case.objects.filter(item_id__in=ids).values("pk")
    ordering = (F("due_date").asc(nulls_last=True), "created_at", "pk")
    fetched: list[list[Task]] = []
    for qs in _inbox_parts(user, roles):
        if step:
            qs = qs.filter(spec_name=step)
        if case_ids is not None:
            qs = qs.filter(case_id__in=case_ids)
        if state == "overdue":
            qs = qs.filter(due_date__lt=bounds.red_before)
        elif state == "due_soon":
            qs = qs.filter(due_date__gte=bounds.red_before, due_date__lt=bounds.yellow_before)
        fetched.append(list(qs.order_by(*ordering)[:wanted]))
    seen: set[int] = set()
    merged: list[Task] = []
    for t in heapq.merge(*fetched, key=_sort_key):
        if t.pk not in seen:  # two overlapping scopes may both hold a task
            seen.add(t.pk)
            merged.append(t)
    tasks = merged[start : start + PER_PAGE + 1]
    more = len(tasks) > PER_PAGE
    tasks = tasks[:PER_PAGE]
    cases = {
        c.pk: c
        for c in Case.objects.filter(pk__in=[t.case_id for t in tasks]).only(
            "pk", "number", "item_name", "applicant_name", "state", "channel", "submitted_at", "department_id"
        )
    }
    rows = []
    for t in tasks:
        if t.due_date is None:
            rows.append(InboxRow(t, cases.get(t.case_id), None, "none"))
            continue
        left = worktime.working_days_between(today, t.due_date)
        rows.append(InboxRow(t, cases.get(t.case_id), left, bounds.state(t.due_date)))
    return InboxPage(rows, page, more, {"step": step, "item": item, "state": state})


def colleagues_for(case: Case, task: Task | None, user) -> list[Any]:
    """Staff of the case's department holding the open task's role, other than ``user``."""
    if task is None:
        return []
    return [
        sr.user
        for sr in StaffRole.objects.filter(role=task.role, department=case.department)
        .exclude(user=user)
        .select_related("user", "user__person")
        .order_by("user__username")
    ]


def person_by_id_number(id_number: str) -> Person | None:
    """The registered person with this ID number, found by its keyed hash (never by plain text)."""
    value = (id_number or "").strip().upper()
    if not value:
        return None
    return Person.objects.select_related("user").filter(id_number_hash=id_number_hash(value)).first()


def counter_item(code: str) -> ServiceItem | None:
    return (
        ServiceItem.objects.select_related("department", "current_version")
        .filter(code=(code or "").strip(), current_version__isnull=False)
        .first()
    )
