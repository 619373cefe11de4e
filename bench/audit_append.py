"""Cost of appending a step's audit entries on PostgreSQL: ``core.audit._append_pg`` (one
hand-written statement that locks the chain head, hashes the entries in the database, inserts
them and moves the head) against ``core.audit._append_orm`` (the portable ORM path: lock the
head, hash in Python, one ``bulk_create``, one head ``UPDATE``), for batches of 1 and 3 entries
(a step records its own entry plus those its receivers record). Median CPU microseconds and
statements per append (each a round trip while the chain head is locked). Each append runs in a
savepoint rolled back at once; no wall-clock figure, because the rolled-back inserts of the same
sequence numbers leave dead index entries whose uniqueness checks dominate it.

Needs PostgreSQL (``DATABASE_URL``) with at least one audit entry (``make demo``). Prints one
JSON object:

    DATABASE_URL=postgres://... PYTHONPATH=src python bench/audit_append.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from yiwang.core import audit  # noqa: E402
from yiwang.core.models import AuditEntry  # noqa: E402

REPEAT = 500
Appender = Callable[[list[AuditEntry]], object]


def entries(n: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            at=timezone.now(),
            actor_id=7,
            actor_label="审批人 张三",
            channel="web",
            ip="10.0.0.1",
            action="cases.approve",
            object_type="cases.case",
            object_id=str(40 + i),
            summary=f"审批通过 ZJ2026-{i:06d}",
            detail={"decision": "approve", "state": "approved"},
        )
        for i in range(n)
    ]


def measure(appends: dict[str, Appender], n: int) -> dict[str, dict[str, float]]:
    """Median CPU microseconds of each append over ``REPEAT`` fresh batches of ``n`` entries
    (built outside the timing, the appends taking turns), and its statement count."""
    counts: dict[str, int] = {}
    for name, append in appends.items():
        sid = transaction.savepoint()
        with CaptureQueriesContext(connection) as ctx:  # the warm-up run, counted
            append(entries(n))
        transaction.savepoint_rollback(sid)
        counts[name] = len(ctx.captured_queries)
    cpu: dict[str, list[float]] = {name: [] for name in appends}
    for _ in range(REPEAT):
        for name, append in appends.items():
            batch = entries(n)
            sid = transaction.savepoint()
            t = time.process_time_ns()
            append(batch)
            cpu[name].append((time.process_time_ns() - t) / 1000)
            transaction.savepoint_rollback(sid)
    return {
        name: {
            "cpu_us": round(statistics.median(cpu[name]), 1),
            "statements": counts[name],
        }
        for name in appends
    }


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only: set DATABASE_URL")
    if not AuditEntry.objects.exists():
        raise SystemExit("no audit entry in the database: fill it first (make demo)")
    result: dict[str, object] = {"database": connection.vendor}
    with transaction.atomic():
        for n in (1, 3):
            figures = measure({"pg": audit._append_pg, "orm": audit._append_orm}, n)
            pg, orm = figures["pg"], figures["orm"]
            result[f"entries_{n}"] = {
                "pg": pg,
                "orm": orm,
                "cpu_ratio": round(orm["cpu_us"] / pg["cpu_us"], 2),
            }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
