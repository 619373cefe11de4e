"""A NUL character in a URL is refused before any view or query (core.middleware.NulCharacterMiddleware):
PostgreSQL refuses text holding one, which was a server error for /api/standard-items/?theme=%00."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/items/?department=%00", "/search/?q=%E7%A4%BE%00%E4%BF%9D", "/items/?a%00b=1", "/items%00/"]
)
def test_pages_answer_the_platform_400_page(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert "含有不允许的控制字符" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_api_answers_422_naming_the_parameter(client: Client) -> None:
    response = client.get("/api/standard-items/?page=1&theme=%00", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "theme" and body["errors"][0]["type"] == "nul_character"
    assert "theme" in body["detail"] and "NUL" in body["detail"]


def test_english_api_client_reads_english(client: Client) -> None:
    response = client.get("/api/items/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "not allowed" in response.json()["detail"]


def test_a_query_without_nul_is_untouched(client: Client) -> None:
    assert client.get("/api/standard-items/?page=1").status_code == 200
