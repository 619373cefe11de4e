"""Administrators need a two-factor session for the back office; step-up sends a person through
the second factor and back; staff role changes are audited."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.core.models import AuditEntry
from yiwang.identity import mfa, sessions
from yiwang.identity.models import AccountSession, StaffRole
from yiwang.identity.stepup import required_acr_for_item

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


def log_in(client, login, password, next_url=""):
    return client.post(reverse("auth:login"), {"login": login, "password": password, "next": next_url})


def test_admin_login_page_is_the_unified_login(client):
    resp = client.get(ADMIN)
    assert resp.status_code == 302
    resp = client.get(resp["Location"])
    assert resp.status_code == 302 and resp["Location"] == "/auth/login/?next=%2Fadmin%2F"


def test_administrator_without_device_is_sent_to_enrol_then_comes_back(client, catalogue_admin, password):
    log_in(client, "gl_admin", password, ADMIN)
    assert client.session[sessions.ACR] == 2  # staff accounts count as verified
    resp = client.get(ADMIN)
    assert resp.status_code == 302 and resp["Location"] == f"/auth/mfa/?next={quote(ADMIN, safe='')}"
    page = client.get(resp["Location"]).content.decode()
    assert "管理员账号必须绑定动态口令" in page
    client.post(f"/auth/mfa/?next={ADMIN}", {"action": "begin"})
    secret = mfa.pending_enrolment(catalogue_admin).secret
    resp = client.post(
        "/auth/mfa/", {"action": "confirm", "code": mfa.code_at(secret, timezone.now()), "next": ADMIN}
    )
    assert resp.status_code == 302 and resp["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_administrator_with_device_enters_a_code(catalogue_admin, password):
    enrolment = mfa.begin_enrolment(catalogue_admin)
    earlier = timezone.now() - timedelta(minutes=2)
    mfa.confirm_enrolment(catalogue_admin, mfa.code_at(enrolment.secret, earlier), now=earlier)
    client = Client()
    resp = log_in(client, "gl_admin", password, ADMIN)
    assert resp["Location"] == reverse("auth:mfa_verify")
    resp = client.post(reverse("auth:mfa_verify"), {"code": mfa.code_at(enrolment.secret, timezone.now())})
    assert resp["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200
    # A password-only session of the same administrator (force_login, no code) is turned away.
    other = Client()
    other.force_login(catalogue_admin)
    resp = other.get(reverse("admin:catalog_serviceitem_changelist"))
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("auth:mfa_verify"))


def test_superuser_needs_the_second_factor_too(client):
    root = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(root)
    assert client.get(ADMIN)["Location"].startswith("/auth/mfa/")
    login_with_second_factor(client, root)
    assert client.get(ADMIN).status_code == 200


def test_staff_without_an_admin_role_is_not_asked(client):
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(ADMIN).status_code == 200  # the admin site decides what a clerk sees


def test_staff_role_changes_are_audited(client, user):
    root = get_user_model().objects.create_superuser("root", password="x")
    login_with_second_factor(client, root)
    resp = client.post(reverse("admin:identity_staffrole_add"), {"user": user.pk, "role": "approver"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    role = StaffRole.objects.get(user=user)
    granted = AuditEntry.objects.get(action="identity.staff_role.granted")
    assert granted.object_id == str(role.pk) and granted.actor_label == "root" and granted.channel == "admin"
    client.post(
        reverse("admin:identity_staffrole_change", args=[role.pk]), {"user": user.pk, "role": "supervisor"}
    )
    changed = AuditEntry.objects.get(action="identity.staff_role.changed")
    assert changed.detail["before"]["role"] == "approver" and changed.detail["after"]["role"] == "supervisor"
    client.post(reverse("admin:identity_staffrole_delete", args=[role.pk]), {"post": "yes"})
    assert not StaffRole.objects.filter(pk=role.pk).exists()
    assert AuditEntry.objects.get(action="identity.staff_role.revoked").detail["role"] == "supervisor"


# --- step-up -------------------------------------------------------------------------------------

GUARDED = "/stepup-test/"


@pytest.mark.urls("tests.identity.auth.urls")
def test_stepup_enrol_and_return(client, person, password):
    assert client.get(GUARDED)["Location"] == f"/auth/login/?next={quote(GUARDED, safe='')}"
    resp = log_in(client, "lisi", password, GUARDED)
    assert resp["Location"] == GUARDED
    sid = client.session[sessions.SID]
    resp = client.get(GUARDED)  # acr 2 < 3, no device yet: enrol
    assert resp.status_code == 302 and resp["Location"] == f"/auth/mfa/?next={quote(GUARDED, safe='')}"
    client.post(resp["Location"], {"action": "begin"})
    secret = mfa.pending_enrolment(person.user).secret
    resp = client.post(
        "/auth/mfa/", {"action": "confirm", "code": mfa.code_at(secret, timezone.now()), "next": GUARDED}
    )
    assert resp["Location"] == GUARDED
    page = client.get(GUARDED)
    assert page.status_code == 200 and page.content == b"guarded page"
    # The same tracked session was raised: relying parties keep knowing it by its sid.
    assert client.session[sessions.SID] == sid
    assert AccountSession.objects.get(sid=sid).acr == 3
    person.refresh_from_db()
    assert person.assurance_level == 3  # refresh_assurance ran on confirmation


@pytest.mark.urls("tests.identity.auth.urls")
def test_stepup_with_a_device_asks_for_the_code_and_keeps_the_sid(person, password):
    enrolment = mfa.begin_enrolment(person.user)
    earlier = timezone.now() - timedelta(minutes=2)
    mfa.confirm_enrolment(person.user, mfa.code_at(enrolment.secret, earlier), now=earlier)
    client = Client()
    # Logged in with a password only (as a relying party's session might be).
    client.force_login(person.user)
    resp = client.get(GUARDED)
    assert resp["Location"] == f"/auth/mfa/verify/?next={quote(GUARDED, safe='')}"
    resp = client.post(resp["Location"], {"code": mfa.code_at(enrolment.secret, timezone.now())})
    assert resp["Location"] == GUARDED
    assert client.session[sessions.ACR] == 3 and "otp" in client.session[sessions.AMR]
    assert client.get(GUARDED).status_code == 200


@pytest.mark.urls("tests.identity.auth.urls")
def test_unverified_person_is_sent_to_verification(client, unverified_person, password):
    log_in(client, "wangwu", password)
    resp = client.get(GUARDED)
    assert resp.status_code == 302 and resp["Location"].startswith("/account/")
    assert f"next={quote(GUARDED, safe='')}" in resp["Location"]


def test_required_acr_for_item_reads_the_published_guide():
    from tests import factories as f
    from yiwang.catalog import services as catalog_services

    regions = f.region_tree()
    item = f.implementation(f.standard_item(), f.department(regions["county"]), min_assurance_level=3)
    assert required_acr_for_item(item.code) == 1  # not published: nothing to require
    catalog_services.publish(item)
    assert required_acr_for_item(item.code) == 3
    assert required_acr_for_item("no-such-code") == 1


def test_code_page_without_a_device_sends_to_enrolment_keeping_next(client, person, password):
    log_in(client, "lisi", password)
    target = "/o/authorize/?client_id=city&state=a b"
    resp = client.get(reverse("auth:mfa_verify"), {"next": target})
    assert resp.status_code == 302 and resp[
        "Location"
    ] == f"/auth/mfa/?next={quote(target, safe='')}".replace("%20", "+")
    # The enrolment page carries it on through "begin" and "confirm".
    resp = client.post(resp["Location"], {"action": "begin"})
    assert resp["Location"].startswith("/auth/mfa/?next=%2Fo%2Fauthorize%2F")
    assert f'value="{target}"'.replace("&", "&amp;") in client.get(resp["Location"]).content.decode()
