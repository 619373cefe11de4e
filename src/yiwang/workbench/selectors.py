"""Reads for the workbench pages: which cases a staff member may see, the inbox page, the
person at the counter. Scopes follow ``identity.selectors.department_scope_q``: a role with a
department covers that department, a role with only a region covers every department below it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from yiwang.cases.models import Case
from yiwang.catalog.models import ServiceItem
from yiwang.core.rows import locked_row
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Person, Role, StaffRole
from yiwang.identity.registries import id_number_hash
from yiwang.supervision.dashboard import DashboardScope
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow.models import Task

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
from yiwang.workflow.selectors import InboxFilters, InboxKey
from yiwang.worktime import selectors as worktime

WORK_ROLES = (Role.COUNTER_CLERK, Role.APPROVER, Role.DEPARTMENT_HEAD)
# Twenty rows: a clerk works the top of the due-date order, and rendering a row is most of the
# page's cost (the load test's staff share is about two thirds of the province's requests).
PER_PAGE = 20
# The inbox shows "1,000+" rather than a total: counting 100,000 open tasks on every page would
# cost more than the page; each scope counts at most this many rows of its index, once on page 1
# (the page links carry the figure on: one statement fewer per page).
COUNT_CAP = 1000
ORDERS = (("due", _lazy("按办理期限")), ("new", _lazy("最新到达")))
CURSOR_SALT = "yiwang.workbench.inbox.cursor"
# The inbox's step filter, labelled in the reader's language.
STEPS = (
    ("accept", _lazy("受理")),
    ("review", _lazy("审查")),
    ("second_review", _lazy("复审")),
    ("inspection", _lazy("现场核查/专家评审")),
    ("decide", _lazy("决定")),
    ("deliver", _lazy("送达")),
)
STEP_LABELS = dict(STEPS)
# The names the shipped processes give these steps (workflow.bpmn_templates), as stored on a task:
# a task so named shows its label in the reader's language; a task renamed in its diagram shows
# its own name (in Traditional characters for 繁體中文, the inbox template's ``hant``).
STEP_NAMES = {
    "accept": "受理",
    "review": "审查",
    "second_review": "复审",
    "inspection": "现场核查/专家评审",
    "decide": "决定",
    "deliver": "送达",
}


def step_label(task: Task) -> str:
    """The task's step as the inbox and the case page name it: a shipped step's label in the
    reader's language, a step renamed in its diagram by its own name."""
    if STEP_NAMES.get(task.spec_name) == task.label:
        return str(STEP_LABELS[task.spec_name])
    return task.label


def work_roles(user: User | AnonymousUser | None) -> list[StaffRole]:
    """The reader's staff roles with their regions (the scopes need the region's path; the
    department only by id), from ``identity.selectors.staff_roles``' cache; none for no account."""
    if user is None or isinstance(user, AnonymousUser):
        return []
    return identity_selectors.staff_roles(user.pk)


# The workbench pages each role works on, for a reader who opened one that is not theirs
# (the forbidden page lists them, so a supervisor landing on the inbox finds their pages).
ROLE_PAGES: dict[str, tuple[tuple[str, StrOrPromise], ...]] = {
    Role.SUPERVISOR.value: (
        ("workbench:warnings", _lazy("预警")),
        ("workbench:orders", _lazy("督办")),
        ("workbench:figures", _lazy("效能统计")),
        ("workbench:rating_ranking", _lazy("差评率排名")),
        ("workbench:exchange_figures", _lazy("交换统计")),
    ),
    Role.DEPARTMENT_HEAD.value: (
        ("workbench:figures", _lazy("效能统计")),
        ("workbench:ratings", _lazy("好差评")),
    ),
    Role.DATA_ADMIN.value: (
        ("workbench:exchange_catalogue", _lazy("共享目录")),
        ("workbench:exchange_requests", _lazy("共享申请")),
        ("workbench:registries", _lazy("基础库")),
        ("workbench:exchange_clients", _lazy("部门系统接入")),
        ("workbench:exchange_figures", _lazy("交换统计")),
    ),
}


def pages_for(roles: list[StaffRole]) -> list[tuple[str, str]]:
    """(address, label) of the pages of the reader's roles, each once, in role order."""
    seen: dict[str, str] = {}
    for r in roles:
        for name, label in ROLE_PAGES.get(r.role, ()):
            seen.setdefault(reverse(name), str(label))
    return list(seen.items())


def is_staff_member(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    """Signed in, and a superuser or holding a working role (``roles``: the user's)."""
    return bool(user.is_authenticated and (user.is_superuser or any(r.role in WORK_ROLES for r in roles)))


@dataclass(frozen=True)
class CaseScope:
    """One working scope of a staff member over cases: every case (``everywhere``), the cases of
    one department, or those of every department below a region (its path as prefix). The one
    place the rule's conditions are written: ``q`` for queries, ``covers`` for a case already
    read (tested equal to each other on both databases: tests/workbench/test_request_cost.py)."""

    everywhere: bool = False
    department_id: int | None = None
    region_path: str = ""

    def q(self) -> Q:
        if self.everywhere:
            return Q()
        if self.department_id:
            return Q(department_id=self.department_id)
        return Q(department__region__path__startswith=self.region_path)

    def covers(self, case: Case) -> bool:
        """``q()`` for ``case``, read with its department's region."""
        if self.everywhere:
            return True
        if self.department_id:
            return case.department_id == self.department_id
        return case.department.region.path.startswith(self.region_path)


def case_scopes(
    user: User | AnonymousUser, roles: list[StaffRole], kinds: tuple[str, ...] = WORK_ROLES
) -> list[CaseScope]:
    """The user's working scopes over cases: everywhere for a superuser or a platform
    administrator; else one per working role, by its department, else its region, else (neither)
    everywhere, as the actions treat it (``cases.actions.has_role_for``). No scope: no case.
    ``kinds``: the roles that give a scope (the supervisor's list of warned cases adds
    ``supervisor``)."""
    everywhere = [CaseScope(everywhere=True)]
    if user.is_superuser or any(r.role == Role.PLATFORM_ADMIN for r in roles):
        return everywhere
    scopes = []
    for sr in roles:
        if sr.role not in kinds:
            continue
        if sr.department_id:
            scopes.append(CaseScope(department_id=sr.department_id))
        elif sr.region_id:
            scopes.append(CaseScope(region_path=sr.region.path))
        else:
            return everywhere
    return scopes


def warned_scope(user: User | AnonymousUser, roles: list[StaffRole]) -> QuerySet[Case]:
    """The cases a supervisor or department head watches for warnings (the scope rule of
    ``case_scope_q`` with the warning roles)."""
    return Case.objects.filter(case_scope_q(user, roles, WARNING_ROLES))


def case_scope_q(
    user: User | AnonymousUser, roles: list[StaffRole], kinds: tuple[str, ...] = WORK_ROLES
) -> Q:
    """The cases whose department lies in one of the user's working scopes."""
    q = Q(pk__in=[])
    for scope in case_scopes(user, roles, kinds):
        if scope.everywhere:
            return Q()
        q |= scope.q()
    return q


# What the actions use of a case (its region's path for the role check, the applicant to notify).
CASE_RELATED = ("department", "region", "application", "item_version", "applicant")
# What the case page shows: fewer joined columns to compile and read on every page view.
CASE_PAGE_RELATED = ("department", "application", "item_version")


def in_case_scope(user: User | AnonymousUser, roles: list[StaffRole], case: Case) -> bool:
    """Whether ``case`` (read with its department's region) is among ``case_scope_q``'s cases:
    the same scopes, each checked on the case as read."""
    return any(scope.covers(case) for scope in case_scopes(user, roles))


def visible_case(
    user: User | AnonymousUser,
    roles: list[StaffRole],
    case_id: int,
    *,
    related: tuple[str, ...] = CASE_RELATED,
) -> Case:
    """The case if it lies in the user's scope; 404 otherwise (not 403: no hint it exists)."""
    try:
        case = locked_row(Case, case_id, (*related, "department__region"), lock=False)
    except Case.DoesNotExist:
        raise Http404 from None
    if not in_case_scope(user, roles, case):
        raise Http404
    return case


@dataclass
class InboxRow:
    """One row of the inbox, with what the page prints already worked out as plain strings, so
    that the template prints values and runs no tags or filters per row."""

    task: Task
    days_left: int | None
    light: str  # green / yellow / red / none
    href: str = ""  # the case page (reversed once per page, not once per row in the template)
    number: str = ""  # the case number (the case id while the case row is missing)
    item_name: str = ""
    applicant_name: str = ""
    label: str = ""  # the step
    counter: bool = False  # entered at a service hall's counter
    assigned: bool = False  # transferred to this reader
    due: str = "—"  # Y-m-d
    left: str = ""  # working days left or overdue, in the reader's language
    left_class: str = "muted"  # the span's classes: the traffic light, or muted before the clock starts
    warning: str = ""  # the supervision's warning level when yellow or red (workbench.views.inbox)
    warning_label: str = ""

    @classmethod
    def of(
        cls, task: Task, case: tuple[str, str, str, str] | None, days_left: int | None, light: str, href: str
    ) -> InboxRow:
        """``case``: the case's number, item name, applicant name and channel (None: no case row)."""
        number, item_name, applicant_name, channel = case or ("", "", "", "")
        if days_left is None:
            left, left_class = _("未起算"), "muted"
        elif days_left >= 0:
            left = ngettext("%(n)s 个工作日", "%(n)s 个工作日", days_left) % {"n": days_left}
            left_class = f"light light-{light}"
        else:
            left = ngettext("超期 %(n)s 个工作日", "超期 %(n)s 个工作日", -days_left) % {"n": -days_left}
            left_class = "light light-red"
        return cls(
            task,
            days_left,
            light,
            href,
            number=number or str(task.case_id),
            item_name=item_name,
            applicant_name=applicant_name,
            label=step_label(task),
            counter=channel == "counter",
            assigned=bool(task.assignee_id),
            due=task.due_date.isoformat() if task.due_date else "—",
            left=left,
            left_class=left_class,
        )


@dataclass
class InboxPage:
    rows: list[InboxRow]
    page: int  # page number as reached by next/previous (tasks move meanwhile: a guide only)
    more: bool  # a next page exists
    filters: dict[str, str]
    order: str = "due"
    has_prev: bool = False
    next_cursor: str = ""
    prev_cursor: str = ""
    count: int = 0  # tasks in the inbox with these filters, up to COUNT_CAP, as of page 1
    count_capped: bool = False  # count is COUNT_CAP or more
    error: str = ""  # a cursor that could not be read (edited, or signed with another key)
    query: dict[str, str] = field(default_factory=dict)  # filters and order for the page links


class BadCursor(ValueError):
    pass


def filters_key(step: str, item: str, state: str) -> str:
    return f"{step}|{item}|{state}"


def encode_cursor(
    order: str, direction: str, key: InboxKey, page: int, count: int = 0, counted_for: str = ""
) -> str:
    """An opaque, signed page link: the order, the direction, the key of the row it starts
    next to (due date, arrival, id), the page number, and the capped count of page 1 with the
    filters it counted (``filters_key``). Signed so that an edited cursor is refused with a
    message instead of walking from an arbitrary place (it could not widen the inbox: every
    query keeps the scopes)."""
    due = key.due_date.isoformat() if key.due_date else None
    payload = [order, direction, due, key.created_at.isoformat(), key.id, page, count, counted_for]
    return signing.dumps(payload, salt=CURSOR_SALT)


def decode_cursor(value: str, order: str) -> tuple[str, InboxKey, int, int, str]:
    """``(direction, key, page, count, counted_for)``; ``BadCursor`` for anything not made by
    ``encode_cursor`` for this order."""
    try:
        o, direction, due, created, pk, page, count, counted_for = signing.loads(value, salt=CURSOR_SALT)
        if o != order or direction not in ("after", "before") or not isinstance(count, int) or count < 0:
            raise BadCursor(value)
        created_at = dt.datetime.fromisoformat(created)
        if timezone.is_naive(created_at):
            created_at = timezone.make_aware(created_at, dt.UTC)
        key = InboxKey(dt.date.fromisoformat(due) if due else None, created_at, int(pk))
        return direction, key, max(int(page), 1), count, str(counted_for)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadCursor(value) from exc


def inbox_filters(step: str, item: str, state: str, today: dt.date) -> InboxFilters:
    """The page's filters as the workflow selectors take them: an item code becomes its
    implementation id (the ``task_*_item`` indexes), a time state a due-date range."""
    item_ids = None
    if item:
        item_ids = tuple(ServiceItem.objects.filter(code=item.strip()).values_list("pk", flat=True)[:50])
    due_from = due_before = None
    if state in ("overdue", "due_soon"):
        bounds = worktime.state_bounds(today)
        if state == "overdue":
            due_before = bounds.red_before
        else:
            due_from, due_before = bounds.red_before, bounds.yellow_before
    return InboxFilters(step=step, item_ids=item_ids, due_from=due_from, due_before=due_before)


def inbox_page(
    user: User | AnonymousUser,
    *,
    step: str = "",
    item: str = "",
    state: str = "",
    order: str = "due",
    cursor: str = "",
    today: dt.date | None = None,
    roles: list[StaffRole] | None = None,
) -> InboxPage:
    """One page of ``workflow.selectors.inbox_slice``: keyset paging from the opaque ``cursor``
    (no OFFSET: page 2,000 costs what page 1 does), and a count capped at ``COUNT_CAP`` made on
    page 1 and carried on by the cursor. No account, no inbox: an empty page."""
    order = order if order in dict(ORDERS) else "due"
    if isinstance(user, AnonymousUser):
        return InboxPage(
            rows=[], page=1, more=False, filters={"step": step, "item": item, "state": state}, order=order
        )
    today = today or timezone.localdate()
    roles = work_roles(user) if roles is None else roles
    filters = inbox_filters(step, item, state, today)
    direction, key, number, count, error = "", None, 1, None, ""
    if cursor:
        try:
            direction, key, number, count, counted_for = decode_cursor(cursor, order)
            if counted_for != filters_key(step, item, state):  # filters edited into the link
                count = None
        except BadCursor:
            error = _("翻页链接无效或已过期，已为您显示第一页。")
    slice_ = None
    has_prev = more = False
    if direction == "before":
        slice_ = wf_selectors.inbox_slice(
            user, order=order, before=key, limit=PER_PAGE, filters=filters, roles=roles
        )
        if len(slice_.tasks) < PER_PAGE:  # back at the start (tasks left meanwhile): page 1
            slice_ = None
        else:
            has_prev, more = slice_.more, True
            number = number if slice_.more else 1
    if slice_ is None:
        after = key if direction == "after" else None
        slice_ = wf_selectors.inbox_slice(
            user, order=order, after=after, limit=PER_PAGE, filters=filters, roles=roles
        )
        has_prev, more = after is not None, slice_.more
        number = number if after is not None else 1
    tasks = slice_.tasks
    if number == 1 and not more and not has_prev:  # the whole inbox is on this page: no count query
        count = len(tasks)
    elif count is None or number == 1:  # page 1 counts afresh; later pages show its figure
        count = wf_selectors.inbox_count(user, cap=COUNT_CAP, filters=filters, roles=roles)
    # Tuples, not model instances: the page prints four columns of each case.
    cases = {
        pk: tuple(rest)
        for pk, *rest in Case.objects.filter(pk__in=[t.case_id for t in tasks])
        .order_by()
        .values_list("pk", "number", "item_name", "applicant_name", "channel")
    }
    bounds = worktime.state_bounds(today)
    case_href = reverse("workbench:case", args=[0]).replace("/0/", "/{}/")
    rows = []
    for t in tasks:
        if t.due_date is None:
            rows.append(InboxRow.of(t, cases.get(t.case_id), None, "none", case_href.format(t.case_id)))
            continue
        left = worktime.working_days_between(today, t.due_date)
        rows.append(
            InboxRow.of(t, cases.get(t.case_id), left, bounds.state(t.due_date), case_href.format(t.case_id))
        )
    shown = {"step": step, "item": item, "state": state}
    counted = filters_key(step, item, state)
    return InboxPage(
        rows=rows,
        page=number,
        more=more,
        filters=shown,
        order=order,
        has_prev=has_prev,
        next_cursor=(
            encode_cursor(order, "after", InboxKey.of(tasks[-1]), number + 1, count, counted)
            if more and tasks
            else ""
        ),
        # An empty page past the end (its tasks were done meanwhile) links back to page 1.
        prev_cursor=(
            encode_cursor(order, "before", InboxKey.of(tasks[0]), number - 1, count, counted)
            if has_prev and tasks
            else ""
        ),
        count=min(count, COUNT_CAP),
        count_capped=count >= COUNT_CAP,
        error=error,
        query={k: v for k, v in {**shown, "order": "" if order == "due" else order}.items() if v},
    )


def may_work(user: User, roles: list[StaffRole], task: Task) -> bool:
    """``workflow.selectors.may_work`` on the roles the request has already read (no query). The
    actions check again when they run."""
    return wf_selectors.may_work(user, task, roles)


@dataclass(frozen=True)
class Colleague:
    pk: int  # the user's id, as the transfer form posts it
    name: str  # the person's name, else the account's full name, else its username


def colleagues_for(case: Case, task: Task | None, user: User) -> list[Colleague]:
    """Staff of the case's department holding the open task's role, other than ``user``: plain
    values for the transfer form (``identity.selectors.role_holders``, cached)."""
    if task is None or case.department_id is None:
        return []
    return [
        Colleague(pk, name)
        for pk, name in identity_selectors.role_holders(case.department_id, task.role)
        if pk != user.pk
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


# Who sees the list of yellow and red cases, each over the cases of their role's scope.
WARNING_ROLES = (Role.SUPERVISOR, Role.DEPARTMENT_HEAD)


def may_watch_warnings(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or any(r.role in (*WARNING_ROLES, Role.PLATFORM_ADMIN) for r in roles))
    )


def dashboard_scope(user: User | AnonymousUser, roles: list[StaffRole]) -> DashboardScope:
    """The supervisor's dashboard scope: the warning roles' case scopes (as the figures page),
    named in the cache by those scopes, ranked by city when one of them covers a province (or
    everything), else by county."""
    scopes = case_scopes(user, roles, WARNING_ROLES)
    q = case_scope_q(user, roles, WARNING_ROLES)
    if any(s.everywhere for s in scopes):
        return DashboardScope(q=q, key="all", depth=1)
    parts = sorted(f"d{s.department_id}" if s.department_id else f"r{s.region_path}" for s in scopes)
    key = hashlib.sha1(",".join(parts).encode()).hexdigest()[:16] if parts else "none"
    wide = any(s.region_path and s.region_path.count("/") <= 1 for s in scopes)
    return DashboardScope(q=q, key=f"scope-{key}", depth=1 if wide else 2)
