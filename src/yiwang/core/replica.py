"""Reads from a PostgreSQL streaming replica, for the selectors that tolerate lag.

With ``DATABASE_REPLICA_URL`` set, settings add the database alias ``replica`` (a hot standby of
the primary). Nothing is routed there by default: a selector opts in by building its queryset
with :func:`on_replica` (or by choosing :func:`read_alias` itself), and only the reads that may
be a few seconds behind do so, i.e. dashboards, figures and open data (docs/supervision.md,
"Reads from a replica"). Writes, reads inside a service's transaction, and every page that must
show what its own request (or the request before it) just wrote stay on ``default``.

Contract of :func:`read_alias`:

- ``"default"`` when no replica is configured;
- ``"default"`` inside a transaction on the primary: those reads must see its writes;
- ``"default"`` while the replica is unreachable (a warning is logged) or lags by more than
  ``YIWANG_REPLICA_MAX_LAG`` seconds (a warning is logged); a page then reads the primary, it
  never fails because of the replica;
- ``"replica"`` otherwise.

Each process keeps its last verdict on the replica for ``YIWANG_REPLICA_CHECK_SECONDS``, so the
lag query runs at most once per that period and a replica that went away is not tried by every
request. A replica kept connected from an earlier request is reused; one that the server has
closed was already dropped by ``core.dbcheck`` before the request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.utils import DatabaseError, InterfaceError, OperationalError

log = logging.getLogger("yiwang.replica")

REPLICA = "replica"
PRIMARY = DEFAULT_DB_ALIAS

M = TypeVar("M", bound=Model)
T = TypeVar("T")

# The replica's lag in seconds: zero when everything it has received is replayed (an idle primary
# sends nothing, and the last replayed transaction's age is then no lag), else the age of the
# last replayed transaction, which may overstate the lag (never understate it). NULL when
# nothing was replayed yet while WAL waits: treated as too far behind. A server that is not in
# recovery (a promoted standby, or the primary itself) has no lag.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))
END
"""


class _Verdict:
    """One process's last look at the replica, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.use_replica = False
        self.until = 0.0  # monotonic time until which the verdict holds


_verdict = _Verdict()


def configured() -> bool:
    """A replica alias that names another database than the primary. One naming the primary's
    own database (``DATABASE_REPLICA_URL`` equal to ``DATABASE_URL``, or the test mirror, which
    points the alias at the test database of ``default``) is read as ``default``: the same
    rows, without a second connection."""
    if REPLICA not in settings.DATABASES:
        return False
    return names_another_database(connections[REPLICA].settings_dict, connections[PRIMARY].settings_dict)


def names_another_database(replica: Mapping[str, Any], primary: Mapping[str, Any]) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return any(str(replica.get(k) or "") != str(primary.get(k) or "") for k in keys)


def forget() -> None:
    """Drop this process's verdict: the next :func:`read_alias` looks at the replica again."""
    with _verdict.lock:
        _verdict.until = 0.0


def replica_lag() -> float | None:
    """The replica's lag in seconds (``LAG_SQL``), 0 on a database other than PostgreSQL, None
    when unknown. Raises the driver's error when the replica does not answer."""
    connection = connections[REPLICA]
    if connection.vendor != "postgresql":
        connection.ensure_connection()
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute(LAG_SQL)
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _look() -> bool:
    """Is the replica fit to read now? Logs a warning when it is not."""
    try:
        lag = replica_lag()
    except DatabaseError as exc:
        _drop_replica_connection()
        log.warning("replica unreachable, reading the primary: %s", _first_line(exc))
        return False
    limit = float(settings.YIWANG_REPLICA_MAX_LAG)
    if limit > 0 and (lag is None or lag > limit):
        log.warning(
            "replica lags %s s (limit %s s), reading the primary",
            "unknown" if lag is None else f"{lag:.1f}",
            limit,
        )
        return False
    return True


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _mark(fit: bool) -> None:
    with _verdict.lock:
        _verdict.use_replica = fit
        _verdict.until = time.monotonic() + float(settings.YIWANG_REPLICA_CHECK_SECONDS)


def _connected() -> bool:
    """The replica's connection is open, or opens now; a failure is logged and marked."""
    connection = connections[REPLICA]
    if connection.connection is not None:
        return True
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        _drop_replica_connection()
        _mark(False)
        log.warning("replica unreachable, reading the primary: %s", _first_line(exc))
        return False
    return True


def _drop_replica_connection() -> None:
    # A connection that cannot even close is gone; Django makes a new one next time.
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


def read_alias() -> str:
    """The alias a lag-tolerant read uses now: ``"replica"`` or ``"default"`` (module docstring)."""
    if not configured() or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    with _verdict.lock:
        known, fit = time.monotonic() < _verdict.until, _verdict.use_replica
    if known:
        # Within the period only a connection is made when none is kept (no lag query), so a
        # replica gone since the last look is noticed before the read, not during it.
        return REPLICA if fit and _connected() else PRIMARY
    fit = _look()
    _mark(fit)
    return REPLICA if fit else PRIMARY


def on_replica(queryset: QuerySet[M]) -> QuerySet[M]:
    """``queryset`` on the alias of :func:`read_alias`: the way a lag-tolerant selector (or the
    caller of a selector that returns a queryset) reads from the replica."""
    return queryset.using(read_alias())


def read(run: Callable[[str], T]) -> T:
    """``run(alias)`` on the replica when fit, again on the primary if the replica fails during
    it (it went away since the last look, or cancelled the query on a recovery conflict). For
    reads evaluated at once (a figure, a page's rows), not for rows streamed to a client."""
    alias = read_alias()
    if alias == PRIMARY:
        return run(PRIMARY)
    try:
        return run(alias)
    except (OperationalError, InterfaceError) as exc:
        _drop_replica_connection()
        _mark(False)
        log.warning("replica failed during a read, reading the primary: %s", _first_line(exc))
        return run(PRIMARY)
