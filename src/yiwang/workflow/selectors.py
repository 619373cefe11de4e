"""Reads for the task inbox and the state of a case's process."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, OrderBy, Q, QuerySet

# Django 5.2's row-comparison lookups (made for composite primary keys): ``(a, b) > (x, y)`` on
# PostgreSQL and SQLite, with each value prepared by its field (datetimes on SQLite).
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from yiwang.identity.models import Role, StaffRole

from . import engine
from .bpmn_templates import APPROVAL_ROLES, NOT_APPROVAL_STEPS, TEMPLATES, to_bpmn
from .models import ProcessBinding, ProcessDefinition, Task, TaskState, WorkflowInstance

if TYPE_CHECKING:
    from yiwang.cases.models import Case

STAFF_ROLES_BY_STEP_ROLE = {
    "counter_clerk": {Role.COUNTER_CLERK},
    "approver": {Role.APPROVER},
    "department_head": {Role.DEPARTMENT_HEAD},
}
STAFF_ROLE_NAMES = set().union(*STAFF_ROLES_BY_STEP_ROLE.values())


def open_tasks(case: Case) -> QuerySet[Task]:
    return Task.objects.filter(case_id=case.pk, state=TaskState.OPEN).order_by("created_at")


def is_finished(case: Case) -> bool:
    return WorkflowInstance.objects.filter(case_id=case.pk, finished=True).exists()


def inbox(
    user: User,
    *,
    state: str | None = TaskState.OPEN,
    spec_name: str | None = None,
    order: str = "due",
) -> QuerySet[Task]:
    """The tasks a staff member may work: assigned to them, or open to their role in a
    department (or region) of theirs and not assigned to someone else (``_scopes``)."""
    q = Q(pk__in=[])
    for sc in _scopes(user, None):
        q |= sc.q()
    qs = Task.objects.filter(q).exclude(role="applicant")
    if state:
        qs = qs.filter(state=state)
    if spec_name:
        qs = qs.filter(spec_name=spec_name)
    ordering = {"due": ["due_date", "created_at", "pk"], "new": ["-created_at", "pk"]}.get(
        order, ["due_date", "pk"]
    )
    return qs.order_by(*ordering)


# --- keyset paging ---------------------------------------------------------------------------------
#
# ``inbox`` above ORs the scopes, which no index can serve in page order. The pages below split
# the inbox into one query per scope (assigned to me; open to my role in each department or
# region of mine), walk each from a cursor in page order through a partial index
# (``Task.Meta.indexes``), fetch at most one page from each and merge them. The cost of a page is
# the same at any depth: no OFFSET.

INBOX_ORDERS = ("due", "new")  # due date first (no due date last) / newest arrival first
# Only what a page shows: the JSON columns (decisions) would be parsed for nothing.
INBOX_COLUMNS = (
    "id",
    "case_id",
    "item_id",
    "spec_name",
    "label",
    "role",
    "assignee_id",
    "due_date",
    "created_at",
)


@dataclass(frozen=True)
class InboxKey:
    """A task's place in an inbox order: the cursor of keyset paging."""

    due_date: dt.date | None
    created_at: dt.datetime
    id: int

    @classmethod
    def of(cls, task: Task) -> InboxKey:
        return cls(task.due_date, task.created_at, task.pk)


@dataclass(frozen=True)
class InboxFilters:
    step: str = ""
    item_ids: tuple[int, ...] | None = None  # None: any item; (): no item matched (empty inbox)
    due_from: dt.date | None = None  # due_date >= (the time-state filters; no due date excluded)
    due_before: dt.date | None = None  # due_date <


@dataclass
class InboxSlice:
    tasks: list[Task]  # in display order
    more: bool  # more tasks lie beyond the slice in the walking direction


@dataclass(frozen=True)
class _Scope:
    """One scope of an inbox: the tasks assigned to ``assignee``, or the open unassigned tasks of
    ``step_roles`` in ``department_id``, below ``region_path``, or anywhere (neither)."""

    assignee: int | None = None
    step_roles: tuple[str, ...] = ()
    department_id: int | None = None
    region_path: str = ""

    def q(self) -> Q:
        """The scope as a condition on Task rows."""
        if self.assignee is not None:
            return Q(assignee_id=self.assignee)
        # One role is an equality: the index walk needs ``role = x``, not ``role IN (x, y)``.
        roles = self.step_roles
        q = Q(assignee__isnull=True) & (Q(role=roles[0]) if len(roles) == 1 else Q(role__in=roles))
        if self.department_id:
            return q & Q(department_id=self.department_id)
        if self.region_path:
            return q & Q(region_path__startswith=self.region_path)
        return q

    def sql(self, conn: BaseDatabaseWrapper) -> tuple[list[str], list[Any]]:
        """``q()`` on open tasks as SQL conditions and their parameters, for the inbox's
        PostgreSQL statements (``_inbox_sql``; tested equal to ``q()``: tests/workflow)."""
        where: list[str] = [f"{_col('state')} = %s"]
        params: list[Any] = [TaskState.OPEN]
        if self.assignee is not None:
            # ``inbox_scopes``: my own applications' tasks are not work.
            return [*where, f"{_col('assignee')} = %s", f"NOT ({_col('role')} = %s)"], [
                *params,
                self.assignee,
                "applicant",
            ]
        where.append(f"{_col('assignee')} IS NULL")
        roles = self.step_roles
        where.append(f"{_col('role')} = %s" if len(roles) == 1 else f"{_col('role')} IN ({_marks(roles)})")
        params += list(roles)
        if self.department_id:
            where.append(f"{_col('department_id')} = %s")
            params.append(self.department_id)
        elif self.region_path:
            where.append(f"{_col('region_path')} {conn.operators['startswith']}")
            params.append(f"{conn.ops.prep_for_like_query(self.region_path)}%")
        return where, params

    def covers(self, task: Task) -> bool:
        """``q()`` for one task already read (tested equal to it: tests/workflow)."""
        if self.assignee is not None:
            return task.assignee_id == self.assignee
        if task.assignee_id is not None or task.role not in self.step_roles:
            return False
        if self.department_id:
            return task.department_id == self.department_id
        if self.region_path:
            return (task.region_path or "").startswith(self.region_path)
        return True


def _scopes(user: User, roles: Iterable[StaffRole] | None) -> list[_Scope]:
    """The rule of the inbox, as values: ``inbox`` and ``inbox_scopes`` build their queries from
    them, the PostgreSQL path its statements (``_Scope.sql``), and ``_Scope.covers`` checks one
    task already read against them."""
    if roles is None:
        roles = StaffRole.objects.filter(user=user).select_related("region")
    parts = [_Scope(assignee=user.pk)]
    for sr in roles:
        step_roles = tuple(sorted(k for k, v in STAFF_ROLES_BY_STEP_ROLE.items() if sr.role in v))
        if not step_roles:
            continue
        # A role with neither a department nor a region covers the whole province.
        if sr.department_id:
            scope = _Scope(step_roles=step_roles, department_id=sr.department_id)
        else:
            scope = _Scope(step_roles=step_roles, region_path=sr.region.path if sr.region is not None else "")
        if scope not in parts:
            parts.append(scope)
    return parts


def inbox_scopes(user: User, roles: Iterable[StaffRole] | None = None) -> list[QuerySet[Task]]:
    """``inbox(user)`` as one query per scope, each served by a partial index: assigned to me
    (``task_open_assignee_*``), and open unassigned tasks of my role in each department
    (``task_open_dept_*``) or region (``region_path`` prefix; not indexed yet) of mine. Tasks
    assigned to someone never appear in an unassigned scope, so only region scopes can overlap
    others. ``roles``: the user's staff roles when the caller already read them."""
    open_tasks = Task.objects.filter(state=TaskState.OPEN)
    return [
        open_tasks.filter(sc.q()).exclude(role="applicant")
        if sc.assignee is not None
        else open_tasks.filter(sc.q())
        for sc in _scopes(user, roles)
    ]


def _col(name: str) -> str:
    """The quoted column of a concrete field of Task."""
    field = Task._meta.get_field(name)
    assert isinstance(field, Field)
    return f'"{field.column}"'


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _filtered(qs: QuerySet[Task], f: InboxFilters) -> QuerySet[Task]:
    if f.step:
        qs = qs.filter(spec_name=f.step)
    if f.item_ids is not None:
        qs = qs.filter(item_id=f.item_ids[0]) if len(f.item_ids) == 1 else qs.filter(item_id__in=f.item_ids)
    if f.due_from is not None:
        qs = qs.filter(due_date__gte=f.due_from)
    if f.due_before is not None:
        qs = qs.filter(due_date__lt=f.due_before)
    return qs


def _beyond(qs: QuerySet[Any], cols: Sequence[str], key: Sequence[Any], *, greater: bool) -> QuerySet[Any]:
    """Rows after ``key`` by a row comparison ``(a, b, c) > (x, y, z)``: PostgreSQL uses it as
    one index condition, where the equivalent OR of column comparisons would be a filter."""
    lookup = TupleGreaterThan if greater else TupleLessThan
    return qs.filter(lookup(Tuple(*(F(c) for c in cols)), tuple(key)))


def _walk(
    qs: QuerySet[Task],
    order: str,
    key: InboxKey | None,
    limit: int,
    *,
    forward: bool,
    undated_too: bool = True,
) -> list[QuerySet[Any, tuple[Any, ...]]]:
    """The index ranges of one scope next to ``key`` (excluded), in walking order, each sliced
    to ``limit`` rows: one range, or two when a due-date cursor must also reach the tasks with
    no due date (or back from them). ``undated_too=False``: a due-date filter excludes them."""
    rows = qs.values_list(*INBOX_COLUMNS)  # tuples: only the page's rows become Task objects
    if order == "new":  # newest first: forward is descending (created_at, id)
        if key is not None:
            rows = _beyond(rows, ("created_at", "id"), (key.created_at, key.id), greater=not forward)
        return [rows.order_by(*(["-created_at", "-id"] if forward else ["created_at", "id"]))[:limit]]
    # Due date first, tasks without one last: the index order itself (btree ASC is NULLS LAST
    # on PostgreSQL), walked backwards as DESC NULLS FIRST. A row comparison cannot step from a
    # due date into the no-due-date rows, so a cursor splits the walk into two index ranges.
    ordering: list[OrderBy | str]
    if forward:
        ordering = [F("due_date").asc(nulls_last=True), "created_at", "id"]
    else:
        ordering = [F("due_date").desc(nulls_first=True), "-created_at", "-id"]
    if key is None:
        return [rows.order_by(*ordering)[:limit]]
    dated, undated = rows.filter(due_date__isnull=False), rows.filter(due_date__isnull=True)
    if key.due_date is not None:
        cols, at = ("due_date", "created_at", "id"), (key.due_date, key.created_at, key.id)
        ranges = [_beyond(dated, cols, at, greater=forward)] + ([undated] if forward and undated_too else [])
    else:
        ranges = [_beyond(undated, ("created_at", "id"), (key.created_at, key.id), greater=forward)]
        ranges += [] if forward else [dated]
    return [r.order_by(*ordering)[:limit] for r in ranges]


def _fetch(ranges: Sequence[QuerySet[Any, Any]], *, distinct: bool = False) -> list[Any]:
    """All rows of the ranges in one round trip where the database allows ORDER BY and LIMIT
    inside a UNION (PostgreSQL): a page costs one statement, not one per scope. SQLite runs
    them one by one."""
    if not ranges:
        return []
    if len(ranges) > 1 and connections[ranges[0].db].features.supports_slicing_ordering_in_compound:
        return list(ranges[0].union(*ranges[1:], all=not distinct))
    rows = [row for r in ranges for row in r]
    return list(dict.fromkeys(rows)) if distinct else rows


# --- the same pages as SQL written here (PostgreSQL) -----------------------------------------------
#
# The inbox is the page staff open most (two thirds of the load test's requests are staff pages),
# and compiling its UNION of per-scope querysets through the ORM costs several times the CPU of
# sending the same statement written from the scopes' values (bench/inbox_sql.py). The statements
# below are the ORM path's (``inbox_scopes``, ``_filtered``, ``_walk``) as text; the test
# ``test_sql_pages_and_counts_agree_with_the_orm_path`` (tests/workflow/test_inbox_keyset.py)
# runs both on PostgreSQL and fails if they differ. SQLite takes the ORM path.


def _use_sql(conn: BaseDatabaseWrapper) -> bool:
    return conn.vendor == "postgresql"


def _filters_sql(f: InboxFilters) -> tuple[list[str], list[Any]]:
    """``_filtered`` as SQL conditions and parameters."""
    where: list[str] = []
    params: list[Any] = []
    if f.step:
        where.append(f"{_col('spec_name')} = %s")
        params.append(f.step)
    if f.item_ids is not None:
        ids = f.item_ids
        where.append(f"{_col('item_id')} = %s" if len(ids) == 1 else f"{_col('item_id')} IN ({_marks(ids)})")
        params += list(ids)
    if f.due_from is not None:
        where.append(f"{_col('due_date')} >= %s")
        params.append(f.due_from)
    if f.due_before is not None:
        where.append(f"{_col('due_date')} < %s")
        params.append(f.due_before)
    return where, params


_Range = tuple[list[str], list[Any], str]  # extra conditions, their parameters, ORDER BY


def _ranges_sql(order: str, key: InboxKey | None, *, forward: bool, undated_too: bool) -> list[_Range]:
    """``_walk``'s index ranges."""
    due, created, id_ = _col("due_date"), _col("created_at"), _col("id")
    if order == "new":
        ordering = f"{created} DESC, {id_} DESC" if forward else f"{created} ASC, {id_} ASC"
        if key is None:
            return [([], [], ordering)]
        op = "<" if forward else ">"
        return [([f"({created}, {id_}) {op} (%s, %s)"], [key.created_at, key.id], ordering)]
    if forward:
        ordering = f"{due} ASC NULLS LAST, {created} ASC, {id_} ASC"
    else:
        ordering = f"{due} DESC NULLS FIRST, {created} DESC, {id_} DESC"
    if key is None:
        return [([], [], ordering)]
    op = ">" if forward else "<"
    dated, undated = f"{due} IS NOT NULL", f"{due} IS NULL"
    if key.due_date is not None:
        at = [key.due_date, key.created_at, key.id]
        ranges = [([dated, f"({due}, {created}, {id_}) {op} (%s, %s, %s)"], at, ordering)]
        return ranges + ([([undated], [], ordering)] if forward and undated_too else [])
    ranges = [([undated, f"({created}, {id_}) {op} (%s, %s)"], [key.created_at, key.id], ordering)]
    return ranges + ([] if forward else [([dated], [], ordering)])


def _inbox_sql(
    conn: BaseDatabaseWrapper,
    scopes: list[_Scope],
    filters: InboxFilters,
    ranges: list[_Range],
    limit: int,
    columns: str,
) -> tuple[list[str], list[Any]]:
    """One ``(SELECT ... LIMIT n)`` per scope and range: the parts of a UNION."""
    table = '"' + Task._meta.db_table + '"'
    filter_where, filter_params = _filters_sql(filters)
    parts: list[str] = []
    params: list[Any] = []
    for sc in scopes:
        where, where_params = sc.sql(conn)
        for extra, extra_params, ordering in ranges:
            order_by = f" ORDER BY {ordering}" if ordering else ""
            conditions = " AND ".join(where + filter_where + extra)
            parts.append(f"(SELECT {columns} FROM {table} WHERE {conditions}{order_by} LIMIT %s)")
            params += [*where_params, *filter_params, *extra_params, limit]
    return parts, params


_SELECT_COLUMNS = ", ".join(_col(c) for c in INBOX_COLUMNS)


def _slice_rows_sql(
    conn: BaseDatabaseWrapper,
    scopes: list[_Scope],
    filters: InboxFilters,
    order: str,
    key: InboxKey | None,
    limit: int,
    *,
    forward: bool,
    undated_too: bool,
) -> list[tuple[Any, ...]]:
    ranges = _ranges_sql(order, key, forward=forward, undated_too=undated_too)
    parts, params = _inbox_sql(conn, scopes, filters, ranges, limit, _SELECT_COLUMNS)
    with conn.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


def _count_sql(
    conn: BaseDatabaseWrapper, scopes: list[_Scope], filters: InboxFilters, cap: int, *, distinct: bool
) -> int:
    parts, params = _inbox_sql(conn, scopes, filters, [([], [], "")], cap, _col("id"))
    union = (" UNION " if distinct else " UNION ALL ").join(parts)
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({union} LIMIT %s) AS inbox", [*params, cap])
        row = cursor.fetchone()
        return int(row[0]) if row else 0


_ID, _DUE, _CREATED = (INBOX_COLUMNS.index(c) for c in ("id", "due_date", "created_at"))


def _sort_key(order: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """The inbox order of a row of ``INBOX_COLUMNS`` (a tuple)."""
    if order == "new":
        return lambda r: (r[_CREATED], r[_ID])
    return lambda r: (r[_DUE] is None, r[_DUE] or dt.date.min, r[_CREATED], r[_ID])


def _task(db: str, row: tuple[Any, ...]) -> Task:
    """A Task with the page's columns loaded (the others deferred), as the ORM makes them."""
    by_name = dict(zip(INBOX_COLUMNS, row, strict=True))
    names = [f.attname for f in Task._meta.concrete_fields if f.attname in by_name]
    return Task.from_db(db, names, [by_name[n] for n in names])


def inbox_slice(
    user: User,
    *,
    order: str = "due",
    after: InboxKey | None = None,
    before: InboxKey | None = None,
    limit: int = 50,
    filters: InboxFilters = InboxFilters(),
    roles: Iterable[StaffRole] | None = None,
) -> InboxSlice:
    """``limit`` tasks of ``inbox(user)`` after ``after`` (or from the start), or the ``limit``
    just before ``before``, in ``order``. Each index range fetches at most ``limit + 1`` rows;
    the sorted, de-duplicated head of all of them is the answer (a task among the first
    ``limit + 1`` of the inbox is among the first ``limit + 1`` of its own range: every task
    before it in that range is before it in the inbox)."""
    if order not in INBOX_ORDERS:
        raise ValueError(order)
    if filters.item_ids == ():
        return InboxSlice([], False)
    forward = before is None
    key = after if forward else before
    undated_too = filters.due_from is None and filters.due_before is None
    conn = connections[Task.objects.db]
    if _use_sql(conn):
        fetched = _slice_rows_sql(
            conn,
            _scopes(user, roles),
            filters,
            order,
            key,
            limit + 1,
            forward=forward,
            undated_too=undated_too,
        )
    else:
        fetched = _fetch(
            [
                r
                for qs in inbox_scopes(user, roles)
                for r in _walk(
                    _filtered(qs, filters), order, key, limit + 1, forward=forward, undated_too=undated_too
                )
            ]
        )
    rows = {r[_ID]: r for r in fetched}  # two overlapping scopes may both hold a task
    # Walking order: ascending for due-date forward and newest backward.
    descending = (order == "new") == forward
    merged = sorted(rows.values(), key=_sort_key(order), reverse=descending)[: limit + 1]
    more = len(merged) > limit
    tasks = [_task(conn.alias, r) for r in merged[:limit]]
    return InboxSlice(tasks if forward else tasks[::-1], more)


def inbox_count(
    user: User,
    *,
    cap: int,
    filters: InboxFilters = InboxFilters(),
    roles: Iterable[StaffRole] | None = None,
) -> int:
    """How many tasks the inbox holds, counted up to ``cap`` (returns ``cap`` for "cap or more"):
    each scope reads at most ``cap`` entries of its index, so a department with 100,000 open
    tasks costs no more than one with ``cap``. Overlapping scopes (a region role beside a
    department role) are de-duplicated by id."""
    if filters.item_ids == ():
        return 0
    roles = (
        list(StaffRole.objects.filter(user=user).select_related("region")) if roles is None else list(roles)
    )
    # Disjoint scopes (assigned to me / each department and role) can be added up.
    disjoint = all(sr.department_id for sr in roles if sr.role in STAFF_ROLE_NAMES)
    conn = connections[Task.objects.db]
    if _use_sql(conn):
        return _count_sql(conn, _scopes(user, roles), filters, cap, distinct=not disjoint)
    ranges = [
        _filtered(qs, filters).order_by().values_list("pk", flat=True)[:cap]
        for qs in inbox_scopes(user, roles)
    ]
    if len(ranges) > 1 and connections[ranges[0].db].features.supports_slicing_ordering_in_compound:
        # The outer LIMIT stops the whole statement after ``cap`` rows, whichever scopes hold them.
        return ranges[0].union(*ranges[1:], all=disjoint)[:cap].count()
    return min(len(_fetch(ranges, distinct=not disjoint)), cap)


def may_work(user: User, task: Task, roles: Iterable[StaffRole] | None = None) -> bool:
    """Whether ``task`` is in ``inbox(user)``'s rule: assigned to the user, or open, unassigned
    and in one of the user's scopes (``_scopes``), checked on the task as read. ``roles``: the
    user's staff roles when the caller already read them (then no query)."""
    if task.assignee_id:
        return task.assignee_id == user.pk
    if task.state != TaskState.OPEN or task.role == "applicant":
        return False
    return any(sc.covers(task) for sc in _scopes(user, roles) if sc.assignee is None)


# The guide names who does a step by its role; a branch of a joint process is done by the
# departments of the bundle, each in its own case.
GUIDE_HANDLERS = {
    "counter_clerk": Role.COUNTER_CLERK.label,
    "approver": Role.APPROVER.label,
    "department_head": Role.DEPARTMENT_HEAD.label,
    "branch": _("相关部门（并联审批）"),
}


@dataclass(frozen=True)
class GuideStep:
    """A step of the process an item runs, as its published guide lists it."""

    step: str  # the user task id the cases app acts on
    name: str
    role: str
    handler: str
    is_approval: bool
    optional: bool = False  # a side trip a case may or may not take (现场核查)


def _steps_of(document: str) -> list[GuideStep]:
    with translation.override("zh-hans"):  # the guide's elements are data, kept in Chinese
        return [
            GuideStep(
                s.spec_name,
                s.label,
                s.role,
                str(GUIDE_HANDLERS[s.role]),
                s.role in APPROVAL_ROLES and s.spec_name not in NOT_APPROVAL_STEPS,
                optional,
            )
            for s, optional in engine.outline(document)
            if s.role in GUIDE_HANDLERS
        ]


@functools.cache
def shipped_template_steps(is_instant: bool) -> list[GuideStep]:
    """The steps of the template shipped for instant or promise items (``bpmn_templates``)."""
    return _steps_of(to_bpmn(TEMPLATES["instant" if is_instant else "promise"]))


def guide_steps(items: dict[int, bool]) -> dict[int, list[GuideStep]]:
    """item id → the steps of the process it runs (bound, or else the latest template for
    instant or promise items, as ``services.definition_for_item`` chooses), in the order a case
    meets them; steps of the applicant and the system's waits are left out. ``items``: item id
    → is_instant. Three queries; each process document is read once per process."""
    bound = dict(
        ProcessBinding.objects.filter(item_id__in=list(items)).values_list("item_id", "definition_id")
    )
    latest: dict[bool, int] = {}
    for key, definition_id in (
        ProcessDefinition.objects.filter(key__in=("instant", "promise"))
        .order_by("key", "-version")
        .values_list("key", "pk")
    ):
        latest.setdefault(key == "instant", definition_id)
    wanted = set(bound.values()) | set(latest.values())
    xml = dict(ProcessDefinition.objects.filter(pk__in=wanted).values_list("pk", "bpmn_xml"))
    read: dict[int, list[GuideStep]] = {}
    out: dict[int, list[GuideStep]] = {}
    for item_id, is_instant in items.items():
        pk: int | None = bound.get(item_id) or latest.get(is_instant)
        if pk is None:
            out[item_id] = shipped_template_steps(is_instant)
        else:
            if pk not in read:
                read[pk] = _steps_of(xml[pk])
            out[item_id] = read[pk]
    return out


def bound_processes(item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """item id -> the bound process as the published guide shows it (key, version, name,
    approval steps); items running the default template are absent. One query."""
    rows = ProcessBinding.objects.filter(item_id__in=item_ids).values(
        "item_id", "definition__key", "definition__version", "definition__name", "definition__approval_steps"
    )
    return {
        r["item_id"]: {
            "key": r["definition__key"],
            "version": r["definition__version"],
            "name": r["definition__name"],
            "approval_steps": r["definition__approval_steps"],
        }
        for r in rows
    }
