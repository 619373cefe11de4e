"""Run by tests/supervision/test_replica.py in its own process, with DATABASE_URL naming a
throwaway primary and DATABASE_REPLICA_URL its streaming replica (tests/pg_replica.py): writes on
the primary, reads open data through the replica and a write-then-read page on the primary,
then the lag limit and the replica stopped. Prints one JSON object of what it saw; the test
asserts on it. Not a test module itself (no ``test_`` prefix)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from tests.cases.conftest import staff  # noqa: E402
from tests.workbench.helpers import client_for  # noqa: E402
from yiwang.core import replica  # noqa: E402
from yiwang.identity.models import Role  # noqa: E402
from yiwang.regions.models import Department, DepartmentKind, Region, RegionLevel, ServiceHall  # noqa: E402
from yiwang.supervision.models import SupervisoryOrder  # noqa: E402

FIRST_HALL = "副本测试第一服务中心"
PAUSED_HALL = "副本暂停期间新建的服务中心"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def scalar(alias: str, sql: str) -> Any:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def on_replica(model: type, **filters: Any) -> bool:
    return model.objects.using("replica").filter(**filters).exists()


def wait_for_replay(model: type, timeout: float = 10.0, **filters: Any) -> float:
    started = time.monotonic()
    while not on_replica(model, **filters):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"the replica did not replay {model.__name__} {filters} in {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def hall_names(client: Client, replica_up: bool = True) -> tuple[int, list[str], int, int]:
    """Status, hall names of the open-data download, and the queries it made on each alias
    (none counted on a stopped replica: counting would connect to it)."""
    with contextlib.ExitStack() as stack:
        primary = stack.enter_context(CaptureQueriesContext(connections["default"]))
        rep = stack.enter_context(CaptureQueriesContext(connections["replica"])) if replica_up else None
        response = client.get("/opendata/service-halls.json")
        body = b"".join(response.streaming_content) if response.streaming else response.content
    names = [row["name"] for row in json.loads(body)] if response.status_code == 200 else []
    return response.status_code, names, len(primary.captured_queries), len(rep.captured_queries) if rep else 0


def main() -> None:
    setup_test_environment()  # the test client's response.context, and ALLOWED_HOSTS testserver
    collect = Collect()
    logging.getLogger("yiwang.replica").addHandler(collect)
    seen: dict[str, Any] = {"settings": {k: v["PORT"] for k, v in settings.DATABASES.items()}}
    seen["in_recovery"] = {a: scalar(a, "SELECT pg_is_in_recovery()") for a in ("default", "replica")}
    seen["replica_mirror"] = settings.DATABASES["replica"]["TEST"]["MIRROR"]

    # --- writes on the primary, replayed, read through the replica
    province = Region.objects.create(code="990000", name="副本省", level=RegionLevel.PROVINCE)
    county = Region.objects.create(code="990102", name="副本区", level=RegionLevel.COUNTY, parent=province)
    dept = Department.objects.create(
        region=county, kind=DepartmentKind.MARKET_REGULATION, code="001", name="副本局"
    )
    ServiceHall.objects.create(region=county, name=FIRST_HALL, address="副本路 1 号")
    supervisor = staff("replica_sup", Role.SUPERVISOR, region=province)
    seen["first_replay_seconds"] = wait_for_replay(ServiceHall, name=FIRST_HALL)
    seen["read_alias"] = replica.read_alias()
    anonymous = Client()
    status, names, primary_q, replica_q = hall_names(anonymous)
    seen["replayed"] = {
        "status": status,
        "names": names,
        "primary_queries": primary_q,
        "replica_queries": replica_q,
    }
    response = anonymous.get("/opendata/api/3/action/package_show", {"id": "service-items"})
    seen["package_show_status"] = response.status_code

    # --- replay paused: the replica is behind; open data shows the old rows, a write-then-read
    # page shows its own write.
    scalar("replica", "SELECT pg_wal_replay_pause()::text")
    ServiceHall.objects.create(region=county, name=PAUSED_HALL, address="副本路 2 号")
    status, names, primary_q, replica_q = hall_names(anonymous)
    seen["paused"] = {
        "status": status,
        "names": names,
        "primary_queries": primary_q,
        "replica_queries": replica_q,
    }
    staff_client = client_for(supervisor)
    with CaptureQueriesContext(connections["replica"]) as rep:
        response = staff_client.post(
            "/workbench/orders/",
            {"department": str(dept.pk), "reason": "副本测试督办事由", "days": "3"},
            follow=True,
        )
    seen["order_page"] = {
        "status": response.status_code,
        "shows_order": "副本测试督办事由" in response.content.decode(),
        "orders_on_primary": SupervisoryOrder.objects.filter(reason="副本测试督办事由").count(),
        "order_on_replica": on_replica(SupervisoryOrder, reason="副本测试督办事由"),
        "replica_queries": len(rep.captured_queries),
    }

    # --- lag beyond YIWANG_REPLICA_MAX_LAG: the primary is read, with a warning
    time.sleep(0.3)
    settings.YIWANG_REPLICA_MAX_LAG = 0.2
    replica.forget()
    before = len(collect.messages)
    seen["lag_seconds"] = replica.replica_lag()
    status, names, primary_q, replica_q = hall_names(anonymous)
    seen["lagging"] = {
        "status": status,
        "names": names,
        "primary_queries": primary_q,
        "warnings": collect.messages[before:],
    }

    # --- replay resumed: the replica catches up and is read again
    scalar("replica", "SELECT pg_wal_replay_resume()::text")
    seen["catch_up_seconds"] = wait_for_replay(ServiceHall, name=PAUSED_HALL)
    settings.YIWANG_REPLICA_MAX_LAG = 3600.0
    replica.forget()
    status, names, primary_q, replica_q = hall_names(anonymous)
    seen["resumed"] = {
        "status": status,
        "names": names,
        "replica_queries": replica_q,
        "alias": replica.read_alias(),
    }

    # --- the replica stops: with the kept connection, then with none; never an error page
    # No forget(): the process still trusts its last look; the kept connection, closed by the
    # server, is dropped before the request (core.dbcheck) and a new one is refused.
    subprocess.run(json.loads(os.environ["REPLICA_STOP_CMD"]), check=True, capture_output=True, timeout=60)
    before = len(collect.messages)
    started = time.monotonic()
    status, names, primary_q, replica_q = hall_names(anonymous, replica_up=False)
    seen["stopped"] = {
        "status": status,
        "names": names,
        "primary_queries": primary_q,
        "warnings": collect.messages[before:],
        "alias": replica.read_alias(),
        "seconds": time.monotonic() - started,
    }
    # Within the verdict's period a later request does not try the replica again.
    before = len(collect.messages)
    status, names, primary_q, replica_q = hall_names(anonymous, replica_up=False)
    seen["stopped_again"] = {"status": status, "names": names, "warnings": collect.messages[before:]}
    json.dump(seen, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
