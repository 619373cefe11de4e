"""Tracked sessions: start, idle and absolute timeouts, last-seen writes, logout, log out
everywhere, the sessions page. Each test runs with both session stores of settings.py: the
database store (no Redis) and Django's cached_db store (with Redis; here with whichever cache the
run has), so a session ended anywhere is gone from the cache too."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.identity import sessions
from yiwang.identity.models import AccountSession

pytestmark = pytest.mark.django_db

PAGE = "/auth/sessions/"


@pytest.fixture(
    autouse=True, params=["yiwang.identity.backends", "django.contrib.sessions.backends.cached_db"]
)
def session_engine(request, settings) -> str:
    settings.SESSION_ENGINE = request.param
    return request.param


def log_in(client: Client, password: str, login: str = "zhangsan", **extra) -> AccountSession:
    resp = client.post(reverse("auth:login"), {"login": login, "password": password}, **extra)
    assert resp.status_code == 302, resp.content.decode()
    return AccountSession.objects.get(sid=client.session[sessions.SID])


def shift_session(client: Client, **seconds_back: int) -> None:
    """Move the session's clocks into the past (instead of sleeping)."""
    session = client.session
    for key, back in seconds_back.items():
        session[getattr(sessions, key)] = int(session[getattr(sessions, key)]) - back
    session.save()


def test_login_starts_a_tracked_session(client, user, password):
    account_session = log_in(client, password, HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1")
    s = client.session
    assert s[sessions.ACR] == 1 and s[sessions.AMR] == ["pwd"] and s[sessions.AUTH_TIME] > 0
    assert account_session.user == user and account_session.session_key == s.session_key
    assert len(account_session.sid) >= 40 and account_session.ended_at is None
    assert AuditEntry.objects.filter(action="identity.session.started", object_id=str(user.pk)).exists()


def test_idle_timeout_ends_the_session(client, user, password):
    account_session = log_in(client, password)
    assert client.get(PAGE).status_code == 200
    shift_session(client, SEEN=31 * 60)
    resp = client.get(PAGE)
    assert resp.status_code == 302 and resp["Location"].startswith("/auth/login/?")
    assert "timeout=idle_timeout" in resp["Location"]
    account_session.refresh_from_db()
    assert account_session.ended_at is not None and account_session.end_reason == "idle_timeout"
    assert AuditEntry.objects.filter(action="identity.session.ended", detail__reason="idle_timeout").exists()
    # The login page explains why, in Chinese.
    assert "长时间未操作" in client.get(resp["Location"]).content.decode()
    assert client.get(PAGE).status_code == 302  # logged out for good


def test_absolute_timeout_even_when_active(client, user, password):
    account_session = log_in(client, password)
    shift_session(client, CREATED=12 * 3600 + 1)
    resp = client.get(PAGE)
    assert resp.status_code == 302 and "timeout=absolute_timeout" in resp["Location"]
    account_session.refresh_from_db()
    assert account_session.end_reason == "absolute_timeout"


def test_timeouts_follow_the_settings(client, user, password, settings):
    settings.YIWANG_SESSION_IDLE_SECONDS = 120
    log_in(client, password)
    shift_session(client, SEEN=60)
    assert client.get(PAGE).status_code == 200
    shift_session(client, SEEN=121)
    assert client.get(PAGE).status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(client, user, password):
    account_session = log_in(client, password)
    first = account_session.last_seen_at
    client.get(PAGE)
    account_session.refresh_from_db()
    assert account_session.last_seen_at == first  # within the minute: no write
    shift_session(client, SEEN=61)
    client.get(PAGE)
    account_session.refresh_from_db()
    assert account_session.last_seen_at > first
    assert client.session[sessions.SEEN] >= int(time.time()) - 2


def test_logout_is_a_post(client, user, password):
    account_session = log_in(client, password)
    page = client.get(reverse("auth:logout"))
    assert page.status_code == 200 and 'id="logout-form"' in page.content.decode()
    account_session.refresh_from_db()
    assert account_session.ended_at is None  # a GET (a link, an image) logs nobody out
    resp = client.post(reverse("auth:logout"), {"next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == "/"  # no open redirect
    account_session.refresh_from_db()
    assert account_session.end_reason == "logout"
    assert "_auth_user_id" not in client.session


def test_log_out_everywhere_ends_every_session(user, password):
    phone, laptop, tablet = Client(), Client(), Client()
    rows = [log_in(c, password) for c in (phone, laptop, tablet)]
    page = laptop.get(PAGE).content.decode()
    assert page.count("data-session=") == 3 and "当前设备" in page
    resp = laptop.post(reverse("auth:sessions_end_all"))
    assert resp.status_code == 302
    for row in rows:
        row.refresh_from_db()
        assert row.ended_at is not None and row.end_reason == "logout_everywhere"
    for c in (phone, laptop, tablet):
        assert c.get(PAGE).status_code == 302  # each browser is logged out
    assert AuditEntry.objects.filter(action="identity.logout_everywhere", object_id=str(user.pk)).exists()


def test_log_out_one_other_device(user, password):
    phone, laptop = Client(), Client()
    phone_session = log_in(phone, password)
    log_in(laptop, password)
    resp = laptop.post(reverse("auth:session_end", args=[phone_session.pk]))
    assert resp.status_code == 302
    assert phone.get(PAGE).status_code == 302
    assert laptop.get(PAGE).status_code == 200


def test_cannot_end_someone_elses_session(user, password, person):
    mine, theirs = Client(), Client()
    log_in(mine, password)
    their_session = log_in(theirs, password, login="lisi")
    mine.post(reverse("auth:session_end", args=[their_session.pk]))
    their_session.refresh_from_db()
    assert their_session.ended_at is None and theirs.get(PAGE).status_code == 200


def test_sessions_page_masks_the_ip(client, user, password):
    log_in(client, password, REMOTE_ADDR="203.0.113.45")
    page = client.get(PAGE, REMOTE_ADDR="203.0.113.45").content.decode()
    assert "203.0.*.*" in page and "203.0.113.45" not in page


def test_end_session_notifies_relying_parties(
    user, password, monkeypatch, django_capture_on_commit_callbacks
):
    # The back-channel sender is the OIDC part's; here only that it is called after commit.
    from yiwang.identity import sessions

    called = []
    monkeypatch.setattr(sessions, "notify_logout", lambda s: called.append(s.pk))
    c = Client()
    row = log_in(c, password)
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("auth:logout"))
        assert called == []  # not before the end is committed
    assert called == [row.pk]


def test_next_is_kept_but_only_same_site(client, user, password):
    resp = client.post(
        reverse("auth:login"),
        {"login": "zhangsan", "password": password, "next": "/o/authorize/?client_id=x&state=y"},
    )
    assert resp["Location"] == "/o/authorize/?client_id=x&state=y"
    client.post(reverse("auth:logout"))
    for bad in ("https://evil.example/x", "//evil.example/x", "javascript:alert(1)"):
        resp = client.post(reverse("auth:login"), {"login": "zhangsan", "password": password, "next": bad})
        assert resp["Location"] == "/", bad


def test_sweep_ends_sessions_abandoned_past_the_timeout(user, password):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from yiwang.identity.authentication import password_login
    from yiwang.identity.models import LoginThrottle

    c = Client()
    row = log_in(c, password)
    fresh = log_in(Client(), password)
    AccountSession.objects.filter(pk=row.pk).update(last_seen_at=timezone.now() - timedelta(minutes=31))
    password_login(None, "ghost", "x", ip="192.0.2.9", now=timezone.now() - timedelta(hours=1))
    # The ghost's account and IP counters, and the test client's IP counter (a success only
    # uncounts itself on an IP: the row stays until its window has passed).
    assert LoginThrottle.objects.count() == 3
    call_command("sweep_sessions", stdout=__import__("io").StringIO())
    row.refresh_from_db()
    fresh.refresh_from_db()
    assert row.end_reason == "idle_timeout" and fresh.ended_at is None
    assert c.get(PAGE).status_code == 302  # its Django session is gone too
    assert LoginThrottle.objects.count() == 1


def test_an_ordinary_request_costs_no_session_tracking_query(client, user, password):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    log_in(client, password)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(PAGE).status_code == 200
    tracking_writes = [
        q["sql"]
        for q in ctx.captured_queries
        if "identity_accountsession" in q["sql"] and "UPDATE" in q["sql"]
    ]
    assert tracking_writes == []  # last_seen_at is written at most once a minute


def test_a_password_change_ends_the_other_sessions(user, password):
    # Django keeps a hash of the password in the session and compares it on every request.
    phone = Client()
    log_in(phone, password)
    assert phone.get(PAGE).status_code == 200
    user.set_password("Another-long-2026")
    user.save()
    assert phone.get(PAGE).status_code == 302
