"""Courier companies behind one interface; ``FakeCourier`` stands in for a real carrier's API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str


class CourierAdapter(Protocol):
    def create_shipment(self, *, case_number: str, address: str, recipient: str) -> Shipment: ...

    def status(self, tracking_number: str) -> str: ...  # CourierStatus value


class FakeCourier:
    """Hands out tracking numbers and reports what a test or the demo sets."""

    carrier = "演示快递（Fake）"
    _seq = itertools.count(1)
    statuses: dict[str, str] = {}
    shipments: list[dict] = []

    def create_shipment(self, *, case_number: str, address: str, recipient: str) -> Shipment:
        number = f"FK{case_number[-10:]}{next(self._seq):04d}"
        self.statuses[number] = "created"
        self.shipments.append({"case": case_number, "tracking": number})
        return Shipment(self.carrier, number)

    def status(self, tracking_number: str) -> str:
        return self.statuses.get(tracking_number, "")


def courier() -> CourierAdapter:
    return import_string(getattr(settings, "YIWANG_COURIER", "yiwang.cases.courier.FakeCourier"))()
