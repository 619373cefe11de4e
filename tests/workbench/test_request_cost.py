"""What the load test's staff pages cost (issue 6): the case page reads the case once and the
staff roles once, asks nothing about bundles for an ordinary case, and decides which tasks the
reader may work without a query per task; the inbox rows come prepared from the selector."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.cases.conftest import submitted_case
from yiwang.identity.models import Role, StaffRole
from yiwang.workbench import selectors
from yiwang.workflow import selectors as wf
from yiwang.workflow.models import Task

from .helpers import client_for

pytestmark = pytest.mark.django_db


def _statements(client, url: str) -> list[str]:
    client.get(url)  # warm the calendar and template caches
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _widened_roles(world) -> tuple:
    """Gives approver2 a region-wide clerk role and the head a province-wide approver role, and
    returns the users whose scopes the agreement tests walk (department, region-wide,
    province-wide, other department, other county, an applicant)."""
    StaffRole.objects.create(user=world.approver2, role=Role.COUNTER_CLERK, region=world.regions["county"])
    StaffRole.objects.create(user=world.head, role=Role.APPROVER)
    return (
        world.clerk,
        world.approver,
        world.approver2,
        world.head,
        world.far_clerk,
        world.other_dept_approver,
        world.applicant,
    )


def test_may_work_on_the_requests_roles_agrees_with_the_inbox_query(world):
    """``selectors.may_work`` (the scopes checked on the task as read, no query) answers as the
    inbox's query (``workflow.selectors.inbox``) for assigned, department, region-wide and other
    people's tasks, open or done."""
    cases = [submitted_case(world) for _ in range(4)]
    clerk = client_for(world.clerk)
    for c in cases[:3]:
        clerk.post(reverse("workbench:act", args=[c.pk, "accept"]))
    client_for(world.approver).post(
        reverse("workbench:act", args=[cases[1].pk, "transfer"]), {"to": world.approver2.pk}
    )
    users = _widened_roles(world)
    tasks = list(Task.objects.all())
    assert any(t.state != "open" for t in tasks) and any(t.assignee_id for t in tasks)
    for user in users:
        roles = selectors.work_roles(user)
        for t in tasks:
            by_query = t.assignee_id == user.pk if t.assignee_id else wf.inbox(user).filter(pk=t.pk).exists()
            assert selectors.may_work(user, roles, t) == by_query, (user.username, t.spec_name)
            assert wf.may_work(user, t) == by_query, (user.username, t.spec_name)


def test_case_page_reads_the_case_and_the_roles_once(world):
    case = submitted_case(world)
    sql = _statements(client_for(world.clerk), reverse("workbench:case", args=[case.pk]))
    assert sum('FROM "cases_case"' in s for s in sql) == 1, sql
    assert sum('FROM "identity_staffrole"' in s and "INNER JOIN" not in s for s in sql) <= 1, sql
    assert not [s for s in sql if "bundles_" in s], "an ordinary case asks nothing about bundles"
    assert not [s for s in sql if "cases_delivery" in s], "the delivery row is read at the delivery step only"
    assert len(sql) <= 14, sql


def test_inbox_rows_are_prepared_values(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.post(reverse("workbench:act", args=[case.pk, "accept"]))
    approver = client_for(world.approver)
    row = selectors.inbox_page(world.approver).rows[0]
    assert row.number == case.number and row.item_name == case.item_name and row.href.endswith(f"/{case.pk}/")
    assert row.left_class == "light light-green" and row.left.endswith("个工作日") and row.due != "—"
    Task.objects.filter(case_id=case.pk, state="open").update(due_date=dt.date.today() - dt.timedelta(days=9))
    row = selectors.inbox_page(world.approver).rows[0]
    assert row.left_class == "light light-red" and row.left.startswith("超期")
    html = approver.get(reverse("workbench:inbox")).content.decode()
    assert f'<span class="light light-red">{row.left}</span>' in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement reads are PostgreSQL's")
def test_case_detail_in_one_statement_equals_the_orm_reads(world, settings):
    """On PostgreSQL ``case_detail`` reads timeline, materials, notices, open tasks, the open
    correction and the pauses in one statement; the objects equal the ORM's, in the same order."""
    from yiwang.cases import selectors as case_selectors

    cases = [submitted_case(world) for _ in range(3)]
    clerk, approver = client_for(world.clerk), client_for(world.approver)
    clerk.post(
        reverse("workbench:act", args=[cases[1].pk, "request_correction"]), {"cm_0": "1", "cr_0": "缺页"}
    )
    clerk.post(reverse("workbench:act", args=[cases[2].pk, "accept"]))
    approver.post(reverse("workbench:act", args=[cases[2].pk, "suspend"]), {"reasons": "需要鉴定"})

    def plain(objs):
        return [{k: v for k, v in o.__dict__.items() if k != "_state"} for o in objs]

    def view(d):
        extra = [d.correction] if d.correction else []
        return (
            plain(d.timeline),
            plain(d.materials),
            plain(d.notices),
            plain(d.open_tasks),
            plain(extra),
            d.time,
        )

    for case in cases:
        case = selectors.visible_case(world.clerk, selectors.work_roles(world.clerk), case.pk)
        for for_applicant in (False, True):
            fast = case_selectors.case_detail(case.pk, case=case, for_applicant=for_applicant)
            with CaptureQueriesContext(connection) as ctx:
                case_selectors.case_detail(case.pk, case=case, for_applicant=for_applicant)
            assert len(ctx.captured_queries) == 1
            slow = case_selectors._case_detail_orm(case, for_applicant)  # the ORM's reads, as on SQLite
            assert view(fast) == view(slow)
    from yiwang.cases.models import ClockPause, CorrectionRequest

    assert ClockPause.objects.exists() and CorrectionRequest.objects.exists()  # every read had rows


def test_transfer_form_names_the_colleagues(world):
    from yiwang.identity.models import Person

    case = submitted_case(world)
    client_for(world.clerk).post(reverse("workbench:act", args=[case.pk, "accept"]))
    world.approver2.first_name, world.approver2.last_name = "二", "审批"
    world.approver2.save()
    html = client_for(world.approver).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert f'<option value="{world.approver2.pk}">审批二</option>' in html
    assert f'<option value="{world.approver.pk}">' not in html  # not oneself
    assert Person.objects.filter(user=world.approver2).count() == 0  # no person: the account's name


def test_a_one_page_inbox_is_counted_from_its_rows(world, monkeypatch):
    """Page 1 holding the whole inbox needs no count query; a longer inbox is still counted."""
    monkeypatch.setattr(selectors, "PER_PAGE", 2)
    roles = selectors.work_roles(world.clerk)
    submitted_case(world)
    submitted_case(world)
    selectors.inbox_page(world.clerk, roles=roles)  # warm the calendar cache
    with CaptureQueriesContext(connection) as short:
        page = selectors.inbox_page(world.clerk, roles=roles)
    assert page.count == 2 and not page.more
    submitted_case(world)
    with CaptureQueriesContext(connection) as longer:
        page = selectors.inbox_page(world.clerk, roles=roles)
    assert (
        page.count == 3 and page.more and len(longer) > len(short)
    )  # the count: one statement a scope on SQLite
    html = client_for(world.clerk).get(reverse("workbench:inbox")).content.decode()
    assert "共 3 条" in html


def test_in_case_scope_agrees_with_the_scope_query(world):
    """``selectors.in_case_scope`` (the case page's check on the case read by its key) answers as
    ``case_scope_q`` for department, region-wide, province-wide and outside roles."""
    from yiwang.cases.models import Case

    cases = [submitted_case(world) for _ in range(2)]
    users = _widened_roles(world)
    seen = set()
    for user in users:
        roles = selectors.work_roles(user)
        for case in Case.objects.select_related("department__region").filter(pk__in=[c.pk for c in cases]):
            by_query = Case.objects.filter(selectors.case_scope_q(user, roles), pk=case.pk).exists()
            assert selectors.in_case_scope(user, roles, case) == by_query, user.username
            seen.add(by_query)
    assert seen == {True, False}


def test_case_page_links_are_the_reversed_urls(world):
    """The case page's action, material and notice links come from one reverse each (ActionUrls,
    _href_with_last_id) and must be what ``{% url %}`` gave."""
    from yiwang.cases.models import CaseMaterial

    case = submitted_case(world)
    html = client_for(world.clerk).get(reverse("workbench:case", args=[case.pk])).content.decode()
    for name in ("accept", "request_correction", "refuse", "mark_material"):
        assert f'action="{reverse("workbench:act", args=[case.pk, name])}"' in html, name
    materials = list(CaseMaterial.objects.filter(case=case, replaced=False).exclude(file=""))
    assert materials
    for m in materials:
        assert f'href="{reverse("workbench:material", args=[case.pk, m.pk])}"' in html
