"""Per-client rate limit for the public API.

``YIWANG_API_THROTTLE`` sets the rate ("1200/m", "50/s", "20000/h"); "0", "off" or "" turn
it off (benchmarks, tests, a deployment that limits at its reverse proxy). The variable is read
on each request so that it can be changed without re-importing the URL configuration. Counts
live in the default cache: per process with the embedded locmem cache, shared with Redis.
"""

from __future__ import annotations

import os

from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle

from yiwang.core.middleware import client_ip

DEFAULT_RATE = "1200/m"
_OFF = {"", "0", "off", "false", "no", "none"}


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
        if rate != self.rate:
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request)
