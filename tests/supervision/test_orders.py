"""Supervisory orders (督办): who may issue, reply and close; the reply day in working days;
escalation of an overdue order, once; the audit entries; the pages and their forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.cases.conftest import staff, submitted_case
from tests.workbench.helpers import client_for
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role
from yiwang.supervision import orders
from yiwang.supervision.models import OrderStatus, StaffNotice, SupervisoryOrder
from yiwang.worktime.models import CalendarDay, CalendarSource, DayKind
from yiwang.worktime.selectors import invalidate_calendar

THURSDAY = dt.date(2025, 3, 6)


def holiday(day: dt.date) -> None:
    CalendarDay.objects.update_or_create(
        date=day,
        defaults={
            "is_working_day": False,
            "kind": DayKind.HOLIDAY,
            "holiday_name": "测试假日",
            "source": CalendarSource.ADMIN,
        },
    )
    invalidate_calendar()


@pytest.fixture
def sup(world):
    """Supervisors at the county (the case's region), at the city above, and in the other city."""
    return {
        "county": staff("sup_county", Role.SUPERVISOR, region=world.regions["county"]),
        "city": staff("sup_city", Role.SUPERVISOR, region=world.regions["city"]),
        "far": staff("sup_far", Role.SUPERVISOR, region=world.regions["other_city"]),
    }


def test_issue_on_a_case_in_scope_due_in_working_days(world, sup):
    case = submitted_case(world)
    holiday(dt.date(2025, 3, 10))  # Monday
    order = orders.issue(sup["county"], reason="请说明延误原因", case=case, days=2, today=THURSDAY)
    # Friday 1, (weekend, Monday holiday), Tuesday 2
    assert order.reply_due == dt.date(2025, 3, 11)
    assert order.department_id == world.dept.pk
    assert order.level == world.regions["county"]
    assert order.status == OrderStatus.OPEN
    assert AuditEntry.objects.filter(action="supervision.order.issue", object_id=str(order.pk)).count() == 1


def test_default_days_from_the_setting(world, sup, settings):
    settings.YIWANG_ORDER_REPLY_DAYS = 1
    order = orders.issue(sup["county"], reason="x", department=world.dept, today=THURSDAY)
    assert order.reply_due == dt.date(2025, 3, 7)


def test_supervisor_outside_scope_is_refused(world, sup):
    case = submitted_case(world)
    with pytest.raises(NotPermitted):
        orders.issue(sup["far"], reason="x", case=case)
    with pytest.raises(NotPermitted):
        orders.issue(world.head, reason="x", department=world.dept)  # a head is no supervisor
    assert not SupervisoryOrder.objects.exists()


def test_bad_input_is_refused_per_field(world, sup):
    with pytest.raises(ValidationFailed) as e:
        orders.issue(sup["county"], reason=" ", department=world.dept, days=0)
    assert {f.field for f in e.value.errors} == {"reason", "days"}


def test_reply_by_the_department_only_then_close_by_the_issuer(world, sup):
    order = orders.issue(sup["county"], reason="x", department=world.dept)
    with pytest.raises(NotPermitted):
        orders.reply(world.other_dept_approver, order.pk, "不是我们")
    with pytest.raises(NotPermitted):
        orders.reply(sup["county"], order.pk, "我不是部门")
    orders.reply(world.approver, order.pk, "已处理")
    order.refresh_from_db()
    assert (order.status, order.reply, order.replied_by_id) == (
        OrderStatus.REPLIED,
        "已处理",
        world.approver.pk,
    )
    with pytest.raises(NotPermitted):
        orders.close(sup["city"], order.pk)
    orders.close(sup["county"], order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    actions = list(
        AuditEntry.objects.filter(object_type="supervision.supervisoryorder", object_id=str(order.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["supervision.order.issue", "supervision.order.reply", "supervision.order.close"]


def test_overdue_order_escalates_once_to_the_region_above(world, sup):
    case = submitted_case(world)
    order = orders.issue(sup["county"], reason="x", case=case, days=1, today=THURSDAY)  # due Friday
    assert orders.escalate_overdue(today=dt.date(2025, 3, 7)) == 0  # on the day: not yet
    assert orders.escalate_overdue(today=dt.date(2025, 3, 10)) == 1
    assert orders.escalate_overdue(today=dt.date(2025, 3, 11)) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.ESCALATED
    assert order.escalated_to == world.regions["city"]
    assert order.escalated_at is not None
    notices = StaffNotice.objects.filter(case=case)
    assert list(notices.values_list("user_id", flat=True)) == [sup["city"].pk]
    assert (
        AuditEntry.objects.filter(action="supervision.order.escalate", object_id=str(order.pk)).count() == 1
    )
    # a replied order is not escalated
    other = orders.issue(sup["county"], reason="y", department=world.dept, days=1, today=THURSDAY)
    orders.reply(world.head, other.pk, "已办")
    assert orders.escalate_overdue(today=dt.date(2025, 3, 12)) == 0


# --- pages -----------------------------------------------------------------------------------------


def test_supervisor_issues_from_the_page_and_bad_input_is_shown_by_the_field(world, sup):
    case = submitted_case(world)
    c = client_for(sup["county"])
    url = reverse("workbench:orders")
    assert c.get(url).status_code == 200
    r = c.post(url, {"case": case.number, "reason": "", "days": "abc"})
    assert r.status_code == 400
    body = r.content.decode()
    assert 'id="e-reason"' in body and 'id="e-days"' in body
    r = c.post(url, {"case": "NO-SUCH", "reason": "x", "days": "2"})
    assert r.status_code == 400 and 'id="e-case"' in r.content.decode()
    # another city's supervisor: the case is answered as unknown
    r = client_for(sup["far"]).post(url, {"case": case.number, "reason": "x", "days": "2"})
    assert r.status_code == 400 and 'id="e-case"' in r.content.decode()
    assert not SupervisoryOrder.objects.exists()
    r = c.post(url, {"case": case.number, "reason": "请说明", "days": "2"})
    assert r.status_code == 302
    order = SupervisoryOrder.objects.get()
    assert order.case == case
    assert f'data-order="{order.pk}"' in c.get(url).content.decode()


def test_department_replies_from_the_page(world, sup):
    order = orders.issue(sup["county"], reason="请说明", department=world.dept)
    page = client_for(world.clerk).get(reverse("workbench:orders")).content.decode()
    assert f'data-order="{order.pk}"' in page
    assert f'data-order="{order.pk}"' not in (
        client_for(world.other_dept_approver).get(reverse("workbench:orders")).content.decode()
    )
    reply_url = reverse("workbench:order_reply", args=[order.pk])
    r = client_for(world.clerk).post(reply_url, {"reply": " "})
    assert r.status_code == 400 and "请填写回复内容" in r.content.decode()
    assert client_for(world.other_dept_approver).post(reply_url, {"reply": "x"}).status_code == 403
    assert client_for(world.clerk).post(reply_url, {"reply": "已处理"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REPLIED
    assert client_for(world.clerk).post(reverse("workbench:order_close", args=[order.pk])).status_code == 403
    assert (
        client_for(sup["county"]).post(reverse("workbench:order_close", args=[order.pk])).status_code == 302
    )
    assert client_for(world.clerk).post(reverse("workbench:order_reply", args=[99999])).status_code == 404


def test_case_page_shows_the_case_orders(world, sup):
    case = submitted_case(world)
    orders.issue(sup["county"], reason="请说明延误原因", case=case)
    page = client_for(world.clerk).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'id="case-orders"' in page and "请说明延误原因" in page
