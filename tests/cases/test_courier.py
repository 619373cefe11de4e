"""Courier polling: the carrier's statuses recorded through RecordCourierStatus as the system,
in batches, one transaction per delivery, idempotent, closing delivered cases by the rule."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from yiwang.cases import actions
from yiwang.cases.courier import FakeCourier, Tracking, courier, poll_deliveries, record_status
from yiwang.cases.models import Case, CaseState, CourierStatus, Delivery
from yiwang.cases.signals import case_closed
from yiwang.core.models import AuditEntry

from .conftest import submitted_case


@pytest.fixture(autouse=True)
def fake_courier(settings):
    settings.YIWANG_COURIER = "yiwang.cases.courier.FakeCourier"
    settings.YIWANG_COURIER_CLOSE_ON_DELIVERY = True
    FakeCourier.reset()
    yield
    FakeCourier.reset()


def shipped(world, n: int) -> list[Case]:
    cases = []
    for _ in range(n):
        case = submitted_case(world)
        case = actions.Accept(case, world.clerk).run()
        case = actions.Review(case, world.approver, decision="pass").run()
        case = actions.Decide(case, world.head, decision="approve").run()
        case = actions.Deliver(case, world.clerk, method="courier", address="福州市鼓楼区五四路1号").run()
        cases.append(case)
    return cases


class OtherCarrier(FakeCourier):
    """FAKE: a second carrier class, to show the setting selects the adapter."""

    carrier = "另一家快递（Fake）"


def test_the_setting_selects_the_adapter(settings):
    assert isinstance(courier(), FakeCourier) and courier().carrier == "演示快递（Fake）"
    settings.YIWANG_COURIER = f"{__name__}.OtherCarrier"
    assert courier().carrier == "另一家快递（Fake）"
    shipment = courier().create_shipment(case_number="35010220261126000001", address="x", recipient="y")
    assert courier().track(shipment.tracking_number) == Tracking("created")
    assert courier().status("nope") == ""


def test_poll_records_changes_in_batches_and_closes_delivered_cases(world):
    moving, arrived, still = shipped(world, 3)
    FakeCourier.statuses[moving.delivery.tracking_number] = "in_transit"
    FakeCourier.statuses[arrived.delivery.tracking_number] = "delivered"
    report = poll_deliveries(batch_size=2)
    assert [len(b) for b in FakeCourier.calls] == [2, 1]
    assert (report.asked, report.changed, report.delivered, report.closed, report.unchanged) == (
        3,
        2,
        1,
        1,
        1,
    )

    moving.refresh_from_db()
    arrived.refresh_from_db()
    still.refresh_from_db()
    assert moving.state == CaseState.APPROVED and moving.delivery.courier_status == CourierStatus.IN_TRANSIT
    assert arrived.state == CaseState.CLOSED and arrived.delivery.delivered_at is not None
    assert still.delivery.courier_status == CourierStatus.CREATED
    assert [(e.kind, e.actor_label) for e in arrived.events.order_by("pk")][-2:] == [
        ("delivered", "系统"),
        ("closed", "系统"),
    ]
    entry = AuditEntry.objects.filter(action="cases.courier_status", object_id=str(arrived.pk)).get()
    assert entry.channel == "system" and entry.actor_id is None and entry.actor_label == "courier-poll"

    # Idempotent: nothing new happened at the carrier, so nothing new is written.
    events = sum(c.events.count() for c in (moving, arrived, still))
    entries = AuditEntry.objects.count()
    again = poll_deliveries(batch_size=2)
    assert again.changed == 0 and again.asked == 2  # the closed one is no longer in transit
    assert sum(c.events.count() for c in (moving, arrived, still)) == events
    assert AuditEntry.objects.count() == entries
    # A concurrent poller that read the old status records nothing either.
    assert record_status(moving.pk, "in_transit", close=True) == (False, False)
    assert record_status(arrived.pk, "delivered", close=True) == (False, False)


def test_rule_off_leaves_delivered_cases_for_staff_to_close(world, settings):
    settings.YIWANG_COURIER_CLOSE_ON_DELIVERY = False
    (case,) = shipped(world, 1)
    FakeCourier.statuses[case.delivery.tracking_number] = "delivered"
    out = io.StringIO()
    call_command("poll_couriers", stdout=out)
    assert "签收 1" in out.getvalue() and "办结 0" in out.getvalue()
    case.refresh_from_db()
    assert case.state == CaseState.DELIVERED
    assert actions.Close(case, world.clerk).run().state == CaseState.CLOSED


def test_carrier_failure_and_bad_status_change_nothing(world):
    first, second = shipped(world, 2)
    FakeCourier.fail = True
    report = poll_deliveries()
    assert report.errors == 2 and report.changed == 0
    FakeCourier.fail = False
    FakeCourier.statuses[first.delivery.tracking_number] = "lost"  # not a status we know
    FakeCourier.statuses[second.delivery.tracking_number] = "delivered"
    report = poll_deliveries()
    assert report.changed == 1 and len(report.skipped) == 1 and report.skipped[0].startswith(str(first.pk))
    first.refresh_from_db()
    assert first.delivery.courier_status == CourierStatus.CREATED


def test_one_transaction_per_delivery(world):
    """A failure while closing one case rolls back its delivered status too; the others go on."""
    broken, fine = shipped(world, 2)
    for c in (broken, fine):
        FakeCourier.statuses[c.delivery.tracking_number] = "delivered"

    def explode(sender, case, **kwargs):
        if case.pk == broken.pk:
            raise RuntimeError("receiver failed")

    case_closed.connect(explode, dispatch_uid="test-explode")
    try:
        report = poll_deliveries()
    finally:
        case_closed.disconnect(dispatch_uid="test-explode")
    assert report.closed == 1 and len(report.skipped) == 1
    broken.refresh_from_db()
    fine.refresh_from_db()
    delivery = Delivery.objects.get(case=broken)
    assert broken.state == CaseState.APPROVED and delivery.courier_status == CourierStatus.CREATED
    assert delivery.delivered_at is None
    assert fine.state == CaseState.CLOSED
    # Next poll picks the broken one up again.
    assert poll_deliveries().asked == 1
