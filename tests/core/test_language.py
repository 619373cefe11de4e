from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_speak_simplified_chinese_whatever_the_browser_says(client):
    resp = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert resp["Content-Language"] == "zh-hans"


def test_chosen_language_sticks(client):
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert resp.status_code == 302
    resp = client.get("/")
    assert resp["Content-Language"] == "en"


def test_unknown_cookie_value_falls_back_to_chinese(client):
    client.cookies["django_language"] = "xx"
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_api_follows_accept_language(client):
    resp = client.get("/api/health", HTTP_ACCEPT_LANGUAGE="en")
    assert resp["Content-Language"] == "en"
