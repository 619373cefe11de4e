"""/api/account/: bearer tokens from the provider, "account" scope required, masked answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.identity.models import Company, Mandate

from .helpers import login, make_client, make_person, sign_in

pytestmark = pytest.mark.django_db


def _token(client: Client, scope: str, **kw) -> str:
    app = make_client(skip_authorization=True, **kw)
    return sign_in(client, app, scope)["access_token"]


def test_me_returns_masked_own_data_with_companies_and_mandates(client: Client) -> None:
    user = make_person()
    boss = make_person("boss", "王五", "110105194912310045")
    company = Company.objects.create(
        name="福州示例科技有限公司", credit_code="91350100MA2XXXXX1X", legal_representative=boss.person
    )
    Mandate.objects.create(
        company=company,
        agent=user.person,
        all_items=True,
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=3),
        granted_by=boss.person,
    )
    login(client, user)
    token = _token(client, "openid account")
    response = Client().get("/api/account/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["name"] == "张三"
    assert data["id_number_masked"] == "1****************X"
    assert data["phone_masked"] == "138****8000"
    assert data["assurance_level"] == 2
    assert data["companies"][0]["credit_code"] == "91350100MA2XXXXX1X"
    assert data["companies"][0]["role"] == "agent"
    assert data["mandates_received"][0]["status"] == "active"
    body = response.content.decode()
    assert "11010519491231002X" not in body and "13800138000" not in body
    entry = AuditEntry.objects.filter(action="api.account.read").latest("seq")
    assert entry.detail["client_id"] == "city-fz"


def test_sessions_lists_own_live_sessions(client: Client) -> None:
    user = make_person()
    account_session = login(client, user)
    token = _token(client, "openid account")
    data = Client().get("/api/account/sessions", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [s["id"] for s in data] == [account_session.pk]
    assert data[0]["acr"] == 2


def test_missing_or_bad_token_is_401_in_chinese(client: Client) -> None:
    response = Client().get("/api/account/me")
    assert response.status_code == 401
    assert "访问令牌" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/api/account/me", HTTP_AUTHORIZATION="Bearer forged").status_code == 401


def test_token_without_account_scope_is_403(client: Client) -> None:
    login(client, make_person())
    token = _token(client, "openid profile")
    response = Client().get("/api/account/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert "account" in response.json()["detail"]


def test_client_not_allowed_account_scope_cannot_get_it(client: Client) -> None:
    login(client, make_person())
    app = make_client("city-xm", scopes="openid profile", skip_authorization=True, name="厦门市")
    from .helpers import authorize_url, pkce, query_of

    response = client.get(authorize_url(app, pkce(), "openid account"))
    assert query_of(response["Location"])["error"] == "invalid_scope"
