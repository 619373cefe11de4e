"""core.dbcheck: a kept connection the server has closed is dropped before the next request uses
it, without a ``SELECT 1`` per request. The PostgreSQL tests end the request's backend for real
(``pg_terminate_backend``, what a restart or a failover does to every connection)."""

from __future__ import annotations

import socket
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.core import dbcheck


class _Raw:
    """A DB-API connection as far as ``server_has_closed`` looks at one."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock

    def fileno(self) -> int:
        if self.sock is None:
            raise OSError("the connection is lost")
        return self.sock.fileno()


def test_an_idle_socket_is_open_and_one_with_something_to_read_is_closed():
    ours, server = socket.socketpair()
    with ours, server:
        assert not dbcheck.server_has_closed(_Raw(ours))
        server.sendall(b"E")  # PostgreSQL's "terminating connection" notice
        assert dbcheck.server_has_closed(_Raw(ours))
    other, server = socket.socketpair()
    with other:
        server.close()  # the server's end closed without a word
        assert dbcheck.server_has_closed(_Raw(other))
    assert dbcheck.server_has_closed(_Raw(None))  # the driver already knows


def test_no_round_trip_per_request_by_default():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False


pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backends only")


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    """End the backend from another connection and wait until its socket says so."""
    other = connection.copy("terminator")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while not dbcheck.server_has_closed(connection.connection):
        assert time.monotonic() < deadline, "the terminated backend's socket never became readable"
        time.sleep(0.01)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_the_request_after_the_backend_ended_opens_a_new_connection_and_succeeds():
    client = Client(raise_request_exception=False)
    assert client.get("/api/regions/").status_code == 200
    pid = _backend_pid()
    _terminate(pid)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/regions/").status_code == 200  # not a 503: no request fails
    assert not any("SELECT 1" in q["sql"] for q in queries.captured_queries)
    assert _backend_pid() != pid


@pg_only
@pytest.mark.django_db(transaction=True)
def test_without_the_check_the_first_request_fails_cleanly_and_the_next_reconnects(monkeypatch):
    """What the check saves: one 503 per process after a restart (Django then closes the failed
    connection at the end of that request)."""
    client = Client(raise_request_exception=False)
    assert client.get("/api/regions/").status_code == 200
    _terminate(_backend_pid())
    monkeypatch.setattr("yiwang.core.outage.drop_closed_connections", lambda: None)
    assert client.get("/api/regions/").status_code == 503
    connection.close_if_unusable_or_obsolete()  # what request_finished does outside the test client
    assert client.get("/api/regions/").status_code == 200
