"""The choice between the replica and the primary (core/replica.py), on any database: the
replica's answers are faked here. tests/supervision/test_replica.py runs the same code against a
real streaming replica on PostgreSQL.

- no replica configured, or inside a transaction on the primary: the primary;
- replica unreachable: the primary, a warning, and no new attempt within the check period;
- lag beyond YIWANG_REPLICA_MAX_LAG (or unknown): the primary and a warning; 0 turns the limit off;
- ``read`` runs again on the primary when the replica fails during the read;
- the settings build the alias from DATABASE_REPLICA_URL.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from django.db import transaction
from django.db.utils import OperationalError

from yiwang.core import replica
from yiwang.regions.models import Region


class FakeReplica:
    """Stands for the replica's answers: a lag, or an error when it is down."""

    def __init__(self, lag: float | None = 0.0) -> None:
        self.lag = lag
        self.down = False
        self.looks = 0
        self.dropped = 0

    def replica_lag(self) -> float | None:
        self.looks += 1
        if self.down:
            raise OperationalError("connection failed: Connection refused")
        return self.lag

    def connected(self) -> bool:
        if self.down:
            replica._mark(False)
            return False
        return True


@pytest.fixture
def fake(monkeypatch, settings):
    settings.YIWANG_REPLICA_MAX_LAG = 5.0
    settings.YIWANG_REPLICA_CHECK_SECONDS = 30.0
    f = FakeReplica()
    monkeypatch.setattr(replica, "configured", lambda: True)
    monkeypatch.setattr(replica, "replica_lag", f.replica_lag)
    monkeypatch.setattr(replica, "_connected", f.connected)
    monkeypatch.setattr(replica, "_drop_replica_connection", lambda: setattr(f, "dropped", f.dropped + 1))
    replica.forget()
    yield f
    replica.forget()


def test_primary_when_no_replica_is_configured():
    assert not replica.configured()
    assert replica.read_alias() == "default"
    assert replica.read(lambda alias: alias) == "default"


@pytest.mark.django_db(transaction=True)
def test_replica_when_fit_and_the_primary_inside_a_transaction(fake):
    assert replica.read_alias() == "replica"
    with transaction.atomic():
        # A read inside a service's transaction must see its writes: never the replica.
        assert replica.read_alias() == "default"
        assert replica.on_replica(Region.objects.all()).db == "default"
    assert replica.on_replica(Region.objects.all()).db == "replica"


def test_unreachable_replica_reads_the_primary_with_a_warning(fake, caplog):
    fake.down = True
    with caplog.at_level(logging.WARNING, logger="yiwang.replica"):
        assert replica.read_alias() == "default"
    assert "replica unreachable" in caplog.text and "Connection refused" in caplog.text
    assert fake.dropped == 1
    # Within the check period the process does not try again.
    looks = fake.looks
    assert replica.read_alias() == "default"
    assert fake.looks == looks
    # Back up: the next look (after the period, here forced) chooses it again.
    fake.down = False
    replica.forget()
    assert replica.read_alias() == "replica"


def test_replica_gone_within_the_period_is_noticed_before_the_read(fake, caplog):
    assert replica.read_alias() == "replica"
    fake.down = True  # no kept connection, and a new one is refused
    assert replica.read_alias() == "default"


@pytest.mark.parametrize(
    ("lag", "limit", "alias"),
    [
        (0.0, 5.0, "replica"),
        (4.9, 5.0, "replica"),
        (5.1, 5.0, "default"),
        (None, 5.0, "default"),
        (999.0, 0, "replica"),
    ],
)
def test_lag_beyond_the_limit_reads_the_primary(fake, settings, caplog, lag, limit, alias):
    fake.lag = lag
    settings.YIWANG_REPLICA_MAX_LAG = limit
    with caplog.at_level(logging.WARNING, logger="yiwang.replica"):
        assert replica.read_alias() == alias
    assert ("replica lags" in caplog.text) == (alias == "default")


def test_the_lag_is_looked_at_once_per_period(fake, settings):
    for _ in range(5):
        assert replica.read_alias() == "replica"
    assert fake.looks == 1
    settings.YIWANG_REPLICA_CHECK_SECONDS = 0
    replica.forget()
    replica.read_alias()
    replica.read_alias()
    assert fake.looks == 3


def test_read_runs_again_on_the_primary_when_the_replica_fails_during_it(fake, caplog):
    calls: list[str] = []

    def run(alias: str) -> int:
        calls.append(alias)
        if alias == "replica":
            raise OperationalError("canceling statement due to conflict with recovery")
        return 7

    with caplog.at_level(logging.WARNING, logger="yiwang.replica"):
        assert replica.read(run) == 7
    assert calls == ["replica", "default"]
    assert "failed during a read" in caplog.text
    # ... and the process keeps to the primary until the next look.
    assert replica.read_alias() == "default"


def test_a_replica_alias_naming_the_primary_is_read_as_the_primary():
    """The test mirror (and a DATABASE_REPLICA_URL equal to DATABASE_URL) is no replica: no
    second connection, so live-server tests, which may use only ``default``, work with a
    replica configured."""
    primary = {"ENGINE": "django.db.backends.postgresql", "NAME": "test_yiwang", "HOST": "db", "PORT": 5432}
    assert not replica.names_another_database(dict(primary, PORT="5432"), primary)
    assert replica.names_another_database(dict(primary, HOST="standby"), primary)
    assert replica.names_another_database(dict(primary, PORT=5433), primary)


PROBE = (
    "import json, yiwang.settings as s; r = s.DATABASES.get('replica');"
    "print(json.dumps(r and {'engine': r['ENGINE'], 'port': r['PORT'], 'options': r['OPTIONS'],"
    "'test': r['TEST'], 'max_age': r['CONN_MAX_AGE'], 'max_lag': s.YIWANG_REPLICA_MAX_LAG}))"
)


def _replica_settings(tmp_path, **env: str) -> dict | None:
    names = {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DB_PREPARED_STATEMENTS"}
    clean = {k: v for k, v in os.environ.items() if k not in names}
    clean.update({"YIWANG_DATA_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_settings_add_the_alias_from_the_environment(tmp_path):
    assert _replica_settings(tmp_path, DATABASE_URL="postgres://u@db.example:5432/yiwang") is None
    r = _replica_settings(
        tmp_path,
        DATABASE_URL="postgres://u@db.example:5432/yiwang",
        DATABASE_REPLICA_URL="postgres://ro@standby.example:5433/yiwang",
        YIWANG_REPLICA_MAX_LAG="2.5",
    )
    assert r is not None
    assert r["engine"] == "django.db.backends.postgresql" and r["port"] == 5433
    # The primary's options, a bounded connect, one test database.
    assert r["options"] == {"server_side_binding": True, "prepare_threshold": 5, "connect_timeout": 2}
    assert r["test"] == {"MIRROR": "default"} and r["max_age"] == 60 and r["max_lag"] == 2.5
    r = _replica_settings(
        tmp_path,
        DATABASE_URL="postgres://u@db.example:5432/yiwang",
        DATABASE_REPLICA_URL="postgres://ro@standby.example:5433/yiwang?connect_timeout=7",
    )
    assert r is not None and r["options"]["connect_timeout"] == 7
