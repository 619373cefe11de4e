"""The platform's own error pages: Django's 400, 403 and 500 answers render the platform's
Chinese templates, and so does a real ``yiwang serve`` (gunicorn) for the requests it refuses
before Django sees them (a request line over 4,094 bytes, headers too large, a line that is not
HTTP): the same ``400.html`` page, not gunicorn's raw English one (core/workers.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.views import defaults

from yiwang.core.outage import server_error

ROOT = Path(__file__).resolve().parents[2]


# --- Django's own error answers ------------------------------------------------------------------------


def test_a_bad_request_answered_by_django_is_the_platform_page(client: Client) -> None:
    response = client.get("/", HTTP_HOST="bad host name")  # DisallowedHost: Django's 400
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode()
    assert "请求有误" in text and "一网通办政务服务平台" in text
    assert "Bad Request" not in text


def test_server_error_and_permission_denied_are_the_platform_pages(rf: RequestFactory) -> None:
    request = rf.get("/somewhere/")
    error = server_error(request)
    assert error.status_code == 500
    assert "系统出错" in error.content.decode() and "Server Error" not in error.content.decode()
    denied = defaults.permission_denied(request, PermissionDenied())
    assert denied.status_code == 403
    assert "无权访问" in denied.content.decode() and "Forbidden" not in denied.content.decode()


def test_error_pages_follow_the_language(client: Client) -> None:
    client.cookies["django_language"] = "en"
    response = client.get("/", HTTP_HOST="bad host name")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


# --- gunicorn, for real --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 180) -> None:
    """Until a worker answers: the master listens before its workers have loaded Django, which
    takes a while on a busy machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"yiwang serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
                s.sendall(b"GET /hello/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("yiwang serve did not start")


@pytest.fixture(scope="module", params=[1, 2], ids=["sync-worker", "threaded-worker"])
def served(request) -> Iterator[int]:
    """``yiwang serve`` on a free port of 127.0.0.1, one worker, 1 or 2 threads."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "yiwang", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "1", "--threads", str(request.param)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as one request and read the whole answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def _django_400_page(client: Client) -> bytes:
    return client.get("/", HTTP_HOST="bad host name").content


@pytest.mark.parametrize("length", [5_000, 9_000])
def test_a_long_request_line_gets_the_platform_400_page(served: int, client: Client, length: int) -> None:
    path = "/items/?q=" + "a" * length
    status, headers, body = _raw(served, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 400
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    text = body.decode("utf-8")
    assert "请求有误" in text and "Bad Request" not in text
    assert body == _django_400_page(client)  # the very page Django serves for its own 400s
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_headers_too_large_and_a_line_that_is_not_http_get_the_page_too(served: int) -> None:
    status, headers, body = _raw(
        served, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9_000 + b"\r\n\r\n"
    )
    assert status == 431
    assert "请求有误" in body.decode()
    status, headers, body = _raw(served, b"\x16\x03\x01 not http at all\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "请求有误" in body.decode()


def test_an_ordinary_request_still_reaches_django(served: int) -> None:
    status, headers, body = _raw(
        served, b"GET /hello/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 200
