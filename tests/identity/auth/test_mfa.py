"""TOTP: enrolment, verification window, replay protection, throttling, login with a code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.identity import mfa, sessions
from yiwang.identity.models import AccountSession, TotpDevice

pytestmark = pytest.mark.django_db


def enrolled(user, now=None):
    now = now or timezone.now()
    enrolment = mfa.begin_enrolment(user)
    mfa.confirm_enrolment(user, mfa.code_at(enrolment.secret, now), now=now)
    return enrolment.secret


def test_enrolment_stores_the_secret_encrypted_and_confirms_with_a_code(user):
    enrolment = mfa.begin_enrolment(user)
    device = TotpDevice.objects.get(user=user)
    assert enrolment.secret not in device.secret_cipher and device.confirmed_at is None
    assert enrolment.uri.startswith("otpauth://totp/") and "secret=" + enrolment.secret in enrolment.uri
    assert enrolment.secret_groups.replace(" ", "") == enrolment.secret
    assert enrolment.qr_svg.startswith("<svg")
    with pytest.raises(mfa.MfaError):
        mfa.confirm_enrolment(
            user, "000000" if mfa.code_at(enrolment.secret, timezone.now()) != "000000" else "111111"
        )
    mfa.confirm_enrolment(user, mfa.code_at(enrolment.secret, timezone.now()))
    assert mfa.has_confirmed_device(user)
    assert AuditEntry.objects.filter(action="identity.mfa.enrolled", object_id=str(user.pk)).exists()
    with pytest.raises(mfa.MfaError):
        mfa.begin_enrolment(user)  # a confirmed device is not silently replaced


def test_a_code_is_accepted_once_only(user):
    t = timezone.now()
    secret = enrolled(user, t - timedelta(minutes=5))
    code = mfa.code_at(secret, t)
    mfa.verify(user, code, now=t)
    with pytest.raises(mfa.MfaError, match="已使用"):
        mfa.verify(user, code, now=t + timedelta(seconds=5))
    # Nor an older code once a newer one was used.
    with pytest.raises(mfa.MfaError):
        mfa.verify(user, mfa.code_at(secret, t - timedelta(seconds=30)), now=t)


def test_window_is_one_step_either_side(user):
    t = timezone.now()
    secret = enrolled(user, t - timedelta(hours=1))
    mfa.verify(user, mfa.code_at(secret, t - timedelta(seconds=30)), now=t)  # phone 30 s behind
    mfa.verify(user, mfa.code_at(secret, t + timedelta(seconds=30)), now=t)  # phone 30 s ahead
    with pytest.raises(mfa.MfaError):
        mfa.verify(user, mfa.code_at(secret, t + timedelta(seconds=90)), now=t)
    t2 = t + timedelta(minutes=10)
    with pytest.raises(mfa.MfaError):
        mfa.verify(user, mfa.code_at(secret, t2 - timedelta(seconds=90)), now=t2)


def test_wrong_codes_cool_off(user):
    t = timezone.now()
    secret = enrolled(user, t - timedelta(hours=1))
    right = mfa.code_at(secret, t)
    wrong = "123456" if right != "123456" else "654321"
    for i in range(5):
        with pytest.raises(mfa.MfaError):
            mfa.verify(user, wrong, now=t + timedelta(seconds=i))
    with pytest.raises(mfa.MfaError, match="分钟后再试"):
        mfa.verify(user, right, now=t + timedelta(seconds=6))
    later = t + timedelta(minutes=16)
    mfa.verify(user, mfa.code_at(secret, later), now=later)


def test_disable_requires_a_code(user):
    t = timezone.now()
    secret = enrolled(user, t - timedelta(minutes=1))
    with pytest.raises(mfa.MfaError):
        mfa.disable(user, "12345x", now=t)
    mfa.disable(user, mfa.code_at(secret, t), now=t)
    assert not TotpDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="identity.mfa.disabled").exists()


def test_login_with_a_device_asks_for_the_code_before_the_session(client, person, password):
    secret = enrolled(person.user, timezone.now() - timedelta(minutes=1))
    resp = client.post(reverse("auth:login"), {"login": "lisi", "password": password, "next": "/account/"})
    assert resp.status_code == 302 and resp["Location"] == reverse("auth:mfa_verify")
    assert "_auth_user_id" not in client.session  # not logged in yet
    resp = client.post(reverse("auth:mfa_verify"), {"code": "000000"})
    assert resp.status_code == 400 and "动态口令不正确" in resp.content.decode()
    resp = client.post(reverse("auth:mfa_verify"), {"code": mfa.code_at(secret, timezone.now())})
    assert resp.status_code == 302 and resp["Location"] == "/account/"
    session = client.session
    assert session[sessions.ACR] == 3 and session[sessions.AMR] == ["pwd", "otp"]
    assert AccountSession.objects.get(sid=session[sessions.SID]).acr == 3


def test_unverified_account_gets_no_acr_3_from_a_code(client, unverified_person, password):
    secret = enrolled(unverified_person.user, timezone.now() - timedelta(minutes=1))
    client.post(reverse("auth:login"), {"login": "wangwu", "password": password})
    client.post(reverse("auth:mfa_verify"), {"code": mfa.code_at(secret, timezone.now())})
    assert client.session[sessions.ACR] == 1


def test_enrolment_pages(client, person, password):
    client.post(reverse("auth:login"), {"login": "lisi", "password": password})
    assert client.session[sessions.ACR] == 2
    page = client.get(reverse("auth:mfa")).content.decode()
    assert 'id="mfa-begin"' in page
    client.post(reverse("auth:mfa"), {"action": "begin"})
    page = client.get(reverse("auth:mfa")).content.decode()
    assert "<svg" in page and 'id="mfa-secret"' in page
    enrolment = mfa.pending_enrolment(person.user)
    assert enrolment.secret_groups in page
    resp = client.post(
        reverse("auth:mfa"), {"action": "confirm", "code": mfa.code_at(enrolment.secret, timezone.now())}
    )
    assert resp.status_code == 302
    assert client.session[sessions.ACR] == 3  # the code proved the factor in this session
    assert 'id="mfa-enabled"' in client.get(reverse("auth:mfa")).content.decode()


def test_enrol_totp_command(user):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command(
        "enrol_totp", "zhangsan", "--secret", "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", "--no-qr", stdout=out
    )
    assert "secret: JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP" in out.getvalue()
    t = timezone.now()
    mfa.verify(user, mfa.code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", t), now=t)
    with pytest.raises(CommandError, match="已绑定"):
        call_command("enrol_totp", "zhangsan", stdout=io.StringIO())
    for bad in ("not base32!", "JBSWY3DPEHPK3PXP"):  # not base32; only 80 bits
        with pytest.raises(CommandError, match="Base32"):
            call_command("enrol_totp", "zhangsan", "--secret", bad, "--replace", stdout=io.StringIO())
    out = io.StringIO()
    call_command("enrol_totp", "zhangsan", "--replace", stdout=out)
    assert "otpauth://totp/" in out.getvalue() and "JBSWY3DPEHPK3PXP" not in out.getvalue()
    entry = AuditEntry.objects.filter(action="identity.mfa.enrolled").latest("seq")
    assert entry.channel == "cli" and entry.detail["by"] == "cli"
