"""Kept database connections the server has closed are dropped before a request or a job uses them.

A web or job process keeps its database connection between requests (``DB_CONN_MAX_AGE``). When
PostgreSQL restarts, fails over or ends a backend (``pg_terminate_backend``), the kept connection
is dead, and the first query on it would fail. Django's ``CONN_HEALTH_CHECKS`` finds that out with
a ``SELECT 1`` round trip at the start of every request; this looks at the connection's socket
instead, which costs no round trip: between requests a connection is idle and the server sends it
nothing, so a socket with something to read means the server has said goodbye (the
"terminating connection" notice) or closed its end. Such a connection is closed here, and the
request's first query opens a new one.

What this cannot see is a connection lost without the server closing it (a machine gone, a
firewall dropping the flow): the first query then fails, the request answers 503
(``core.outage``), and Django closes the failed connection at the end of that request.
``DB_CONN_HEALTH_CHECKS=1`` adds Django's round trip for networks where that is common.

Called by ``core.outage.DatabaseOutageMiddleware`` before every request and by Celery's
``task_prerun`` before every job (``yiwang/celery.py``).
"""

from __future__ import annotations

import select

from django.db import connections


def server_has_closed(raw_connection: object) -> bool:
    """Whether the server has closed (or is closing) this idle DB-API connection: its socket has
    something to read, or the driver no longer has a socket for it."""
    try:
        fileno = raw_connection.fileno()  # type: ignore[attr-defined]
        readable, _, _ = select.select([fileno], [], [], 0)
    except Exception:  # the driver knows the connection is gone (psycopg raises on a lost one)
        return True
    return bool(readable)


def drop_closed_connections() -> None:
    """Close every kept connection of this thread whose server has closed it. Connections in a
    transaction are left alone (a request or job does not start inside one), and so are
    databases without a socket (SQLite: a file does not go away under a connection)."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or connection.in_atomic_block or not hasattr(raw, "fileno"):
            continue
        if server_has_closed(raw):
            connection.close()
