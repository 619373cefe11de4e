"""The back office speaks Chinese: every section, model name and column header of /admin/.

A superuser (who sees every registered model) walks the index, every app index and every
model's changelist; any section, model or column header (and list filter title) made only of
ASCII letters is reported, except the proper nouns allowed below.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.identity.auth.helpers import login_with_second_factor

pytestmark = pytest.mark.django_db

# Proper nouns and codes that stay as they are in a Chinese interface.
ALLOWED = {"ID", "OAuth", "OIDC", "BPMN", "URL", "IP", "JSON", "API", "TOTP", "PKCE"}

_ASCII_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9 _./'-]*")


def _english(text: str) -> bool:
    """True when a label holds no CJK character and is not an allowed proper noun."""
    text = str(text).strip()
    if not text or any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return False
    words = [w for w in re.split(r"[\s/()（）·:-]+", text) if w]
    return not all(w in ALLOWED or not _ASCII_WORDS.fullmatch(w) for w in words)


@pytest.fixture
def root(client):
    user = get_user_model().objects.create_superuser("root", password="pw-123456789")
    login_with_second_factor(client, user)
    return user


def test_every_section_model_and_column_is_chinese(client, root):
    bad: list[str] = []
    resp = client.get(reverse("admin:index"))
    assert resp.status_code == 200
    apps = resp.context["app_list"]
    assert apps, "the superuser sees no section"
    for app in apps:
        if _english(app["name"]):
            bad.append(f"section {app['app_label']}: {app['name']!r}")
        app_resp = client.get(app["app_url"])
        assert app_resp.status_code == 200, app["app_url"]
        for model in app["models"]:
            if _english(model["name"]):
                bad.append(f"model {app['app_label']}.{model['object_name']}: {model['name']!r}")
    for model in admin.site._registry:
        opts = model._meta
        for name in (opts.verbose_name, opts.verbose_name_plural):
            if _english(name):
                bad.append(f"model name {opts.label}: {name!r}")
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        cl = resp.context["cl"]
        for header in result_headers(cl):
            text = header["text"]
            if header.get("class_attrib", "").find("action-checkbox-column") >= 0:
                continue
            if _english(text):
                bad.append(f"column {opts.label}: {text!r}")
        for spec in cl.filter_specs:
            if _english(spec.title):
                bad.append(f"filter {opts.label}: {spec.title!r}")
    assert not bad, "English left in the back office:\n" + "\n".join(bad)


def test_the_check_itself_catches_english():
    assert _english("Applications") and _english("Client type") and _english("user")
    assert not _english("ID") and not _english("OAuth 应用") and not _english("事项")


def test_token_revocation_action_speaks_chinese(client, root):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application, RefreshToken

    app = Application.objects.create(
        name="福州市网上办事大厅",
        client_id="city-fz",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://rp.test/callback",
    )
    token = AccessToken.objects.create(
        user=root,
        application=app,
        token="a" * 40,
        expires=timezone.now() + timedelta(hours=1),
        scope="openid",
    )
    refresh = RefreshToken.objects.create(user=root, application=app, token="r" * 40, access_token=token)
    resp = client.post(
        reverse("admin:identity_oauthaccesstoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "已吊销 1 个访问令牌。" in resp.content.decode()
    assert not AccessToken.objects.filter(pk=token.pk).exists()
    refresh.refresh_from_db()
    assert refresh.revoked is not None
