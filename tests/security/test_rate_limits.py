"""Rate limits on registration, the search page and uploads (core/security.py); login has its own
throttle with cool-offs (tests/identity), the API its per-client throttle (tests/api)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client

from yiwang.core.security import RateLimitMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings):
    settings.YIWANG_RATE_LIMITS = [
        ("register", "POST", r"^/account/register/", "2/h"),
        ("search", "GET", r"^/search/$", "3/m"),
        ("upload", "UPLOAD", r"^/", "2/m"),
    ]


def test_search_page_is_limited_per_client(tight) -> None:
    client = Client(REMOTE_ADDR="10.1.1.1")
    assert [client.get("/search/", {"q": "户口"}).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/search/", {"q": "户口"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "操作过于频繁" in refused.content.decode()
    # Another address has its own bucket; other pages are not limited.
    assert Client(REMOTE_ADDR="10.1.1.2").get("/search/", {"q": "户口"}).status_code == 200
    assert client.get("/").status_code == 200


def test_forwarded_for_counts_only_behind_a_trusted_proxy(tight, settings) -> None:
    spoofer = Client(REMOTE_ADDR="10.1.1.3")
    for i in range(3):
        spoofer.get("/search/", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert spoofer.get("/search/", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    settings.YIWANG_TRUST_PROXY = True
    proxy = Client(REMOTE_ADDR="10.0.0.254")
    assert all(
        proxy.get("/search/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code == 200 for i in range(6)
    )


def test_registration_is_limited(tight) -> None:
    client = Client(REMOTE_ADDR="10.1.1.4")
    codes = [client.post("/account/register/person/", {"username": f"u{i}"}).status_code for i in range(3)]
    assert codes[:2] == [200, 200]  # the form comes back with its errors
    assert codes[2] == 429


def _upload_view(request):
    return HttpResponse(f"{len(request.FILES)} files")


def _no_file_view(request):
    return HttpResponse(request.POST.get("a", ""))


def test_uploads_are_limited_and_plain_posts_are_not(tight, rf) -> None:
    upload = RateLimitMiddleware(_upload_view)
    plain = RateLimitMiddleware(_no_file_view)

    def post(view, with_file: bool):
        data = {"a": "1"}
        if with_file:
            data["f"] = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n", content_type="application/pdf")
        request = rf.post("/apply/d/1/materials/", data, REMOTE_ADDR="10.1.1.5")
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
        return view(request).status_code

    assert [post(plain, False) for _ in range(5)] == [200] * 5  # multipart forms without files
    assert [post(upload, True) for _ in range(3)] == [200, 200, 429]
    assert post(plain, False) == 429  # the window is used up for this client's multipart posts


def test_json_clients_get_json(tight) -> None:
    client = Client(REMOTE_ADDR="10.1.1.6")
    for _ in range(3):
        client.get("/search/")
    refused = client.get("/search/", HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and "detail" in refused.json()
