"""Warning levels on the working-day clock, their notices, and the flagged events."""

from __future__ import annotations

import contextlib
import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from tests.cases.conftest import submitted_case
from tests.workbench.helpers import client_for
from yiwang.cases import actions
from yiwang.cases import services as case_services
from yiwang.cases.models import OutboxMessage
from yiwang.supervision import rules, services
from yiwang.supervision.models import CaseWarning, Flag, Rule, StaffNotice
from yiwang.worktime.models import CalendarDay, CalendarSource, DayKind
from yiwang.worktime.selectors import invalidate_calendar

MONDAY = dt.date(2025, 3, 3)  # limit 10 working days: due Monday 2025-03-17


@contextlib.contextmanager
def on(day: dt.date):
    """A step on ``day``, and the level its receiver computes as of that day."""
    with (
        mock.patch("yiwang.cases.actions.CaseAction.today", return_value=day),
        mock.patch("yiwang.supervision.services.current_day", return_value=day),
    ):
        yield


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.YIWANG_NOTIFIERS = {
        "sms": "yiwang.cases.notifiers.FakeSmsGateway",
        "email": "yiwang.cases.notifiers.DjangoMailNotifier",
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def accepted(world, day: dt.date = MONDAY):
    case = submitted_case(world)
    with on(day):
        return actions.Accept(case, world.clerk).run()


def level(case, today: dt.date) -> str:
    services.sweep(today=today)
    return CaseWarning.objects.get(case=case).level


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


def test_yellow_days_rule():
    assert rules.yellow_days(10) == 2  # 80 % of 10 used: 2 left
    assert rules.yellow_days(20) == 4
    assert rules.yellow_days(3) == 1  # ceil(2.4) = 3 used would be 0 left: one day left wins
    assert rules.level_of(3, "green", 10) == "green"
    assert rules.level_of(2, "green", 10) == "yellow"
    assert rules.level_of(0, "yellow", 10) == "yellow"
    assert rules.level_of(-1, "red", 10) == "red"


def test_green_yellow_red_as_the_clock_moves(world):
    case = accepted(world)
    assert case.due_date == dt.date(2025, 3, 17)
    assert level(case, dt.date(2025, 3, 12)) == "green"  # 3 working days left
    assert level(case, dt.date(2025, 3, 13)) == "yellow"  # 2 left: 80 % used
    assert level(case, dt.date(2025, 3, 17)) == "yellow"  # the due day
    assert level(case, dt.date(2025, 3, 18)) == "red"


def test_one_working_day_left_turns_yellow(world, settings):
    settings.YIWANG_WARNING_YELLOW_SHARE = "1"
    case = accepted(world)
    assert level(case, dt.date(2025, 3, 13)) == "green"
    assert level(case, dt.date(2025, 3, 14)) == "yellow"  # Friday: only Monday the 17th left


def test_a_holiday_moves_the_thresholds(world):
    holiday(dt.date(2025, 3, 5))
    case = accepted(world)
    assert case.due_date == dt.date(2025, 3, 18)
    assert level(case, dt.date(2025, 3, 13)) == "green"
    assert level(case, dt.date(2025, 3, 14)) == "yellow"
    assert level(case, dt.date(2025, 3, 18)) == "yellow"
    assert level(case, dt.date(2025, 3, 19)) == "red"


def test_a_suspension_pause_is_not_counted(world):
    case = accepted(world)
    with on(dt.date(2025, 3, 5)):
        case = actions.Suspend(case, world.approver, reasons="等待鉴定结果").run()
    # Frozen while suspended: judged on the day it stopped.
    assert level(case, dt.date(2025, 3, 25)) == "green"
    with on(dt.date(2025, 3, 10)):
        case = actions.Resume(case, world.approver).run()
    assert case.due_date == dt.date(2025, 3, 20)  # three working days paused
    assert level(case, dt.date(2025, 3, 17)) == "green"
    assert level(case, dt.date(2025, 3, 18)) == "yellow"
    assert level(case, dt.date(2025, 3, 21)) == "red"


def test_one_notice_per_change_to_the_handling_staff_and_head(world):
    for user, email in (
        (world.approver, "a1@gov.test"),
        (world.approver2, "a2@gov.test"),
        (world.head, "h@gov.test"),
    ):
        user.email = email
        user.save(update_fields=["email"])
    world.clerk.email = "clerk@gov.test"
    world.clerk.save(update_fields=["email"])
    case = accepted(world)
    yellow = dt.date(2025, 3, 13)
    services.sweep(today=yellow)
    services.sweep(today=yellow)  # no change: nothing new
    recipients = {n.user_id for n in StaffNotice.objects.filter(case=case)}
    # The open review task has no assignee: every approver of the department, and the head.
    assert recipients == {world.approver.pk, world.approver2.pk, world.head.pk}
    assert StaffNotice.objects.filter(case=case).count() == 3
    assert OutboxMessage.objects.filter(case=case, template="warning_yellow").count() == 3
    case_services.send_messages()
    assert sorted(m.to[0] for m in mail.outbox) == ["a1@gov.test", "a2@gov.test", "h@gov.test"]
    assert case.number in mail.outbox[0].body

    # Many page views notify nobody.
    client = client_for(world.approver)
    for _ in range(5):
        r = client.get(reverse("workbench:case", args=[case.pk]))
        assert r.status_code == 200
    assert StaffNotice.objects.filter(case=case).count() == 3

    services.sweep(today=dt.date(2025, 3, 18))
    services.sweep(today=dt.date(2025, 3, 19))
    assert StaffNotice.objects.filter(case=case, level="red").count() == 3
    assert OutboxMessage.objects.filter(case=case, template="warning_red").count() == 3
    assert not case.events.filter(kind__startswith="warning_").exists()  # kept in supervision


def test_assignee_is_notified_instead_of_the_role(world):
    case = accepted(world)
    from yiwang.workflow.models import Task

    Task.objects.filter(case_id=case.pk, state="open").update(assignee=world.approver2)
    services.sweep(today=dt.date(2025, 3, 13))
    assert {n.user_id for n in StaffNotice.objects.filter(case=case)} == {world.approver2.pk, world.head.pk}


def test_finished_case_loses_its_level(world):
    case = accepted(world)
    services.sweep(today=dt.date(2025, 3, 13))
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="approve").run()
    assert not CaseWarning.objects.filter(case=case).exists()


def test_decision_with_unchecked_materials_is_flagged_once(world):
    case = accepted(world)
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="approve").run()
    flags = Flag.objects.filter(case=case, rule=Rule.UNCHECKED_MATERIALS)
    assert flags.count() == 1
    assert services.check_materials_at_decision(case) is False  # once
    assert Flag.objects.filter(case=case).count() == 1


def test_decision_with_every_material_checked_is_not_flagged(world):
    case = accepted(world)
    case.materials.update(status="ok")
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="approve").run()
    assert not Flag.objects.filter(case=case).exists()


def test_second_correction_request_is_flagged_once(world):
    case = submitted_case(world)
    item = [{"field": "phone", "reason": "电话无法接通"}]
    case = actions.RequestCorrection(case, world.clerk, items=item).run()
    assert not Flag.objects.filter(case=case).exists()
    case = actions.ApplicantCorrects(case, world.applicant, data={"phone": "13900000001"}).run()
    case = actions.RequestCorrection(case, world.clerk, items=item).run()
    assert Flag.objects.filter(case=case, rule=Rule.SECOND_CORRECTION).count() == 1
    case = actions.ApplicantCorrects(case, world.applicant, data={"phone": "13900000002"}).run()
    case = actions.RequestCorrection(case, world.clerk, items=item).run()
    assert Flag.objects.filter(case=case, rule=Rule.SECOND_CORRECTION).count() == 1


def test_long_suspension_is_flagged_once(world, settings):
    settings.YIWANG_PAUSE_ALLOWED_DAYS = {"suspension": 5}
    case = accepted(world)
    with on(dt.date(2025, 3, 4)):
        case = actions.Suspend(case, world.approver, reasons="等待鉴定结果").run()
    services.sweep(today=dt.date(2025, 3, 11))  # 5 working days: allowed
    assert not Flag.objects.filter(case=case).exists()
    services.sweep(today=dt.date(2025, 3, 12))
    services.sweep(today=dt.date(2025, 3, 13))
    flag = Flag.objects.get(case=case, rule=Rule.LONG_SUSPENSION)
    assert "等待鉴定结果" in flag.detail


def test_long_suspension_ended_between_sweeps_is_flagged(world, settings):
    settings.YIWANG_PAUSE_ALLOWED_DAYS = {"suspension": 2}
    case = accepted(world)
    with on(dt.date(2025, 3, 4)):
        case = actions.Suspend(case, world.approver, reasons="等待鉴定结果").run()
    with on(dt.date(2025, 3, 10)):
        case = actions.Resume(case, world.approver).run()
    services.sweep(today=dt.date(2025, 3, 11))
    assert Flag.objects.filter(case=case, rule=Rule.LONG_SUSPENSION).count() == 1
    # Long past: no longer read, and flagged once only anyway.
    services.sweep(today=dt.date(2025, 4, 30))
    assert Flag.objects.filter(case=case, rule=Rule.LONG_SUSPENSION).count() == 1


def test_days_left_follow_the_clock_without_a_change_of_level(world):
    case = accepted(world)
    services.sweep(today=dt.date(2025, 3, 4))
    assert CaseWarning.objects.get(case=case).days_left == 9
    services.sweep(today=dt.date(2025, 3, 5))
    row = CaseWarning.objects.get(case=case)
    assert (row.level, row.days_left, row.due) == ("green", 8, dt.date(2025, 3, 17))
