"""Per-client rate limit for the public API.

``YIWANG_API_THROTTLE`` sets the rate ("1200/m", "50/s", "20000/h"); "0", "off" or "" turn
it off (benchmarks, tests, a deployment that limits at its reverse proxy). The variable is read
on each request so that it can be changed without re-importing the URL configuration. Counts
live in the rate-limit store every web process shares (core.ratelimit: a database table by
default, Redis where configured), one atomic increment per request in a fixed window.
"""

from __future__ import annotations

import contextvars
import os

from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle

from yiwang.core import security
from yiwang.core.middleware import client_ip

DEFAULT_RATE = "1200/m"
_OFF = {"", "0", "off", "false", "no", "none"}
# The wait of the request being refused: ninja asks ``wait()`` right after ``allow_request``, and
# one throttle object serves every request (and thread) of the process.
_wait: contextvars.ContextVar[int] = contextvars.ContextVar("yiwang_api_throttle_wait", default=0)


def configured_rate() -> str | None:
    value = os.environ.get("YIWANG_API_THROTTLE", DEFAULT_RATE).strip()
    return None if value.lower() in _OFF else value


class ConfigurableAnonRateThrottle(AnonRateThrottle):
    scope = "yiwang_api"

    def __init__(self) -> None:
        super().__init__(rate=DEFAULT_RATE)

    def get_ident(self, request: HttpRequest) -> str | None:
        # The same client address as the audit log: X-Forwarded-For only when YIWANG_TRUST_PROXY
        # says a proxy sets it, so a client cannot dodge the limit by sending its own header.
        return client_ip(request)

    def allow_request(self, request: HttpRequest) -> bool:
        rate = configured_rate()
        if rate is None:
            return True
        count, seconds = security.parse_rate(rate)
        wait = security.hit(f"api:{self.get_ident(request)}", count, seconds)
        _wait.set(wait)
        return wait == 0

    def wait(self) -> float | None:
        return float(_wait.get()) or None
