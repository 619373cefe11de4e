"""Registration and account pages through the Django test client (real DB, real sessions)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from yiwang.identity import services
from yiwang.identity.models import AccountSession, Company, Mandate, Person, PhoneChallenge
from yiwang.identity.sms import FakeSmsGateway
from yiwang.identity.synthetic import demo_companies

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def form_data(p, username="linxf", **kw):
    data = {
        "name": p.name,
        "id_number": p.id_number,
        "phone": p.phone,
        "username": username,
        "password": PASSWORD,
        "password2": PASSWORD,
        "nonce": "n-" + username,
    }
    data.update(kw)
    return data


def error_after(html: str, field: str) -> str:
    m = re.search(rf'id="id_{field}_error"[^>]*>([^<]*)<', html)
    return m.group(1) if m else ""


def test_register_page_has_labels_and_csrf(client):
    html = client.get("/account/register/person/").content.decode()
    for label in ("姓名", "身份证号", "手机号", "用户名", "密码", "确认密码"):
        assert f">{label}</label>" in html
    assert "csrfmiddlewaretoken" in html and 'name="nonce"' in html


def test_check_digit_error_is_next_to_the_id_field(client, registry):
    resp = client.post("/account/register/person/", form_data(registry[0], id_number="350102198503150111"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert error_after(html, "id_number").startswith("身份证号校验位错误，应为")
    assert 'aria-invalid="true"' in html
    assert not Person.objects.exists()


def test_password_confirmation(client, registry):
    resp = client.post("/account/register/person/", form_data(registry[0], password2="Other-pass-2026"))
    assert error_after(resp.content.decode(), "password2") == "两次输入的密码不一致"


def register_with_code(client, p, **kw):
    resp = client.post("/account/register/person/", form_data(p, **kw))
    assert resp.status_code == 302 and resp["Location"] == "/account/register/person/code/"
    code = FakeSmsGateway.last_code_to(p.phone)
    assert code is not None
    return client.post("/account/register/person/code/", {"code": code})


def test_register_logs_in_and_shows_masked_data_only(client, registry):
    p = registry[0]
    resp = register_with_code(client, p)
    assert resp.status_code == 302 and resp["Location"] == "/account/"
    person = Person.objects.get()
    assert AccountSession.objects.filter(user=person.user, ended_at__isnull=True).exists()
    assert client.session.get("yiwang_amr") == ["pwd"] and client.session.get("yiwang_acr") == 2
    html = client.get("/account/").content.decode()
    assert p.id_number not in html and p.phone not in html
    assert person.id_number_masked in html and person.phone_masked in html
    assert "3****************0" in html and "139****0001" in html
    assert 'href="/auth/mfa/"' in html and 'href="/auth/sessions/"' in html
    assert "绑定动态口令" in html  # how to raise the level


def test_double_submit_starts_one_registration(client, registry):
    data = form_data(registry[0])
    assert client.post("/account/register/person/", data)["Location"] == "/account/register/person/code/"
    other = Client()  # the second request of a double click still carries the old (anonymous) cookie
    resp = other.post("/account/register/person/", data)
    assert resp.status_code == 302 and resp["Location"] == "/account/register/person/code/"
    assert PhoneChallenge.objects.count() == 1
    code = FakeSmsGateway.last_code_to(registry[0].phone)
    assert client.post("/account/register/person/code/", {"code": code})["Location"] == "/account/"
    assert Person.objects.count() == 1
    # A logged-in person going back to the form is sent to the account page.
    assert client.get("/account/register/person/")["Location"] == "/account/"


def test_csrf_is_enforced(registry):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post("/account/register/person/", form_data(registry[0])).status_code == 403
    assert not Person.objects.exists()


def test_account_requires_login(client):
    resp = client.get("/account/")
    assert resp.status_code == 302 and "next=/account/" in resp["Location"]


def login(client, person):
    client.force_login(person.user)


def test_company_registration_page(client, people):
    lin, chen = people[0], people[1]
    a = demo_companies()[0]
    login(client, chen)
    resp = client.post("/account/register/company/", {"credit_code": a.credit_code, "name": a.name})
    assert "不是该法人在法人库中登记的法定代表人" in resp.content.decode()
    resp = client.post("/account/register/company/", {"credit_code": "9135I102MA2Y8K3L08", "name": a.name})
    assert error_after(resp.content.decode(), "credit_code") == "统一社会信用代码第5位含非法字符 I"
    assert not Company.objects.exists()
    login(client, lin)
    resp = client.post("/account/register/company/", {"credit_code": a.credit_code.lower(), "name": a.name})
    assert resp.status_code == 302
    resp = client.post("/account/register/company/", {"credit_code": a.credit_code, "name": a.name})
    assert resp.status_code == 302 and Company.objects.count() == 1  # double submit
    assert a.name in client.get("/account/").content.decode()


def grant_data(company, agent_id, **kw):
    today = timezone.localdate()
    data = {
        "company": company.pk,
        "agent_id_number": agent_id,
        "all_items": "on",
        "item_codes": "",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=30)).isoformat(),
    }
    data.update(kw)
    return data


def test_grant_and_revoke_through_the_pages(client, companies, people):
    a = companies[0]
    lin, chen = people[0], people[1]
    factories.standard_item("01020000100")
    login(client, lin)
    chen_id = services.id_number_of(chen)
    resp = client.post(
        "/account/mandates/grant/", grant_data(a, chen_id, all_items="", item_codes="0102000999")
    )
    assert error_after(resp.content.decode(), "item_codes").startswith("未找到事项编码 0102000999")
    resp = client.post("/account/mandates/grant/", grant_data(a, chen_id, ends_on="2020-01-01"))
    assert error_after(resp.content.decode(), "ends_on") == "截止时间应晚于生效时间"
    assert not Mandate.objects.exists()
    resp = client.post(
        "/account/mandates/grant/", grant_data(a, chen_id, all_items="", item_codes="01020000100")
    )
    assert resp.status_code == 302
    m = Mandate.objects.get()
    html = client.get("/account/").content.decode()
    assert "食品经营许可" in html and chen.id_number_masked in html and chen_id not in html
    assert services.acting_scope(chen, a)

    login(client, chen)
    html = client.get("/account/").content.decode()
    assert a.name in html and "我收到的授权" in html
    assert client.get(f"/account/mandates/{m.pk}/").status_code == 200  # the agent sees it
    assert client.post(f"/account/mandates/{m.pk}/revoke/").status_code == 404  # but cannot revoke

    login(client, lin)
    assert client.post(f"/account/mandates/{m.pk}/revoke/").status_code == 302
    m.refresh_from_db()
    assert m.revoked_at is not None and not services.acting_scope(chen, a)
