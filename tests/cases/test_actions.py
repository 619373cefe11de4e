from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from yiwang.cases import actions, personal, selectors, services
from yiwang.cases.models import CaseState, ClockPause, CourierStatus, OutboxMessage
from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.workflow import selectors as wf
from yiwang.worktime import selectors as worktime

from .conftest import pdf_upload, submitted_case

MONDAY = dt.date(2025, 3, 3)  # an ordinary week, far from holidays


def on(day: dt.date):
    return mock.patch("yiwang.cases.actions.CaseAction.today", return_value=day)


def steps(case) -> list[str]:
    return [t.spec_name for t in wf.open_tasks(case)]


def test_full_promise_path_with_courier(world):
    case = submitted_case(world)
    with on(MONDAY):
        case = actions.Accept(case, world.clerk).run()
    assert case.state == CaseState.ACCEPTED and case.accepted_on == MONDAY and case.limit_days == 10
    assert case.due_date == worktime.due_date(MONDAY, 10).date == dt.date(2025, 3, 17)
    assert steps(case) == ["review"]
    assert wf.open_tasks(case).get().due_date == case.due_date
    case = actions.Review(case, world.approver, decision="pass").run()
    assert steps(case) == ["decide"]
    case = actions.Decide(case, world.head, decision="approve").run()
    assert case.state == CaseState.APPROVED and case.outcome == "approved" and case.appeal_rights == ""
    case = actions.Deliver(case, world.clerk, method="courier", address="福州市鼓楼区五四路1号").run()
    assert (
        case.delivery.tracking_number.startswith("FK")
        and case.delivery.courier_status == CourierStatus.CREATED
    )
    assert steps(case) == ["deliver"]
    with pytest.raises(DomainError):
        actions.Close(case, world.clerk).run()
    case = actions.RecordCourierStatus(case, world.clerk, status="delivered").run()
    assert case.state == CaseState.DELIVERED and wf.is_finished(case)
    case = actions.Close(case, world.clerk).run()
    assert case.state == CaseState.CLOSED
    kinds = [e.kind for e in case.events.all()]
    assert kinds == ["submitted", "accepted", "reviewed", "decided", "shipped", "delivered", "closed"]
    audited = set(AuditEntry.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert {"cases.accept", "cases.review", "cases.decide", "cases.deliver", "cases.close"} <= audited
    assert OutboxMessage.objects.filter(case=case).count() >= 6
    assert "五四路" not in case.delivery.address_cipher


def test_instant_item_is_decided_on_the_spot(world):
    case = submitted_case(world, world.instant_item)
    case = actions.Accept(case, world.clerk).run()
    assert case.limit_days == 0 and case.due_date == case.accepted_on
    assert steps(case) == ["decide"]
    case = actions.Decide(case, world.head, decision="approve").run()
    case = actions.Deliver(case, world.clerk, method="electronic").run()
    assert case.state == CaseState.DELIVERED and wf.is_finished(case)


def test_deny_requires_reasons_and_carries_appeal_rights(world):
    case = submitted_case(world)
    case = actions.Accept(case, world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    with pytest.raises(ValidationFailed):
        actions.Decide(case, world.head, decision="deny", reasons=" ").run()
    case = actions.Decide(case, world.head, decision="deny", reasons="经营场所不符合要求").run()
    assert case.state == CaseState.DENIED
    assert "六十日" in case.appeal_rights and "六个月" in case.appeal_rights


def test_refuse_to_accept_needs_reasons_and_ends_the_process(world):
    case = submitted_case(world)
    with pytest.raises(ValidationFailed):
        actions.RefuseToAccept(case, world.clerk).run()
    case = actions.RefuseToAccept(case, world.clerk, reasons="不属于本部门职权范围").run()
    assert case.state == CaseState.REFUSED and case.reasons and "行政复议" in case.appeal_rights
    assert wf.is_finished(case) and steps(case) == []
    with pytest.raises(DomainError):
        actions.Accept(case, world.clerk).run()


@pytest.mark.parametrize(
    "who, message",
    [("approver", "窗口受理人员"), ("far_clerk", "窗口受理人员"), ("outsider", "窗口受理人员")],
)
def test_accept_refused_for_wrong_role_department_or_region(world, who, message):
    case = submitted_case(world)
    with pytest.raises(NotPermitted, match=message):
        actions.Accept(case, getattr(world, who)).run()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and steps(case) == ["accept"]


def test_review_and_decide_refused_outside_role_and_department(world):
    case = submitted_case(world)
    case = actions.Accept(case, world.clerk).run()
    for wrong in (world.clerk, world.other_dept_approver, world.far_clerk):
        with pytest.raises(NotPermitted):
            actions.Review(case, wrong, decision="pass").run()
    case = actions.Review(case, world.approver, decision="pass").run()
    with pytest.raises(NotPermitted):
        actions.Decide(case, world.approver, decision="approve").run()  # decide is the head's
    with pytest.raises(DomainError):
        actions.Review(case, world.approver, decision="pass").run()  # no review task any more


def test_correction_loop_pauses_and_resumes(world):
    case = submitted_case(world)
    with pytest.raises(ValidationFailed) as exc:
        actions.RequestCorrection(case, world.clerk, items=[{"material": "营业执照", "reason": ""}]).run()
    assert exc.value.errors[0].field == "items.0"
    with on(MONDAY):
        case = actions.RequestCorrection(
            case,
            world.clerk,
            items=[
                {"material": "食品经营许可申请书", "reason": "缺少签字"},
                {"field": "phone", "reason": "电话无法接通"},
            ],
        ).run()
    assert case.state == CaseState.CORRECTION_REQUESTED
    assert steps(case) == ["applicant_correction"]
    assert ClockPause.objects.get(case=case).end is None
    detail = selectors.case_detail(case.pk, for_applicant=True)
    assert len(detail.correction.items) == 2
    # Staff cannot do the applicant's step; the applicant must re-upload what was faulty.
    with pytest.raises(NotPermitted):
        actions.ApplicantCorrects(case, world.clerk).run()
    with pytest.raises(ValidationFailed) as exc:
        actions.ApplicantCorrects(case, world.applicant).run()
    assert exc.value.errors[0].field == "material:食品经营许可申请书"
    services.upload_material(
        case.application,
        requirement="食品经营许可申请书",
        uploaded=pdf_upload(),
        user=world.applicant,
        case=case,
    )
    with on(MONDAY + dt.timedelta(days=3)):
        case = actions.ApplicantCorrects(case, world.applicant, data={"phone": "13900000001"}).run()
    assert case.state == CaseState.SUBMITTED and steps(case) == ["accept"]
    assert ClockPause.objects.get(case=case).end == MONDAY + dt.timedelta(days=3)
    # Stored sealed (cases.personal): masked in the row, the real value for the applicant.
    assert case.application.data["phone"] == "139****0001"
    assert personal.open_data(case.application, reader=world.applicant)["phone"] == "13900000001"
    assert case.materials.filter(replaced=False, requirement="食品经营许可申请书").count() == 1
    # Accepted once corrected (行政许可法 第三十二条): the limit counts from then.
    thursday = MONDAY + dt.timedelta(days=3)
    with on(thursday):
        case = actions.Accept(case, world.clerk).run()
    assert case.due_date == worktime.due_date(thursday, 10).date


def test_suspension_and_inspection_move_the_due_date(world):
    case = submitted_case(world)
    with on(MONDAY):
        case = actions.Accept(case, world.clerk).run()
    base_due = case.due_date
    with on(MONDAY + dt.timedelta(days=1)):
        with pytest.raises(NotPermitted):
            actions.Suspend(case, world.clerk, reasons="等待司法鉴定").run()
        case = actions.Suspend(case, world.approver, reasons="等待司法鉴定").run()
    assert case.state == CaseState.SUSPENDED
    with pytest.raises(DomainError):
        actions.Review(case, world.approver, decision="pass").run()
    assert selectors.time_left(case, today=MONDAY + dt.timedelta(days=4)).paused
    with on(MONDAY + dt.timedelta(days=3)):  # Tuesday → Thursday: 2 working days stopped
        case = actions.Resume(case, world.approver).run()
    assert case.state == CaseState.UNDER_REVIEW
    assert worktime.working_days_between(base_due, case.due_date) == 2
    with on(MONDAY + dt.timedelta(days=7)):
        case = actions.Review(case, world.approver, decision="inspection", note="现场核查").run()
    assert steps(case) == ["inspection"]
    with on(MONDAY + dt.timedelta(days=8)):
        case = actions.FinishInspection(case, world.approver).run()
    assert worktime.working_days_between(base_due, case.due_date) == 3
    assert wf.open_tasks(case).get().due_date == case.due_date
    assert steps(case) == ["review"]


def test_transfer_to_a_colleague_of_the_same_department(world):
    case = submitted_case(world)
    case = actions.Accept(case, world.clerk).run()
    with pytest.raises(ValidationFailed):
        actions.Transfer(case, world.approver, to=world.other_dept_approver).run()
    with pytest.raises(NotPermitted):
        actions.Transfer(case, world.other_dept_approver, to=world.approver2).run()
    case = actions.Transfer(case, world.approver, to=world.approver2).run()
    assert wf.open_tasks(case).get().assignee == world.approver2
    with pytest.raises(NotPermitted, match="转交"):
        actions.Review(case, world.approver, decision="pass").run()
    actions.Review(case, world.approver2, decision="pass").run()


def test_time_left_traffic_light(world):
    case = submitted_case(world)
    with on(MONDAY):
        case = actions.Accept(case, world.clerk).run()
    assert selectors.time_left(case, today=MONDAY).state == "green"
    assert selectors.time_left(case, today=case.due_date).state == "yellow"
    late = selectors.time_left(case, today=case.due_date + dt.timedelta(days=1))
    assert late.state == "red" and late.days_left < 0


def test_public_lookup_needs_number_and_code(world):
    case = submitted_case(world)
    assert selectors.lookup(case.number, case.check_code.lower()) == case
    assert selectors.lookup(case.number, "ZZZZZZ") is None
    assert selectors.lookup("x", case.check_code) is None
    timeline = selectors.public_timeline(case)
    assert timeline and set(timeline[0]) == {"at", "label"}
    assert list(selectors.cases_of(world.applicant)) == [case]
    assert list(selectors.cases_of(world.outsider)) == []


def test_who_may_view_a_case(world):
    case = submitted_case(world)
    assert selectors.can_view_case(world.applicant, case)
    assert selectors.can_view_case(world.clerk, case) and selectors.can_view_case(world.head, case)
    assert not selectors.can_view_case(world.outsider, case)
    assert not selectors.can_view_case(world.other_dept_approver, case)
    assert not selectors.can_view_case(world.far_clerk, case)


def test_failed_courier_delivery_is_sent_again(world):
    case = submitted_case(world)
    case = actions.Accept(case, world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="approve").run()
    case = actions.Deliver(case, world.clerk, method="courier", address="福州市鼓楼区五四路1号").run()
    with pytest.raises(DomainError, match="等待快递签收"):
        actions.Deliver(case, world.clerk, method="courier").run()
    first = case.delivery.tracking_number
    case = actions.RecordCourierStatus(case, world.clerk, status="failed").run()
    assert case.state == CaseState.APPROVED and steps(case) == ["deliver"]
    case = actions.Deliver(case, world.clerk, method="courier").run()  # the address given the first time
    assert case.delivery.tracking_number != first


def test_region_scoped_roles_cover_departments_below(world):
    from .conftest import staff

    case = submitted_case(world)
    city_clerk = staff("cityclerk", "counter_clerk", region=world.regions["city"])
    province_kind = staff("provclerk", "counter_clerk")  # no region, no department: the whole province
    assert actions.has_role_for(city_clerk, "counter_clerk", world.dept)
    assert actions.has_role_for(province_kind, {"approver", "counter_clerk"}, world.dept)
    assert not actions.has_role_for(city_clerk, "approver", world.dept)
    assert not actions.has_role_for(world.far_clerk, "counter_clerk", world.dept)
    actions.Accept(case, city_clerk).run()


def test_clerk_marks_materials_and_the_faulty_ones_become_the_correction(world):
    case = submitted_case(world)
    licence = case.materials.get(requirement="营业执照")
    with pytest.raises(ValidationFailed):
        actions.MarkMaterial(case, world.clerk, material=licence, status="faulty").run()
    with pytest.raises(NotPermitted):
        actions.MarkMaterial(case, world.approver, material=licence, status="ok").run()
    actions.MarkMaterial(case, world.clerk, material=licence, status="faulty", note="已过有效期").run()
    assert actions.faulty_items(case) == [{"material": "营业执照", "reason": "已过有效期"}]
    case = actions.RequestCorrection(case, world.clerk, items=actions.faulty_items(case)).run()
    assert case.corrections.get().items == [{"material": "营业执照", "reason": "已过有效期"}]
