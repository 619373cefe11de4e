"""Security headers and the content security policy on every kind of response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from yiwang.core.security import content_security_policy, hit, parse_rate

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "yiwang"


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in policy.split("; ")}


@pytest.mark.parametrize(
    "path", ["/", "/search/?q=户口", "/auth/login/", "/account/register/person/", "/api/docs"]
)
def test_html_pages_carry_every_header(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    h = response.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in h["Permissions-Policy"] and "geolocation=()" in h["Permissions-Policy"]
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    # The nonce changes on every response and is the one templates get.
    nonce = re.search(r"'nonce-([^']+)'", csp["script-src"]).group(1)
    assert nonce == response.wsgi_request.csp_nonce
    assert nonce not in client.get(path).headers["Content-Security-Policy"]


def test_json_responses_get_headers_but_no_csp(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_same_origin_frames_get_frame_ancestors_self(rf) -> None:
    from django.http import HttpResponse
    from django.views.decorators.clickjacking import xframe_options_sameorigin

    from yiwang.core.security import SecurityHeadersMiddleware

    @xframe_options_sameorigin
    def view(request):
        return HttpResponse("<p>pdf viewer</p>")

    from django.middleware.clickjacking import XFrameOptionsMiddleware

    response = SecurityHeadersMiddleware(XFrameOptionsMiddleware(view))(
        rf.get("/workbench/cases/1/materials/1/")
    )
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]


def test_inline_style_exception_is_scoped_to_the_listed_paths(settings) -> None:
    from yiwang.core import security

    settings.YIWANG_CSP_INLINE_STYLE_PATHS = [r"^/special/\d+/$"]
    security._inline_style_allowed.cache_clear()
    try:
        special = content_security_policy("n", "/special/7/", "'none'")
        assert "style-src 'self' 'unsafe-inline'" in special
        assert "script-src 'self' 'nonce-n'" in special  # scripts stay strict there too
        for path in ("/special/7/x", "/", "/admin/workflow/processdefinition/7/diagram/"):
            assert "'unsafe-inline'" not in content_security_policy("n", path, "'none'"), path
    finally:
        settings.YIWANG_CSP_INLINE_STYLE_PATHS = []
        security._inline_style_allowed.cache_clear()


def test_fixed_style_blocks_are_allowed_by_hash() -> None:
    from yiwang.core.security import inline_style_hashes

    assert len(inline_style_hashes()) == 2  # admin changelist, workflow diagram
    policy = content_security_policy("n", "/admin/core/auditentry/", "'none'")
    assert all(h in policy for h in inline_style_hashes())


def test_templates_have_no_inline_script_or_handler() -> None:
    """Inline code would be blocked by the CSP: every template's scripts come from files,
    or carry nonce="{{ csp_nonce }}", or are data (type="application/json", json_script)."""
    offenders = []
    for template in SRC.rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" in tag or "application/json" in tag or "csp_nonce" in tag:
                continue
            offenders.append(f"{template}: {tag}")
        for handler in re.findall(r"<[^>]*\s(on[a-z]+)\s*=", text):
            offenders.append(f"{template}: {handler}= handler")
        if "javascript:" in text:
            offenders.append(f"{template}: javascript: URL")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if "csp_nonce" not in tag and "diagram.html" not in str(template):  # hashed
                offenders.append(f"{template}: {tag}")
    assert offenders == []


def test_secure_cookies_and_hsts_when_switched_on(client: Client, settings) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/auth/login/", secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    assert "upgrade-insecure-requests" in response.headers["Content-Security-Policy"]


def test_session_cookie_is_http_only(settings) -> None:
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_parse_rate() -> None:
    assert parse_rate("10/m") == (10, 60)
    assert parse_rate("100/5m") == (100, 300)
    assert parse_rate("3/h") == (3, 3600)
    with pytest.raises(ValueError):
        parse_rate("3/week")


def test_fixed_window_counter() -> None:
    from django.core.cache import cache

    cache.clear()
    assert [hit("t", 2, 60, now=120.0) for _ in range(3)] == [0, 0, 60]
    assert hit("t", 2, 60, now=150.0) == 30
    assert hit("t", 2, 60, now=180.0) == 0  # next window
