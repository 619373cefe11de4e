"""Back office registration of relying parties and the demo command."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from oauth2_provider.models import get_application_model

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.identity.models import ClientSettings

pytestmark = pytest.mark.django_db
Application = get_application_model()


def test_register_city_portal_is_idempotent() -> None:
    call_command("register_city_portal", "--base-url", "http://127.0.0.1:8123")
    call_command("register_city_portal", "--base-url", "http://127.0.0.1:8124")
    app = Application.objects.get(client_id="city-portal-fuzhou")
    assert app.redirect_uris == "http://127.0.0.1:8124/callback"
    assert app.algorithm == "RS256"
    cs = ClientSettings.objects.get(application=app)
    assert cs.backchannel_logout_uri == "http://127.0.0.1:8124/backchannel-logout"
    assert "openid" in cs.allowed_scopes.split()


def test_admin_application_page_has_client_settings_inline(client, settings) -> None:
    call_command("register_city_portal")
    admin = get_user_model().objects.create_superuser("root", password="Correct-Horse-9!")
    login_with_second_factor(client, admin)  # administrators work in a two-factor session
    app = Application.objects.get(client_id="city-portal-fuzhou")
    response = client.get(f"/admin/identity/oauthclient/{app.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "后端登出地址" in body and "最低认证等级" in body and "允许的权限范围" in body


def test_client_secret_stored_hashed_and_short_secrets_refused() -> None:
    from yiwang.identity.oidc.registration import register_client

    call_command("register_city_portal", "--client-secret", "s" * 40)
    app = Application.objects.get(client_id="city-portal-fuzhou")
    assert app.client_secret.startswith("client_pbkdf2_sha256$")
    assert "s" * 40 not in app.client_secret
    with pytest.raises(ValueError):
        register_client(
            client_id="weak",
            client_secret="short",
            name="x",
            redirect_uris=["http://x.test/cb"],
            post_logout_redirect_uris=[],
        )
