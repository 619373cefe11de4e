"""A small public catalogue for the open-data tests: the portal's three published items (one
published twice, one draft), and a service hall."""

from __future__ import annotations

from tests.portal.conftest import PortalCatalog, build_catalog
from yiwang.regions.models import ServiceHall


def build_world() -> PortalCatalog:
    world = build_catalog()
    ServiceHall.objects.create(
        region=world.regions["county"],
        name="鼓楼区政务服务中心",
        address="福州市鼓楼区乌山路 96 号",
        phone="0591-87654321",
        opening_hours="工作日 8:30-12:00，14:30-17:30",
        latitude="26.080000",
        longitude="119.290000",
    )
    return world
