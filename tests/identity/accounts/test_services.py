"""Registration with real-name verification, companies, mandates, assurance levels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories
from yiwang.core.crypto import decrypt
from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity import services
from yiwang.identity.models import Company, Mandate, Person, TotpDevice
from yiwang.identity.registries import PersonOutcome, id_number_hash, population_registry
from yiwang.identity.synthetic import demo_companies

from .conftest import PASSWORD, register

pytestmark = pytest.mark.django_db


def fields_of(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


def test_register_person_encrypts_hashes_masks_and_verifies(registry):
    p = registry[0]
    person = register(p, "linxf")
    person.refresh_from_db()
    assert person.assurance_level == 2 and person.verified_at and person.phone_verified_at
    assert person.id_number_masked == p.id_number[:1] + "*" * 16 + p.id_number[-1:]
    assert person.phone_masked == p.phone[:3] + "****" + p.phone[-4:]
    assert p.id_number not in person.id_number_cipher and p.phone not in person.phone_cipher
    assert decrypt(person.id_number_cipher, context=services.ID_NUMBER_CONTEXT) == p.id_number
    assert person.id_number_hash == id_number_hash(p.id_number)
    # No clear column holds them: derived from the decrypted number.
    assert services.birth_date_of(person) == p.birth_date and services.region_code_of(person) == p.region_code
    assert person.user.check_password(PASSWORD)
    entry = AuditEntry.objects.get(action="identity.person.register")
    assert p.id_number not in str(entry.detail) + entry.summary
    assert p.phone not in str(entry.detail) + entry.summary


def test_each_bad_field_gets_its_own_message(registry):
    with pytest.raises(ValidationFailed) as exc:
        services.start_registration(
            username="", password="123", name="", id_number="110105194912310021", phone="1380013800"
        )
    errors = fields_of(exc.value)
    assert errors["id_number"] == "身份证号校验位错误，应为X"
    assert errors["phone"] == "手机号应为11位，当前为10位"
    assert errors["username"] == "请填写用户名"
    assert errors["name"] == "请填写姓名"
    assert "password" in errors
    assert not get_user_model().objects.exists()


def test_deceased_person_cannot_register(registry):
    from yiwang.identity.models import PopulationRecord

    PopulationRecord.objects.filter(id_number_hash=id_number_hash(registry[1].id_number)).update(
        deceased=True
    )
    assert population_registry().verify_person(registry[1].name, registry[1].id_number).outcome is (
        PersonOutcome.DECEASED
    )
    with pytest.raises(DomainError, match="no code was sent"):
        register(registry[1])
    assert not Person.objects.exists()


def test_username_taken(registry):
    register(registry[0], "same")
    with pytest.raises(ValidationFailed) as exc:
        register(registry[1], "SAME")
    assert fields_of(exc.value)["username"] == "该用户名已被使用，请换一个"


def test_refresh_assurance(people):
    lin = people[0]
    assert services.refresh_assurance(lin) == 2
    TotpDevice.objects.create(user=lin.user, secret_cipher="x", key_id="k1")  # not confirmed
    assert services.refresh_assurance(lin) == 2
    TotpDevice.objects.filter(user=lin.user).update(confirmed_at=timezone.now())
    assert services.refresh_assurance(lin) == 3
    lin.refresh_from_db()
    assert lin.assurance_level == 3
    Person.objects.filter(pk=lin.pk).update(verified_at=None)
    lin.refresh_from_db()
    assert services.refresh_assurance(lin) == 1


def test_verify_person_again(people):
    from yiwang.identity.models import PopulationRecord

    chen = people[1]
    assert services.verify_person(chen) is PersonOutcome.MATCH and chen.assurance_level == 2
    PopulationRecord.objects.filter(id_number_hash=chen.id_number_hash).update(deceased=True)
    assert services.verify_person(chen) is PersonOutcome.DECEASED
    chen.refresh_from_db()
    assert chen.verified_at is None and chen.assurance_level == 1
    PopulationRecord.objects.filter(id_number_hash=chen.id_number_hash).update(deceased=False)
    assert services.verify_person(chen) is PersonOutcome.MATCH
    chen.refresh_from_db()
    assert chen.verified_at is not None and chen.assurance_level == 2


# --- companies ----------------------------------------------------------------------------------


def test_register_company_by_its_legal_representative(companies, people):
    a, b = companies
    assert a.legal_representative == people[0] and a.verified_at and a.region_code == "350102"
    # Registering again (double submit) returns the same company.
    again = services.register_company(person=people[0], credit_code=a.credit_code, name=a.name)
    assert again.pk == a.pk and Company.objects.count() == 2


def test_only_the_legal_representative_may_register_a_company(people):
    lin, chen, _huang, _wu = people
    a = demo_companies()[0]
    with pytest.raises(NotPermitted):
        services.register_company(person=chen, credit_code=a.credit_code, name=a.name)
    with pytest.raises(DomainError) as exc:
        services.register_company(person=lin, credit_code=a.credit_code, name="福州市鼓楼区别的餐饮有限公司")
    assert exc.value.errors[0].field == "name"
    with pytest.raises(ValidationFailed) as exc:
        services.register_company(person=lin, credit_code="91350102MA2Y8K3L09", name=a.name)
    assert fields_of(exc.value)["credit_code"].startswith("统一社会信用代码校验位错误")
    assert not Company.objects.exists()


def test_company_registered_by_someone_else(companies, people):
    with pytest.raises(DomainError) as exc:
        services.register_company(
            person=people[1], credit_code=companies[0].credit_code, name=companies[0].name
        )
    assert exc.value.errors[0].code == "company_registered"


# --- mandates -----------------------------------------------------------------------------------


def window(days_from=0, days=30):
    start = timezone.now() + dt.timedelta(days=days_from)
    return {"starts_at": start, "ends_at": start + dt.timedelta(days=days)}


@pytest.fixture
def items(db):
    return [
        factories.standard_item("01020000100"),
        factories.standard_item("01020000200", name="酒类经营许可"),
    ]


def test_grant_and_act_within_scope(companies, people, items):
    a = companies[0]
    lin, chen, huang, _wu = people
    m = services.grant_mandate(
        company=a,
        by=lin,
        agent_id_number=services.id_number_of(chen),
        standard_items=[items[0]],
        **window(-1),
    )
    assert services.acting_scope(lin, a, items[1]).as_legal_representative
    scope = services.acting_scope(chen, a)
    assert scope and scope.mandate_ids == (m.pk,) and scope.standard_item_ids == {items[0].pk}
    assert services.acting_scope(chen, a, items[0])
    assert not services.acting_scope(chen, a, items[1])
    assert not services.acting_scope(huang, a)
    assert not services.acting_scope(chen, companies[1])
    entry = AuditEntry.objects.get(action="identity.mandate.grant")
    assert services.id_number_of(chen) not in str(entry.detail)


def test_mandate_time_window_and_revocation(companies, people):
    a = companies[0]
    lin, chen, _huang, _wu = people
    chen_id = services.id_number_of(chen)
    future = services.grant_mandate(company=a, by=lin, agent_id_number=chen_id, all_items=True, **window(2))
    assert not services.acting_scope(chen, a)
    assert services.acting_scope(chen, a, now=future.starts_at + dt.timedelta(seconds=1))
    assert not services.acting_scope(chen, a, now=future.ends_at)  # expired
    services.revoke_mandate(future, by=lin)
    assert not services.acting_scope(chen, a, now=future.starts_at + dt.timedelta(seconds=1))
    # Revoking twice is harmless and audited once.
    services.revoke_mandate(future, by=lin)
    assert AuditEntry.objects.filter(action="identity.mandate.revoke").count() == 1


def test_grant_double_submit_returns_the_same_mandate(companies, people, items):
    a = companies[0]
    w = window(0)
    kw = {"company": a, "by": people[0], "agent_id_number": services.id_number_of(people[1]),
          "standard_items": items, **w}  # fmt: skip
    assert services.grant_mandate(**kw).pk == services.grant_mandate(**kw).pk
    assert Mandate.objects.count() == 1


def test_grant_refusals(companies, people, items):
    a = companies[0]
    lin, chen, huang, _wu = people
    chen_id = services.id_number_of(chen)
    with pytest.raises(NotPermitted):  # not the legal representative of A
        services.grant_mandate(company=a, by=huang, agent_id_number=chen_id, all_items=True, **window())
    with pytest.raises(NotPermitted):  # an agent cannot pass the mandate on
        services.grant_mandate(company=a, by=chen, agent_id_number=services.id_number_of(huang), all_items=True,
                               **window())  # fmt: skip
    start = timezone.now()
    cases = [
        ({"agent_id_number": "11010519491231002X", "all_items": True, **window()}, "agent_id_number", "该身份证号尚未在平台注册"),
        ({"agent_id_number": "110105194912310021", "all_items": True, **window()}, "agent_id_number", "身份证号校验位错误，应为X"),
        ({"agent_id_number": services.id_number_of(lin), "all_items": True, **window()}, "agent_id_number", "法定代表人无需为自己授权"),
        ({"agent_id_number": chen_id, **window()}, "standard_items", "请选择授权事项"),
        ({"agent_id_number": chen_id, "all_items": True, "starts_at": start, "ends_at": start}, "ends_at", "截止时间应晚于生效时间"),
        ({"agent_id_number": chen_id, "all_items": True, **window(-10, 5)}, "ends_at", "截止时间已过"),
        ({"agent_id_number": chen_id, "all_items": True, **window(0, 3 * 366 + 2)}, "ends_at", "授权期限最长3年"),
    ]  # fmt: skip
    for kw, field, message in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.grant_mandate(company=a, by=lin, **kw)
        assert fields_of(exc.value)[field].startswith(message), (kw, exc.value.errors)
    assert not Mandate.objects.exists()


def test_only_the_legal_representative_revokes(companies, people):
    a = companies[0]
    lin, chen, huang, _wu = people
    m = services.grant_mandate(company=a, by=lin, agent_id_number=services.id_number_of(chen), all_items=True,
                               **window())  # fmt: skip
    for other in (chen, huang):
        with pytest.raises(NotPermitted):
            services.revoke_mandate(m, by=other)
    m.refresh_from_db()
    assert m.revoked_at is None


def test_acting_scope_accepts_an_implementation(companies, people, items):
    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    impl = factories.implementation(items[0], dept)
    a = companies[0]
    services.grant_mandate(company=a, by=people[0], agent_id_number=services.id_number_of(people[1]),
                           standard_items=[items[0]], **window(-1))  # fmt: skip
    assert services.acting_scope(people[1], a, impl)
