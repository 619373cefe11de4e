"""Real-name level 2 needs the registry AND the registered phone: a one-time code by SMS.

Registration answers a stranger the same way whether or not the ID number is in the registry
or has an account; codes are hashed at rest, expire, allow a few attempts; sends are limited
per ID number and per client address; the fake gateway's page exists only when enabled.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from yiwang.core.crypto import blind_index
from yiwang.core.errors import DomainError
from yiwang.identity import services
from yiwang.identity.models import FakeSmsMessage, Person, PhoneChallenge, PopulationRecord
from yiwang.identity.registries import id_number_hash
from yiwang.identity.sms import FakeSmsGateway
from yiwang.identity.synthetic import demo_registrant, make_id_number

from .conftest import PASSWORD, register

pytestmark = pytest.mark.django_db

REGISTER = "/account/register/person/"
CODE = "/account/register/person/code/"
SAME_ANSWER = "如果信息无误，我们已向登记的手机号发送验证码"


def details(p, username: str, **kw) -> dict:
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


def normalised(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def start(p, username="newuser", **kw) -> str:
    return services.start_registration(
        username=username,
        password=PASSWORD,
        name=kw.pop("name", p.name),
        id_number=kw.pop("id_number", p.id_number),
        phone=kw.pop("phone", p.phone),
        **kw,
    )


# --- one answer for every case -----------------------------------------------------------------


def test_registration_answers_a_stranger_the_same_whatever_the_records_hold(registry):
    lin = registry[0]
    register(lin, "linxf")  # 林晓峰 has an account
    newcomer = demo_registrant()  # in the registry, no account
    stranger_phone = "13600000000"
    cases = {
        "in registry, phone registered": details(newcomer, "case1"),
        "in registry, another phone": details(newcomer, "case2", phone=stranger_phone),
        "name does not match": details(newcomer, "case3", name="郑丽娟娟"),
        "not in the registry": details(
            newcomer, "case4", id_number=make_id_number("350105", dt.date(1990, 5, 20), 44)
        ),
        "has an account": details(lin, "case5", phone=stranger_phone),
    }
    answers = {}
    for label, data in cases.items():
        client = Client()
        first = client.post(REGISTER, data)
        page = client.get(CODE)
        wrong = client.post(CODE, {"code": "000000"})
        answers[label] = (
            first.status_code,
            first["Location"],
            page.status_code,
            normalised(page.content.decode()),
            wrong.status_code,
            normalised(wrong.content.decode()),
        )
    assert len(set(answers.values())) == 1, "the answers differ between cases"
    status, location, page_status, page_html, wrong_status, wrong_html = answers["has an account"]
    assert (status, location, page_status, wrong_status) == (302, CODE, 200, 400)
    assert SAME_ANSWER in page_html and "验证码错误" in wrong_html
    # Behind the same answer: a code only to the registered phone of a person without an
    # account, a notice (no code) to the phone of the existing account, nothing otherwise.
    sent: dict[str, str] = {}
    for m, text in FakeSmsGateway.messages_to([newcomer.phone, lin.phone]):  # newest first
        sent.setdefault(m.phone_masked, text)
    assert re.search(r"\d{6}", sent["137****0005"]) and "已有账号" in sent["139****0001"]
    assert not FakeSmsMessage.objects.filter(phone_hash=blind_index(stranger_phone, purpose="phone")).exists()
    assert Person.objects.count() == 1 and PhoneChallenge.objects.count() == 1 + 5  # 林晓峰's own + 5


def test_field_format_errors_are_still_shown_next_to_the_field(registry):
    resp = Client().post(REGISTER, details(demo_registrant(), "fmt", id_number="350105199005200421"))
    assert resp.status_code == 200 and 'id="id_id_number_error"' in resp.content.decode()
    assert not PhoneChallenge.objects.exists()


# --- level 2 only after the code -----------------------------------------------------------------


def test_level_2_only_after_the_code_sent_to_the_registered_phone(registry):
    p = demo_registrant()
    token = start(p)
    assert not Person.objects.exists() and not get_user_model().objects.filter(username="newuser").exists()
    code = FakeSmsGateway.last_code_to(p.phone)
    person = services.complete_registration(token=token, code=code)
    assert person.assurance_level == 2 and person.verified_at and person.phone_verified_at
    assert person.user.check_password(PASSWORD)


def test_the_whole_walk_through_the_pages_logs_in_at_level_2(client, registry):
    p = demo_registrant()
    assert client.post(REGISTER, details(p, "zhenglj"))["Location"] == CODE
    page = client.get(CODE).content.decode()
    assert SAME_ANSWER in page and 'href="/account/demo-sms/"' in page
    demo = client.get("/account/demo-sms/").content.decode()
    code = re.search(r"验证码为 (\d{6})", demo).group(1)
    resp = client.post(CODE, {"code": code})
    assert resp.status_code == 302 and resp["Location"] == "/account/"
    assert Person.objects.get().assurance_level == 2 and client.session.get("yiwang_acr") == 2


def test_a_person_whose_phone_is_not_the_registered_one_gets_no_account(registry):
    p = demo_registrant()
    token = start(p, phone="13600000000")
    for guess in ("000000", "123456"):
        with pytest.raises(DomainError) as exc:
            services.complete_registration(token=token, code=guess)
        assert exc.value.errors[0].code == "wrong_code" and exc.value.errors[0].field == "code"
    assert not Person.objects.exists()


def test_wrong_codes_are_refused_and_attempts_run_out(registry, settings):
    p = demo_registrant()
    token = start(p)
    code = FakeSmsGateway.last_code_to(p.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(settings.YIWANG_PHONE_CODE_ATTEMPTS):
        with pytest.raises(DomainError) as exc:
            services.complete_registration(token=token, code=wrong)
        assert exc.value.errors[0].code == "wrong_code"
    with pytest.raises(DomainError) as exc:
        services.complete_registration(token=token, code=code)  # right, but too late
    assert exc.value.errors[0].code == "too_many_attempts"
    assert not Person.objects.exists()


def test_an_expired_code_is_refused(registry):
    p = demo_registrant()
    token = start(p)
    code = FakeSmsGateway.last_code_to(p.phone)
    PhoneChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as exc:
        services.complete_registration(token=token, code=code)
    assert exc.value.errors[0].code == "expired" and not Person.objects.exists()


def test_a_code_works_once(registry):
    p = demo_registrant()
    token = start(p)
    code = FakeSmsGateway.last_code_to(p.phone)
    services.complete_registration(token=token, code=code)
    with pytest.raises(DomainError) as exc:
        services.complete_registration(token=token, code=code)
    assert exc.value.errors[0].code == "expired" and Person.objects.count() == 1


def test_codes_and_pending_details_are_not_kept_in_clear(registry):
    p = demo_registrant()
    start(p)
    code = FakeSmsGateway.last_code_to(p.phone)
    row = PhoneChallenge.objects.get()
    stored = " ".join(str(v) for v in PhoneChallenge.objects.values_list().get())
    assert code not in stored and p.id_number not in stored and p.phone not in stored
    assert PASSWORD not in stored and row.code_hash and len(row.code_hash) == 64
    message = " ".join(str(v) for v in FakeSmsMessage.objects.values_list().get())
    assert code not in message and p.phone not in message


# --- rate limits ----------------------------------------------------------------------------------


def test_sends_are_limited_per_id_number_the_same_way_for_any_number(registry, settings):
    settings.YIWANG_RATE_REGISTER_ID = "3/h"
    settings.YIWANG_RATE_REGISTER_ADDRESS = "off"
    known = demo_registrant()
    unknown_id = make_id_number("350105", dt.date(1990, 5, 20), 44)
    for id_number in (known.id_number, unknown_id):
        for i in range(3):
            start(known, username=f"u{id_number[-4:]}{i}", id_number=id_number)
        with pytest.raises(DomainError) as exc:
            start(known, username=f"u{id_number[-4:]}x", id_number=id_number)
        assert exc.value.errors[0].code == "rate_limited"
    assert len(FakeSmsGateway.messages_to([known.phone])) == 3  # the 4th asked never sent


def test_sends_are_limited_per_client_address(registry, settings, client):
    settings.YIWANG_RATE_REGISTER_ID = "off"
    settings.YIWANG_RATE_REGISTER_ADDRESS = "2/h"
    p = demo_registrant()
    for i in range(2):
        data = details(p, f"addr{i}", id_number=make_id_number("350105", dt.date(1990, 5, 20), 50 + i))
        assert client.post(REGISTER, data, REMOTE_ADDR="10.1.2.3")["Location"] == CODE
    resp = client.post(REGISTER, details(p, "addr9"), REMOTE_ADDR="10.1.2.3")
    assert resp.status_code == 200 and "操作过于频繁" in resp.content.decode()
    assert Client().post(REGISTER, details(p, "addr8"), REMOTE_ADDR="10.9.9.9")["Location"] == CODE


# --- the fake gateway and its page ----------------------------------------------------------------


def test_fake_sms_page_does_not_exist_unless_enabled(registry, settings, client):
    p = demo_registrant()
    start(p)
    assert client.get("/account/demo-sms/").status_code == 200
    settings.YIWANG_FAKE_SMS = False
    assert client.get("/account/demo-sms/").status_code == 404
    settings.YIWANG_FAKE_SMS = True
    settings.YIWANG_SMS_GATEWAY = "yiwang.identity.sms.UnconfiguredSmsGateway"  # a real provider named
    assert client.get("/account/demo-sms/").status_code == 404


def test_fake_sms_page_shows_only_the_demos_phones(registry, client):
    outsider, number = "13600000000", make_id_number("350105", dt.date(1990, 5, 20), 58)
    PopulationRecord.objects.create(
        name="王小二",
        id_number_hash=id_number_hash(number),
        id_number_masked=number[0] + "*" * 16 + number[-1],
        phone_hash=blind_index(outsider, purpose="phone"),
    )
    services.start_registration(
        username="wangxe", password=PASSWORD, name="王小二", id_number=number, phone=outsider
    )
    start(demo_registrant())
    html = client.get("/account/demo-sms/").content.decode()
    assert "137****0005" in html and "136****0000" not in html
    assert FakeSmsGateway.last_code_to(outsider) is not None  # it was sent, just not shown


def test_without_a_provider_nothing_is_sent_and_the_answer_is_the_same(registry, settings):
    settings.YIWANG_FAKE_SMS = False
    token = start(demo_registrant())
    assert token and not FakeSmsMessage.objects.exists()


# --- accounts from before ------------------------------------------------------------------------


def test_an_account_without_a_proven_phone_is_level_1_until_it_proves_it(registry):
    lin = registry[0]
    person = register(lin, "linxf")
    Person.objects.filter(pk=person.pk).update(phone_verified_at=None)
    person.refresh_from_db()
    assert services.refresh_assurance(person) == 1
    token = services.start_phone_verification(person)
    services.confirm_phone(person, token=token, code=FakeSmsGateway.last_code_to(lin.phone))
    person.refresh_from_db()
    assert person.assurance_level == 2 and person.phone_verified_at


def test_an_account_phone_that_is_not_the_registered_one_cannot_be_proven(registry):
    lin = registry[0]
    person = register(lin, "linxf")
    PopulationRecord.objects.filter(id_number_hash=person.id_number_hash).update(phone_hash="")
    with pytest.raises(DomainError) as exc:
        services.start_phone_verification(person)
    assert exc.value.errors[0].code == "phone_mismatch"


def test_migration_remasks_and_drops_unproven_accounts_to_level_1(registry):
    migration = importlib.import_module("yiwang.identity.migrations.0006_drop_clear_id_parts_phone_codes")
    person = register(registry[0], "linxf")
    Person.objects.filter(pk=person.pk).update(
        id_number_masked="350***********0110", assurance_level=3, phone_verified_at=None
    )
    migration.forwards(django_apps, None)
    person.refresh_from_db()
    assert person.id_number_masked == "3****************0" and person.assurance_level == 1
