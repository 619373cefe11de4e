"""identity.backends: the session store and the user backend every signed-in request goes
through behave as Django's (they are Django's, under the path stored in earlier sessions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from yiwang.identity.backends import ModelBackend, SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_loads_and_an_unknown_key_is_an_empty_session():
    store = SessionStore()
    store["k"] = "值"
    store.save()
    assert SessionStore(store.session_key).load() == {"k": "值"}
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_an_expired_session_is_an_empty_session():
    store = SessionStore()
    store["k"] = 1
    store.save()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    again = SessionStore(store.session_key)
    assert again.load() == {} and again.session_key is None


def test_get_user_reads_the_user_and_refuses_an_inactive_one():
    user = get_user_model().objects.create_user("backend_user", password="Long-enough-2026")
    assert ModelBackend().get_user(user.pk) == user
    assert ModelBackend().get_user(user.pk + 1000) is None
    user.is_active = False
    user.save()
    assert ModelBackend().get_user(user.pk) is None


def test_a_signed_in_page_goes_through_both(client: Client, settings):
    settings.SESSION_ENGINE = "yiwang.identity.backends"
    assert settings.AUTHENTICATION_BACKENDS == ["yiwang.identity.backends.ModelBackend"]
    user = get_user_model().objects.create_user("backend_page", password="Long-enough-2026")
    resp = client.post("/auth/login/", {"login": "backend_page", "password": "Long-enough-2026"})
    assert resp.status_code == 302
    assert client.session["_auth_user_backend"] == "yiwang.identity.backends.ModelBackend"
    assert resp.wsgi_request.user == user
    # The next request finds the user through the session row.
    page = client.get("/auth/sessions/")
    assert page.status_code == 200 and page.wsgi_request.user == user


def test_sessions_are_cached_where_redis_is_and_in_the_database_otherwise():
    if django_settings.REDIS_URL:
        assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    else:
        assert django_settings.SESSION_ENGINE == "yiwang.identity.backends"
