"""gunicorn workers that answer a request gunicorn refuses itself with the platform's own page.

gunicorn parses the request line and headers before Django sees the request; a request line over
``limit_request_line`` (4,094 bytes by default), too many or too large headers, or a line that is
not HTTP are answered by gunicorn's built-in English page. These workers answer them with the
template Django uses for its own 400s (``400.html``, in the platform's default language), with
the headers every other page carries. Any other error is gunicorn's business as before.

``yiwang serve`` names them (``--worker-class``): ``SyncWorker`` with one thread per worker,
``ThreadWorker`` with several (gunicorn's own rule for ``--threads``).
"""

from __future__ import annotations

import functools
import secrets
import socket
import time
from http import HTTPStatus
from typing import Any

from gunicorn.http import errors as http_errors
from gunicorn.workers import gthread, sync

# What a client sent wrong, as gunicorn's own handle_error sorts them (its 400 and 431 answers).
CLIENT_ERRORS: tuple[type[Exception], ...] = (
    http_errors.InvalidRequestLine,
    http_errors.InvalidRequestMethod,
    http_errors.InvalidHTTPVersion,
    http_errors.InvalidHeader,
    http_errors.InvalidHeaderName,
    http_errors.LimitRequestLine,
    http_errors.LimitRequestHeaders,
    http_errors.ObsoleteFolding,
    http_errors.InvalidSchemeHeaders,
)

# What the client still sends after the answer is read and dropped before the socket is closed:
# closing it with unread data makes the kernel reset the connection, and the client may then
# lose the page. Bounded, so a client that keeps sending holds a worker for at most a second.
DRAIN_SECONDS = 1.0
DRAIN_IDLE_SECONDS = 0.2
DRAIN_BYTES = 256 * 1024


def status_for(exc: Exception) -> HTTPStatus:
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    return HTTPStatus.BAD_REQUEST


@functools.cache
def error_page() -> bytes:
    """``400.html`` in the platform's default language (the request was never read: no cookie
    or Accept-Language to go by). Rendered once per worker."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("400.html").encode("utf-8")


def error_response(status: HTTPStatus) -> bytes:
    from yiwang.core.security import PERMISSIONS_POLICY, content_security_policy

    body = error_page()
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Content-Security-Policy": content_security_policy(secrets.token_urlsafe(16), "/", "'none'"),
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + "\r\n").encode("latin-1") + body


def _drain(client: socket.socket) -> None:
    deadline = time.monotonic() + DRAIN_SECONDS
    left = DRAIN_BYTES
    try:
        client.shutdown(socket.SHUT_WR)
        client.settimeout(DRAIN_IDLE_SECONDS)
        while left > 0 and time.monotonic() < deadline:
            chunk = client.recv(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)
    except OSError:  # includes the idle timeout: nothing more is coming
        return


class PlatformErrorPages:
    """Mixin for a gunicorn worker class: its ``handle_error`` for what the client sent wrong."""

    log: Any

    def handle_error(self, req, client, addr, exc):  # noqa: ANN001  (gunicorn's signature)
        if not isinstance(exc, CLIENT_ERRORS):
            return super().handle_error(req, client, addr, exc)  # type: ignore[misc]
        status = status_for(exc)
        try:
            response = error_response(status)
        except Exception:
            # A broken template must not leave the client without an answer: gunicorn's own page.
            self.log.exception("Rendering the %s page failed", status.value)
            return super().handle_error(req, client, addr, exc)  # type: ignore[misc]
        ip = addr[0] if addr else ""
        self.log.warning("Invalid request from ip=%s: %s", ip, str(exc)[:200])
        try:
            client.sendall(response)
        except OSError:
            self.log.debug("Failed to send the error page.")
            return None
        _drain(client)
        return None


class SyncWorker(PlatformErrorPages, sync.SyncWorker):
    """gunicorn's sync worker answering refused requests with the platform's pages."""


class ThreadWorker(PlatformErrorPages, gthread.ThreadWorker):
    """gunicorn's threaded worker answering refused requests with the platform's pages."""
