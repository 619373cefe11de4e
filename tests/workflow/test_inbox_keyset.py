"""Keyset paging of the task inbox (``workflow.selectors.inbox_slice`` / ``inbox_count``):
every task exactly once across pages, forwards and backwards, in both orders, with ties on the
due date and on the arrival time; filters; scopes never widened."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories as f
from yiwang.identity.models import Role, StaffRole
from yiwang.workflow import selectors, services
from yiwang.workflow.models import ProcessDefinition, Task, TaskState, WorkflowInstance
from yiwang.workflow.selectors import InboxFilters, InboxKey

pytestmark = pytest.mark.django_db

DUE = [dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16), None]
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ARRIVALS = [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(microseconds=7)]


class World(SimpleNamespace):
    pass


def _user(name: str, *roles: tuple[str, object, object]):
    user = get_user_model().objects.create_user(name, password="x" * 12)
    for role, dept, region in roles:
        StaffRole.objects.create(user=user, role=role, department=dept, region=region)
    return user


_serial = itertools.count(1)


def _task(dept, role, spec, due, created, *, state=TaskState.OPEN, assignee=None, item_id=None) -> Task:
    n = next(_serial)
    definition = (
        ProcessDefinition.objects.filter(key="promise").first() or services.ensure_templates()["promise"]
    )
    wi = WorkflowInstance.objects.create(case_id=10_000 + n, definition=definition, state={})
    t = Task.objects.create(
        instance=wi,
        case_id=wi.case_id,
        item_id=item_id,
        task_uuid=f"00000000-0000-0000-0000-{n:012d}",
        spec_name=spec,
        label=spec,
        role=role,
        state=state,
        department=dept,
        region_path=dept.region.path,
        assignee=assignee,
        due_date=due,
    )
    Task.objects.filter(pk=t.pk).update(created_at=created)  # auto_now_add: ties made on purpose
    return Task.objects.get(pk=t.pk)


@pytest.fixture
def w(settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 4 accounts
    regions = f.region_tree()
    a = f.department(regions["county"], code="101", name="甲局")
    b = f.department(regions["other_city"], code="102", name="乙局")
    approver = _user(
        "approver", (Role.APPROVER, a, a.region), (Role.DEPARTMENT_HEAD, a, a.region)
    )  # three scopes: assigned to me, approver tasks of A, head tasks of A
    colleague = _user("colleague", (Role.APPROVER, a, a.region))
    outsider = _user("outsider", (Role.APPROVER, b, b.region))
    # A city-wide approver who is also approver of A: two scopes holding the same tasks.
    overlapping = _user("overlap", (Role.APPROVER, a, a.region), (Role.APPROVER, None, regions["city"]))
    mine = []
    # Ties everywhere: 3 due dates and none x 3 arrival times (two a microsecond apart) x 2.
    for i, (due, created) in enumerate(itertools.product(DUE, ARRIVALS)):
        for k in range(2):
            spec, role = ("decide", "department_head") if (i + k) % 4 == 0 else ("review", "approver")
            mine.append(_task(a, role, spec, due, created, item_id=1 if k == 0 else 2))
    mine.append(_task(a, "approver", "review", DUE[0], T0, assignee=approver, item_id=2))  # transferred to me
    mine.append(_task(a, "counter_clerk", "accept", DUE[1], T0, assignee=approver, item_id=1))
    others = [
        _task(a, "approver", "review", DUE[0], T0, assignee=colleague, item_id=1),  # a colleague's
        _task(a, "approver", "review", DUE[0], T0, state=TaskState.COMPLETED, item_id=1),
        _task(a, "counter_clerk", "accept", DUE[0], T0, item_id=1),  # not my role
        _task(b, "approver", "review", DUE[0], T0, item_id=1),  # another department
        _task(a, "applicant", "correct", DUE[0], T0, assignee=approver),  # my own application
    ]
    return World(
        a=a, b=b, approver=approver, outsider=outsider, overlapping=overlapping, mine=mine, others=others
    )


def _expected(user, order: str, keep=lambda t: True) -> list[int]:
    tasks = [t for t in selectors.inbox(user) if keep(t)]
    if order == "new":
        tasks.sort(key=lambda t: (t.created_at, t.pk), reverse=True)
    else:
        tasks.sort(key=lambda t: (t.due_date is None, t.due_date or dt.date.min, t.created_at, t.pk))
    return [t.pk for t in tasks]


def _walk_forward(user, order: str, limit: int, filters: InboxFilters | None = None) -> list[list[int]]:
    filters = filters or InboxFilters()
    pages, after = [], None
    while True:
        s = selectors.inbox_slice(user, order=order, after=after, limit=limit, filters=filters)
        pages.append([t.pk for t in s.tasks])
        if not s.more:
            return pages
        after = InboxKey.of(s.tasks[-1])


@pytest.mark.parametrize("order", ["due", "new"])
@pytest.mark.parametrize("limit", [1, 4, 7, 100])
def test_pages_hold_every_task_once_in_order(w, order, limit):
    expected = _expected(w.approver, order)
    assert len(expected) == len(w.mine) == 26
    pages = _walk_forward(w.approver, order, limit)
    flat = [pk for p in pages for pk in p]
    assert flat == expected
    assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit


@pytest.mark.parametrize("order", ["due", "new"])
def test_previous_pages_walk_back_to_the_start(w, order):
    limit = 4
    pages = _walk_forward(w.approver, order, limit)
    back, before = [], selectors.inbox_slice(w.approver, order=order, limit=limit).tasks  # page 1
    # From the first row of the last page, step back one page at a time.
    first_of_last = selectors.Task.objects.get(pk=pages[-1][0])
    key = InboxKey.of(first_of_last)
    while True:
        s = selectors.inbox_slice(w.approver, order=order, before=key, limit=limit)
        back.insert(0, [t.pk for t in s.tasks])
        if not s.more:
            break
        key = InboxKey.of(s.tasks[0])
    assert back == pages[:-1]
    assert back[0] == [t.pk for t in before]


def test_other_scopes_never_appear_and_the_outsider_sees_only_theirs(w):
    seen = {pk for order in ("due", "new") for p in _walk_forward(w.approver, order, 5) for pk in p}
    assert seen == {t.pk for t in w.mine}
    assert not seen & {t.pk for t in w.others}
    outsider = [pk for p in _walk_forward(w.outsider, "due", 5) for pk in p]
    assert outsider == [w.others[3].pk]


def test_overlapping_scopes_give_each_task_once(w):
    for order in ("due", "new"):
        flat = [pk for p in _walk_forward(w.overlapping, order, 3) for pk in p]
        assert flat == _expected(w.overlapping, order)
        assert len(flat) == len(set(flat)) > 0
    assert selectors.inbox_count(w.overlapping, cap=1000) == len(_expected(w.overlapping, "due"))


@pytest.mark.parametrize("order", ["due", "new"])
def test_filters_by_step_item_and_due_range(w, order):
    cases = [
        (InboxFilters(step="decide"), lambda t: t.spec_name == "decide"),
        (InboxFilters(item_ids=(2,)), lambda t: t.item_id == 2),
        (InboxFilters(item_ids=(1,), step="review"), lambda t: t.item_id == 1 and t.spec_name == "review"),
        (InboxFilters(due_before=DUE[1]), lambda t: t.due_date is not None and t.due_date < DUE[1]),
        (
            InboxFilters(due_from=DUE[1], due_before=DUE[2]),
            lambda t: t.due_date is not None and DUE[1] <= t.due_date < DUE[2],
        ),
    ]
    for filters, keep in cases:
        expected = _expected(w.approver, order, keep)
        assert expected, filters
        assert [pk for p in _walk_forward(w.approver, order, 3, filters) for pk in p] == expected, filters
        assert selectors.inbox_count(w.approver, cap=1000, filters=filters) == len(expected)
    assert selectors.inbox_slice(w.approver, filters=InboxFilters(item_ids=())).tasks == []


def test_count_is_capped(w):
    assert selectors.inbox_count(w.approver, cap=1000) == 26
    assert selectors.inbox_count(w.approver, cap=10) == 10
    assert selectors.inbox_count(w.outsider, cap=10) == 1


def test_a_cursor_whose_task_is_gone_still_pages_on(w):
    """Tasks are done while someone pages: the cursor is a position, not a row."""
    first = selectors.inbox_slice(w.approver, limit=5)
    last = first.tasks[-1]
    Task.objects.filter(pk=last.pk).update(state=TaskState.COMPLETED, completed_at=timezone.now())
    nxt = selectors.inbox_slice(w.approver, after=InboxKey.of(last), limit=5)
    assert [t.pk for t in nxt.tasks] == _expected(w.approver, "due")[4:9]


def test_sync_tasks_copies_the_cases_item():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    case = SimpleNamespace(
        pk=424242,
        item_id=31,
        department_id=dept.pk,
        region=dept.region,
        applicant_id=None,
        due_date=None,
        item_version=SimpleNamespace(elements={"is_instant": False}),
    )
    (accept,) = services.start_process(case)
    assert Task.objects.get(pk=accept.pk).item_id == 31


FILTER_SETS = [
    InboxFilters(),
    InboxFilters(step="decide"),
    InboxFilters(item_ids=(2,)),
    InboxFilters(item_ids=(1, 2), step="review"),
    InboxFilters(due_before=DUE[1]),
    InboxFilters(due_from=DUE[1], due_before=DUE[2]),
]


def _walk_back(user, order: str, limit: int, filters: InboxFilters, last: InboxKey) -> list[list[int]]:
    pages, before = [], last
    while True:
        s = selectors.inbox_slice(user, order=order, before=before, limit=limit, filters=filters)
        pages.append([t.pk for t in s.tasks])
        if not s.more or not s.tasks:
            return pages
        before = InboxKey.of(s.tasks[0])


def test_pages_and_counts_agree_with_the_inbox_query_for_every_filter(w):
    """The keyset pages (one query per scope, merged) hold what the plain ``inbox`` query (the
    scopes ORed) holds, for users with overlapping scopes, every order, filter set and page size,
    forwards and back; the capped counts agree too. Runs on each database CI tests."""
    for user, order, filters, limit in itertools.product(
        [w.approver, w.outsider, w.overlapping], ["due", "new"], FILTER_SETS, [1, 5, 100]
    ):
        tasks = list(selectors._filtered(selectors.inbox(user), filters))
        if order == "new":
            tasks.sort(key=lambda t: (t.created_at, t.pk), reverse=True)
        else:
            tasks.sort(key=lambda t: (t.due_date is None, t.due_date or dt.date.min, t.created_at, t.pk))
        expected = [t.pk for t in tasks]
        forward = [pk for p in _walk_forward(user, order, limit, filters) for pk in p]
        assert forward == expected, (user.username, order, filters, limit)
        if expected:
            last = InboxKey.of(Task.objects.get(pk=expected[-1]))
            back = [pk for p in reversed(_walk_back(user, order, limit, filters, last)) for pk in p]
            assert back == expected[:-1], (user.username, order, filters, limit)
        for cap in (1, 7, 1000):
            assert selectors.inbox_count(user, cap=cap, filters=filters) == min(len(expected), cap)


def test_sql_pages_and_counts_agree_with_the_orm_path(w, monkeypatch):
    """On PostgreSQL the inbox's slices and counts are statements written from the scopes
    (``_Scope.sql``, ``_inbox_sql``): for every user (overlapping scopes among them), order,
    filter set and page size, forwards and back, they give what the ORM's querysets give."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")
    users = [w.approver, w.outsider, w.overlapping]
    results = {}
    for use_sql in (True, False):
        monkeypatch.setattr(selectors, "_use_sql", lambda conn, use_sql=use_sql: use_sql)
        out = []
        for user, order, filters, limit in itertools.product(users, ["due", "new"], FILTER_SETS, [1, 5, 100]):
            forward = _walk_forward(user, order, limit, filters)
            last_page = [p for p in forward if p]
            back = []
            if last_page:
                last = InboxKey.of(Task.objects.get(pk=last_page[-1][-1]))
                back = _walk_back(user, order, limit, filters, last)
            counts = [selectors.inbox_count(user, cap=cap, filters=filters) for cap in (1, 7, 1000)]
            out.append((user.username, order, filters, limit, forward, back, counts))
        results[use_sql] = out
    assert results[True] == results[False]
    assert any(row[4] != [[]] for row in results[True])  # not all empty


def test_sql_path_is_taken_on_postgresql(w):
    """The statement the inbox sends on PostgreSQL is the written one (a UNION of the scopes'
    parts), not the ORM's: the agreement test above would pass vacuously otherwise."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")
    with CaptureQueriesContext(connection) as q:
        selectors.inbox_slice(w.approver, limit=5)
        selectors.inbox_count(w.approver, cap=7)
    sqls = [x["sql"] for x in q.captured_queries if "workflow_task" in x["sql"]]
    assert len(sqls) == 2
    assert all('"workflow_task"."' not in sql for sql in sqls)  # the ORM qualifies every column
    assert sqls[1].startswith("SELECT count(*) FROM ((SELECT")
