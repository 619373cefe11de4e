"""Courier delivery (邮寄送达): carriers behind one adapter interface, and the polling job.

``YIWANG_COURIER`` names the adapter class (dotted path); the default is ``FakeCourier``, a
stand-in for a carrier's API that we do not own (it hands out tracking numbers and reports what
a test or the demo sets). A real carrier implements ``create_shipment`` and ``track_many`` (most
carriers' tracking APIs take many numbers per call) and raises ``CourierError`` when its API
fails.

``poll_deliveries`` (the ``cases.poll_couriers`` periodic job) asks the carrier about every
courier delivery still in transit, in batches, and records each change through the
``RecordCourierStatus`` action as the system (no person): one transaction per delivery, the case
row locked, so a repeated or concurrent poll records a change once. When the carrier reports it
delivered and ``YIWANG_COURIER_CLOSE_ON_DELIVERY`` is on (the default), the case is closed in the
same transaction: the result has reached the applicant and nothing is left to do.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# The carrier statuses the platform records (models.CourierStatus values).
CREATED, IN_TRANSIT, DELIVERED, FAILED = "created", "in_transit", "delivered", "failed"
OPEN_STATUSES = (CREATED, IN_TRANSIT)


class CourierError(Exception):
    """The carrier's API failed (network, refusal); the poll tries again next time."""


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str


@dataclass(frozen=True)
class Tracking:
    status: str  # CourierStatus value; "" when the carrier does not know the number
    at: dt.datetime | None = None
    detail: str = ""


class CourierAdapter(Protocol):
    carrier: str

    def create_shipment(self, *, case_number: str, address: str, recipient: str) -> Shipment: ...

    def track_many(self, tracking_numbers: list[str]) -> dict[str, Tracking]: ...

    def status(self, tracking_number: str) -> str: ...  # CourierStatus value


class BaseCourier:
    """What every adapter shares: one number's status from the batch call."""

    carrier = ""

    def create_shipment(self, *, case_number: str, address: str, recipient: str) -> Shipment:
        raise NotImplementedError

    def track_many(self, tracking_numbers: list[str]) -> dict[str, Tracking]:
        raise NotImplementedError

    def track(self, tracking_number: str) -> Tracking:
        return self.track_many([tracking_number]).get(tracking_number, Tracking(""))

    def status(self, tracking_number: str) -> str:
        return self.track(tracking_number).status


class FakeCourier(BaseCourier):
    """FAKE carrier: hands out tracking numbers and reports what a test or the demo sets
    (``FakeCourier.statuses[number] = "delivered"``; ``FakeCourier.fail = True`` makes its
    API fail). State is per process, shared by every instance."""

    carrier = "演示快递（Fake）"
    _seq = itertools.count(1)
    statuses: dict[str, str] = {}
    shipments: list[dict] = []
    fail = False
    calls: list[list[str]] = []  # the batches asked, to check batching

    def create_shipment(self, *, case_number: str, address: str, recipient: str) -> Shipment:
        if self.fail:
            raise CourierError("fake courier is down")
        number = f"FK{case_number[-10:]}{next(self._seq):04d}"
        FakeCourier.statuses[number] = CREATED
        FakeCourier.shipments.append({"case": case_number, "tracking": number})
        return Shipment(self.carrier, number)

    def track_many(self, tracking_numbers: list[str]) -> dict[str, Tracking]:
        FakeCourier.calls.append(list(tracking_numbers))
        if self.fail:
            raise CourierError("fake courier is down")
        return {n: Tracking(FakeCourier.statuses[n]) for n in tracking_numbers if n in FakeCourier.statuses}

    @classmethod
    def reset(cls) -> None:
        cls.statuses.clear()
        cls.shipments.clear()
        cls.calls.clear()
        cls.fail = False


def courier() -> CourierAdapter:
    return import_string(getattr(settings, "YIWANG_COURIER", None) or "yiwang.cases.courier.FakeCourier")()


# --- polling ---------------------------------------------------------------------------------


@dataclass
class PollReport:
    asked: int = 0
    changed: int = 0
    delivered: int = 0
    closed: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # "case number: why"
    errors: int = 0  # deliveries whose batch the carrier failed to answer


def _system_actions():
    """The staff actions, done by the platform itself (actor None): no person's role to check,
    the step's task and the case's state still are."""
    from .actions import Close, RecordCourierStatus

    class PolledCourierStatus(RecordCourierStatus):
        def check_actor_for_task(self) -> None:
            if self.actor is not None:
                super().check_actor_for_task()

        def check_params(self) -> None:
            super().check_params()
            if self.status == self.case.delivery.courier_status:
                from yiwang.core.errors import DomainError

                raise DomainError(_("物流状态未变化。"), code="unchanged")

    class CloseAfterDelivery(Close):
        def check_actor_roles(self, roles: set[str]) -> None:
            if self.actor is not None:
                super().check_actor_roles(roles)

    return PolledCourierStatus, CloseAfterDelivery


def record_status(case_id: int, status: str, *, close: bool) -> tuple[bool, bool]:
    """Record one carrier status for one case, as the system, in one transaction.
    (changed, closed); a status that is no news (already recorded) changes nothing."""
    from yiwang.core.errors import DomainError

    from .models import Case, CaseState

    polled, closer = _system_actions()
    with transaction.atomic():
        case = Case.objects.get(pk=case_id)
        try:
            case = polled(case, None, status=status).run()
        except DomainError as exc:
            # Already recorded (a repeated or concurrent poll), or the case moved on meanwhile.
            if {e.code for e in exc.errors} & {"unchanged", "state"}:
                return False, False
            raise
        closed = False
        if close and case.state == CaseState.DELIVERED:
            closer(case, None).run()
            closed = True
    return True, closed


def _in_transit():
    from .models import CaseState, Delivery, DeliveryMethod

    return Delivery.objects.filter(
        method=DeliveryMethod.COURIER,
        courier_status__in=OPEN_STATUSES,
        case__state__in=(CaseState.APPROVED, CaseState.DENIED),
    ).exclude(tracking_number="")


def poll_deliveries(*, batch_size: int = 100, adapter: CourierAdapter | None = None) -> PollReport:
    """Ask the carrier about every courier delivery in transit, ``batch_size`` numbers per call,
    and record what changed (see the module docstring)."""
    from yiwang.core.context import ActorContext, reset_actor, set_actor

    adapter = adapter or courier()
    close = getattr(settings, "YIWANG_COURIER_CLOSE_ON_DELIVERY", True)
    report = PollReport()
    token = set_actor(ActorContext(label="courier-poll", channel="system"))
    try:
        last = 0
        qs = _in_transit().order_by("pk")
        while batch := list(
            qs.filter(pk__gt=last).values_list("pk", "tracking_number", "courier_status", "case_id")[
                :batch_size
            ]
        ):
            last = batch[-1][0]
            report.asked += len(batch)
            try:
                tracked = adapter.track_many([row[1] for row in batch])
            except CourierError as exc:
                log.warning("courier poll: %s failed for %d deliveries: %s", adapter.carrier, len(batch), exc)
                report.errors += len(batch)
                continue
            for _pk, number, current, case_id in batch:
                new = tracked.get(number)
                if new is None or not new.status or new.status == current:
                    report.unchanged += 1
                    continue
                _record_one(report, case_id, new.status, close)
    finally:
        reset_actor(token)
    return report


def _record_one(report: PollReport, case_id: int, status: str, close: bool) -> None:
    from yiwang.core.errors import DomainError

    try:
        changed, closed = record_status(case_id, status, close=close)
    except DomainError as exc:  # e.g. an unknown status from the carrier: keep polling the rest
        report.skipped.append(f"{case_id}: {'；'.join(exc.messages)}")
        return
    except Exception as exc:  # one case's failure (rolled back) must not stop the others
        log.exception("courier poll: case %s", case_id)
        report.skipped.append(f"{case_id}: {exc!r}")
        return
    if changed:
        report.changed += 1
        report.delivered += status == DELIVERED
        report.closed += closed
    else:
        report.unchanged += 1
