"""CSRF on every form: a POST without a token is refused with 403 on every URL outside the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Endpoints that authenticate the caller by client credentials or a bearer token, never by a
# cookie, so a forged cross-site request carries no authority: CSRF does not apply (RFC 6749).
CSRF_EXEMPT = {
    "/o/token/",
    "/o/revoke_token/",
    "/o/introspect/",
    "/o/userinfo/",
    "/o/logout/",  # RP-initiated logout: GET/POST by spec, guarded by id_token_hint
    # Authorization requests come by GET or POST (OIDC Core §3.1.2.1); only the consent form's
    # POST is CSRF-checked (tests/identity/oidc/test_spec_conformance.py).
    "/o/authorize/",
    "/o/backchannel-logout/",
    # The CKAN Action API of open data: read-only public data, no cookie authority; CKAN
    # clients POST JSON without a token (supervision/opendata).
    "/opendata/api/3/action/x",
    "/opendata/api/action/x",
}


def _walk(resolvers, prefix: str = ""):
    for p in resolvers:
        regex = str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + regex)
        elif isinstance(p, URLPattern):
            yield prefix + regex, p


def _example_url(route: str) -> str:
    """A concrete URL for a route: path converters and the admin's regex groups filled in."""
    url = re.sub(r"<id:[^>]+>", "1", route)
    url = re.sub(r"<(?:str:|slug:)?[^>]+>", "x", url)
    url = re.sub(r"<path:[^>]+>", "x", url)
    url = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", url)
    url = url.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + url.lstrip("/")


def all_routes() -> list[str]:
    urls = set()
    for route, _pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/") or "(?P<" in route and "static" in route:
            continue
        url = _example_url(route)
        if "(" in url or "[" in url or "*" in url:
            continue
        urls.add(url)
    return sorted(urls)


def test_the_walk_sees_the_forms() -> None:
    urls = all_routes()
    for expected in ("/auth/login/", "/account/register/person/", "/preferences/region/", "/i18n/setlang/"):
        assert expected in urls
    assert any(u.startswith("/workbench/cases/1/act/") for u in urls)
    assert any(u.startswith("/admin/") for u in urls)
    assert len(urls) > 40


def test_post_without_token_is_refused_everywhere() -> None:
    client = Client(enforce_csrf_checks=True)
    not_refused: dict[str, int] = {}
    refused = 0
    for url in all_routes():
        if url in CSRF_EXEMPT:
            continue
        response = client.post(url, "x=1", content_type="application/x-www-form-urlencoded")
        # 403 from CsrfViewMiddleware; a 404/405 means no view accepts the POST at all.
        if response.status_code not in (403, 404, 405):
            not_refused[url] = response.status_code
        elif response.status_code == 403:
            refused += 1
    assert not_refused == {}
    assert refused > 40  # the forms were reached, not merely missing


def test_post_with_token_passes_csrf() -> None:
    """The check above must be able to fail: with the token the same POST gets through."""
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/preferences/large-text/", {"large_text": "1", "csrfmiddlewaretoken": token, "next": "/"}
    )
    assert response.status_code == 302
