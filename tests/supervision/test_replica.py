"""Reads from a real PostgreSQL streaming replica (issue 19 point 7).

A primary of our own and its hot standby are started on this machine (tests/pg_replica.py),
holding a copy of the migrated test database; tests/supervision/replica_script.py runs in a
process whose settings name them (DATABASE_URL, DATABASE_REPLICA_URL) and reports what it saw:

- open data is read through the ``replica`` alias once a write is replayed;
- with replay paused, open data still shows the replica's older rows, while the supervisory
  orders page, a page that must show its own write, shows the order just issued and makes no
  query on the replica;
- beyond YIWANG_REPLICA_MAX_LAG the primary is read, with a warning;
- with the replica stopped, the same download answers 200 from the primary, with a warning,
  and the process does not try the replica again on the next request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests import pg_replica

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a streaming replica is PostgreSQL's"),
    pytest.mark.skipif(pg_replica.why_not() is not None, reason=pg_replica.why_not() or ""),
]


def _source_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def pair(db, tmp_path):
    """A primary holding a copy of the migrated test database (committed rows only: the test's
    own transaction is not copied), and its streaming replica."""
    cluster = pg_replica.ReplicaPair()
    try:
        cluster.start(_source_url(), "yiwang")
        yield cluster
    except Exception:
        print(cluster.log())
        raise
    finally:
        cluster.stop()


def test_open_data_reads_the_replica_and_a_page_its_own_write_the_primary(pair, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PYTEST_XDIST_WORKER"}}
    env.update(
        DATABASE_URL=pair.url("primary", "yiwang"),
        DATABASE_REPLICA_URL=pair.url("replica", "yiwang"),
        YIWANG_REPLICA_MAX_LAG="3600",
        YIWANG_REPLICA_CHECK_SECONDS="30",
        YIWANG_DATA_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="yiwang.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        REPLICA_STOP_CMD=json.dumps(pair.stop_replica_cmd()),
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.supervision.replica_script"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:] + pair.log()
    seen = json.loads(done.stdout)
    print(json.dumps(seen, ensure_ascii=False, indent=1))

    assert seen["settings"] == {"default": pair.primary_port, "replica": pair.replica_port}
    assert seen["in_recovery"] == {"default": False, "replica": True}
    assert seen["replica_mirror"] == "default"

    # Replayed: the download comes from the replica, not the primary.
    assert seen["read_alias"] == "replica"
    replayed = seen["replayed"]
    assert replayed["status"] == 200 and replayed["names"] == ["副本测试第一服务中心"]
    assert replayed["replica_queries"] >= 1 and replayed["primary_queries"] == 0
    assert seen["package_show_status"] == 200

    # Replay paused: the replica is behind, and open data shows it.
    assert seen["paused"]["names"] == ["副本测试第一服务中心"]
    assert seen["paused"]["replica_queries"] >= 1
    # ... while the page that must show its own write reads the primary only.
    order_page = seen["order_page"]
    assert order_page["status"] == 200 and order_page["shows_order"]
    assert order_page["orders_on_primary"] == 1 and not order_page["order_on_replica"]
    assert order_page["replica_queries"] == 0

    # Lag beyond the limit: the primary, which has the new hall, with a warning.
    assert seen["lag_seconds"] > 0.2
    lagging = seen["lagging"]
    assert lagging["status"] == 200 and lagging["primary_queries"] >= 1
    assert sorted(lagging["names"]) == sorted(["副本测试第一服务中心", "副本暂停期间新建的服务中心"])
    assert any("lags" in m for m in lagging["warnings"])

    # Resumed: replayed, and read from the replica again.
    assert seen["resumed"]["alias"] == "replica" and seen["resumed"]["replica_queries"] >= 1
    assert len(seen["resumed"]["names"]) == 2

    # Stopped: 200 from the primary with a warning, then no new attempt within the period.
    stopped = seen["stopped"]
    assert stopped["status"] == 200 and len(stopped["names"]) == 2 and stopped["primary_queries"] >= 1
    assert any("unreachable" in m for m in stopped["warnings"])
    assert stopped["alias"] == "default"
    assert seen["stopped_again"]["status"] == 200 and seen["stopped_again"]["warnings"] == []
