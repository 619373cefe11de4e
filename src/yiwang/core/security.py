"""Web security: response headers, the content security policy and per-client rate limits.

``SecurityHeadersMiddleware`` puts a per-request nonce on ``request.csp_nonce`` (templates see it
as ``{{ csp_nonce }}`` through :func:`csp_context`) and sends, on every response:

- ``Content-Security-Policy`` on HTML pages: scripts only from this origin or with the nonce (no
  ``'unsafe-inline'``, no ``eval``); ``<script type="application/json">`` from ``json_script`` is
  data, never executed, so it needs no nonce. Styles likewise; the fixed ``<style>`` blocks of
  templates we do not own are allowed by their hash (``STYLE_BLOCK_TEMPLATES``), and
  ``YIWANG_CSP_INLINE_STYLE_PATHS`` can give a page 'unsafe-inline' styles (empty by default;
  docs/security.md).
- ``frame-ancestors`` derived from the view's X-Frame-Options (``DENY`` → ``'none'``,
  ``SAMEORIGIN`` → ``'self'``), so the workbench's same-origin material frames keep working.
- ``Permissions-Policy``, ``Cross-Origin-Opener-Policy`` and ``Cross-Origin-Resource-Policy``.
  Referrer-Policy, nosniff and HSTS come from Django's SecurityMiddleware (settings.py).

``RateLimitMiddleware`` limits registration, the search page and uploads per client address with
a fixed window counted in the store every process shares (core.ratelimit: a database table by
default, Redis where configured). Login has its own database-backed throttle with growing cool-offs
(identity/authentication.py) and the API its ninja throttle (api/throttling.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import ngettext

from . import ratelimit
from .middleware import client_ip

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "usb=()"
)


# Templates with a fixed inline <style> block that we do not edit here: Django admin's changelist
# (a model without actions) and the workflow diagram page (canvas size for bpmn-js).
STYLE_BLOCK_TEMPLATES = (
    ("django.contrib.admin", "templates/admin/change_list.html"),
    ("yiwang.workflow", "templates/admin/workflow/processdefinition/diagram.html"),
)


@lru_cache(maxsize=1)
def inline_style_hashes() -> tuple[str, ...]:
    """CSP hashes of those <style> blocks, read from the installed templates at start-up.

    Hashing the exact text allows those blocks and nothing else (no 'unsafe-inline'); when a
    template's block changes, its hash follows without a settings change.
    """
    import importlib

    hashes = []
    for package, relative in STYLE_BLOCK_TEMPLATES:
        try:
            root = Path(importlib.import_module(package).__file__).parent
            text = (root / relative).read_text(encoding="utf-8")
        except (ImportError, OSError):
            continue
        for body in re.findall(r"<style>(.*?)</style>", text, flags=re.S):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            hashes.append(f"'sha256-{digest}'")
    return tuple(hashes)


@lru_cache(maxsize=64)
def _inline_style_allowed(path: str) -> bool:
    return any(re.search(p, path) for p in getattr(settings, "YIWANG_CSP_INLINE_STYLE_PATHS", ()))


def _form_action() -> str:
    schemes = getattr(settings, "OAUTH2_PROVIDER", {}).get("ALLOWED_REDIRECT_URI_SCHEMES", ["http", "https"])
    return " ".join(["'self'", *(f"{s}:" for s in schemes if s in ("http", "https"))])


def content_security_policy(nonce: str, path: str, frame_ancestors: str) -> str:
    if _inline_style_allowed(path):
        # A nonce in style-src makes browsers ignore 'unsafe-inline'; these pages get only the latter.
        style = "'self' 'unsafe-inline'"
    else:
        style = " ".join(["'self'", f"'nonce-{nonce}'", *inline_style_hashes()])
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src {style}",
        # data: for the SVG icons inlined in Swagger UI's and the admin's stylesheets.
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        # The workbench shows uploaded materials (PDF, images) in a same-origin frame.
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        # The OIDC consent form's answer is a redirect to the client's registered URI, and
        # browsers apply form-action to that redirect: https: (plus http: where settings allow
        # plain-http loopback clients, i.e. never in production).
        f"form-action {_form_action()}",
        f"frame-ancestors {frame_ancestors}",
    ]
    if getattr(settings, "SECURE_SSL_REDIRECT", False) or getattr(settings, "SESSION_COOKIE_SECURE", False):
        directives.append("upgrade-insecure-requests")
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Security headers on every response; CSP on HTML. Place after XFrameOptionsMiddleware in
    the list (it runs before it on the way out, so it reads the final X-Frame-Options)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        response = self.get_response(request)
        headers = response.headers
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        content_type = headers.get("Content-Type", "")
        if "Content-Security-Policy" not in headers and content_type.startswith("text/html"):
            xfo = headers.get("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY")).upper()
            ancestors = "'self'" if xfo == "SAMEORIGIN" else "'none'"
            headers["Content-Security-Policy"] = content_security_policy(
                request.csp_nonce, request.path, ancestors
            )  # type: ignore[attr-defined]
        return response


def csp_context(request: HttpRequest) -> dict[str, str]:
    """``{{ csp_nonce }}`` for the rare inline ``<script nonce=...>`` or ``<style nonce=...>``."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


# --- rate limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRule:
    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    count: int
    seconds: int


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/m" → (10, 60); "100/5m" → (100, 300)."""
    count, _sep, period = rate.partition("/")
    match = re.fullmatch(r"(\d*)([smhd])", period.strip())
    if not match:
        raise ValueError(f"bad rate {rate!r}")
    return int(count), int(match.group(1) or 1) * _UNITS[match.group(2)]


@lru_cache(maxsize=1)
def _rules_for(config: tuple[tuple[str, str, str, str], ...]) -> tuple[RateRule, ...]:
    rules = []
    for name, methods, pattern, rate in config:
        if rate.strip().lower() in {"", "0", "off"}:
            continue
        count, seconds = parse_rate(rate)
        rules.append(
            RateRule(name, frozenset(methods.upper().split(",")), re.compile(pattern), count, seconds)
        )
    return tuple(rules)


def rate_rules() -> tuple[RateRule, ...]:
    return _rules_for(tuple(tuple(r) for r in getattr(settings, "YIWANG_RATE_LIMITS", ())))


# Part of every bucket's key; the same in every process (they must count in the same buckets),
# moved on only by tests.
_generation = 0


def reset_rate_limits() -> None:
    """Start every bucket afresh (tests: one process makes requests for many tests)."""
    global _generation
    _generation += 1


def _window(bucket: str, seconds: int, now: float) -> tuple[str, int, float]:
    window = int(now // seconds)
    return f"rl:{_generation}:{bucket}", window, float((window + 1) * seconds)


def hit(bucket: str, count: int, seconds: int, now: float | None = None) -> int:
    """Count one request in a fixed window; return 0 if allowed, else seconds until the window ends.

    Counted in the store every process shares (core.ratelimit: the database by default, Redis
    where configured), one atomic increment per request: with any number of processes, exactly
    ``count`` requests of a window are allowed.
    """
    now = time.time() if now is None else now
    key, window, ends = _window(bucket, seconds, now)
    if ratelimit.count_hit(key, window, ends) <= count:
        return 0
    return max(1, int(ends - now))


def spent(bucket: str, count: int, seconds: int, now: float | None = None) -> int:
    """Like :func:`hit` without counting: seconds to wait if the window is already used up."""
    now = time.time() if now is None else now
    key, window, ends = _window(bucket, seconds, now)
    if ratelimit.hits(key, window) < count:
        return 0
    return max(1, int(ends - now))


def _matches(rule: RateRule, request: HttpRequest) -> bool:
    if not rule.pattern.search(request.path):
        return False
    if "UPLOAD" in rule.methods:
        return request.method == "POST" and request.content_type == "multipart/form-data"
    return request.method in rule.methods


def _bucket(rule: RateRule, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    who = f"u{user.pk}" if user is not None and user.is_authenticated else f"ip{client_ip(request)}"
    return f"{rule.name}:{who}"


class RateLimitMiddleware:
    """Refuse with 429 (and Retry-After) when a client passes a rule in ``YIWANG_RATE_LIMITS``.

    Rules match a method and a path, so the limited views need no decorator and stay with their
    owners. The key is the client address (``client_ip``: X-Forwarded-For only behind
    YIWANG_TRUST_PROXY) plus the user id when logged in, so one service hall's shared address
    is not one bucket for every signed-in clerk.

    "UPLOAD" rules count a multipart POST only once the view has parsed files out of it (every
    upload, wherever it is posted: materials, corrections, counter entry, spreadsheet import),
    and refuse the next one when the window is used up. The middleware never parses the body
    itself, so views that read ``request.body`` are unaffected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        uploads = []
        for rule in rate_rules():
            if not _matches(rule, request):
                continue
            bucket = _bucket(rule, request)
            if "UPLOAD" in rule.methods:
                if wait := spent(bucket, rule.count, rule.seconds):
                    return too_many_requests(request, wait)
                uploads.append((rule, bucket))
            elif wait := hit(bucket, rule.count, rule.seconds):
                return too_many_requests(request, wait)
        response = self.get_response(request)
        files = getattr(request, "_files", None)  # set only if the view read request.FILES
        if uploads and files:
            for rule, bucket in uploads:
                hit(bucket, rule.count, rule.seconds)
        return response


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    message = ngettext("操作过于频繁，请 %(n)s 秒后再试。", "操作过于频繁，请 %(n)s 秒后再试。", wait) % {
        "n": wait
    }
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        from django.http import JsonResponse

        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        html = render_to_string("core/429.html", {"message": message}, request=request)
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(wait)
    return response
