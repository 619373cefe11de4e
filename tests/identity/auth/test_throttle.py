"""Brute-force protection: per account and per IP, a cool-off that ends by itself, doubling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.identity.authentication import password_login
from yiwang.identity.models import LoginThrottle

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def fail(login: str, now, ip: str = IP):
    return password_login(None, login, "wrong-password", ip=ip, now=now)


def test_five_failures_cool_the_account_off_then_it_recovers_by_itself(user, password):
    t0 = timezone.now()
    for i in range(4):
        result = fail("zhangsan", t0 + timedelta(seconds=i))
        assert not result.ok and result.error == "账号或密码不正确。"
    fifth = fail("zhangsan", t0 + timedelta(seconds=5))
    assert not fifth.ok and "15 分钟后再试" in fifth.error
    # Even the right password is refused while cooling off, without being checked.
    during = password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(minutes=14))
    assert not during.ok and "分钟后再试" in during.error
    # From another IP too: the lock is on the account.
    assert not password_login(
        None, "zhangsan", password, ip="198.51.100.1", now=t0 + timedelta(minutes=14)
    ).ok
    after = password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(minutes=16))
    assert after.ok and after.user == user
    assert not LoginThrottle.objects.filter(scope="account").exists()  # success clears the account
    assert AuditEntry.objects.filter(action="identity.login.locked").count() == 1
    assert AuditEntry.objects.filter(action="identity.login.failed").count() == 5
    assert AuditEntry.objects.filter(action="identity.login.succeeded", object_id=str(user.pk)).exists()


def test_cooloff_doubles_up_to_the_cap(user):
    t = timezone.now()
    lengths = []
    for _round in range(4):
        for _ in range(5):
            result = fail("zhangsan", t)
            t += timedelta(seconds=1)
        assert result.retry_after is not None
        lengths.append(round((result.retry_after - (t - timedelta(seconds=1))).total_seconds() / 60))
        t = result.retry_after + timedelta(seconds=1)
    assert lengths == [15, 30, 60, 60]


def test_quiet_window_forgets_failures(user, password):
    t0 = timezone.now()
    for i in range(4):
        fail("zhangsan", t0 + timedelta(seconds=i))
    later = t0 + timedelta(minutes=16)
    for i in range(4):
        assert fail("zhangsan", later + timedelta(seconds=i)).error == "账号或密码不正确。"


def test_fifth_attempt_with_the_right_password_still_succeeds(user, password):
    t0 = timezone.now()
    for i in range(4):
        fail("zhangsan", t0 + timedelta(seconds=i))
    assert password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(seconds=10)).ok


def test_unknown_name_answers_exactly_like_a_known_one(user):
    t0 = timezone.now()
    known = [fail("zhangsan", t0 + timedelta(seconds=i), ip="192.0.2.1").error for i in range(6)]
    unknown = [fail("nobody-here", t0 + timedelta(seconds=i), ip="192.0.2.2").error for i in range(6)]
    assert known == unknown


def test_ip_limit_across_accounts(user, password):
    t0 = timezone.now()
    for i in range(20):
        result = fail(f"guess{i}", t0 + timedelta(seconds=i))
    assert "分钟后再试" in result.error
    # A real account from that IP is refused now; from another IP it logs in.
    assert not password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(minutes=1)).ok
    assert password_login(None, "zhangsan", password, ip="198.51.100.9", now=t0 + timedelta(minutes=1)).ok
    assert password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(minutes=16)).ok


def test_a_success_does_not_reset_the_ip_count(user, password):
    t0 = timezone.now()
    for i in range(19):
        fail(f"guess{i}", t0 + timedelta(seconds=i))
    assert password_login(None, "zhangsan", password, ip=IP, now=t0 + timedelta(seconds=30)).ok
    assert "分钟后再试" in fail("guess-last", t0 + timedelta(seconds=31)).error


def test_login_by_id_number_and_masked_audit(person, password):
    t0 = timezone.now()
    assert fail("11010519491231002X", t0).error == "账号或密码不正确。"
    entry = AuditEntry.objects.get(action="identity.login.failed")
    assert "11010519491231002X" not in str(entry.detail) + entry.summary
    assert "1****************X" in entry.summary
    result = password_login(None, "11010519491231002x", password, ip=IP, now=t0)
    assert result.ok and result.user == person.user


def test_throttle_rows_hold_no_raw_names_or_ips(user):
    fail("zhangsan", timezone.now())
    for row in LoginThrottle.objects.all():
        assert "zhangsan" not in row.key_hash and IP not in row.key_hash and len(row.key_hash) == 64


def test_an_attackers_failures_do_not_lock_the_owner_out_of_a_known_browser(user, password):
    from django.test import Client
    from django.urls import reverse

    owner, attacker = Client(REMOTE_ADDR="198.51.100.20"), Client(REMOTE_ADDR="203.0.113.66")
    url = reverse("auth:login")
    assert owner.post(url, {"login": "zhangsan", "password": password}).status_code == 302
    assert "yiwang_known" in owner.cookies
    owner.post(reverse("auth:logout"))
    for i in range(5):
        attacker.post(url, {"login": "zhangsan", "password": f"guess-{i}"})
    # The account cools off for every browser that never logged in as zhangsan ...
    refused = attacker.post(url, {"login": "zhangsan", "password": password})
    assert refused.status_code == 400 and "分钟后再试" in refused.content.decode()
    stranger = Client(REMOTE_ADDR="192.0.2.77")
    assert stranger.post(url, {"login": "zhangsan", "password": password}).status_code == 400
    # ... but not for the owner's own browser.
    assert owner.post(url, {"login": "zhangsan", "password": password}).status_code == 302
    # A forged cookie is ignored.
    attacker.cookies["yiwang_known"] = owner.cookies["yiwang_known"].value.replace(str(user.pk), "999")
    assert attacker.post(url, {"login": "zhangsan", "password": password}).status_code == 400
