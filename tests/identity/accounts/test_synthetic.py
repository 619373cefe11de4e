"""Synthetic registries: valid identifiers, hashes and masks only, demo identities present."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command

from yiwang.identity import synthetic, validators
from yiwang.identity.models import LegalEntityRecord, PopulationRecord
from yiwang.identity.registries import (
    CompanyOutcome,
    PersonOutcome,
    legal_entity_registry,
    population_registry,
)


def test_generated_people_and_companies_are_valid(db):
    rng = random.Random(7)
    today = synthetic.dt.date(2026, 11, 26)
    counties = synthetic.counties("350000")
    assert counties and all(c.code.startswith("35") for c in counties)
    assert any(c.name == "福州市鼓楼区" for c in counties)
    people = list(
        synthetic.generate_people(
            500, rng=rng, region_codes=[c.code for c in counties], today=today, taken=set()
        )
    )
    assert len({p.id_number for p in people}) == 500
    for p in people:
        info = validators.validate_id_number(p.id_number, today=today)
        assert info.birth_date == p.birth_date and 2 <= len(p.name) <= 4
        validators.validate_mobile_phone(p.phone)
    companies = list(
        synthetic.generate_companies(
            200, rng=rng, counties_=counties, reps=people, today=today, taken_codes=set(), taken_names=set()
        )
    )
    for c in companies:
        assert validators.validate_credit_code(c.credit_code).region_code == c.region_code
        assert c.name.endswith("有限公司") and c.name.startswith(
            next(x.name for x in counties if x.code == c.region_code)
        )
        assert not c.legal_rep.deceased


def test_demo_identities_are_valid_and_fixed():
    people = synthetic.demo_people()
    assert [p.name for p in people] == ["林晓峰", "陈雅婷", "黄志明", "吴建国"]
    for p in people:
        validators.validate_id_number(p.id_number)
        validators.validate_mobile_phone(p.phone)
    for c in synthetic.demo_companies():
        validators.validate_credit_code(c.credit_code)
    assert synthetic.demo_people() == people


@pytest.mark.django_db
def test_generate_registries_command():
    out = io.StringIO()
    call_command("generate_registries", "--people", "300", "--companies", "60", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "人口库：新增 305 人" in text and "法人库：新增 62 家" in text
    assert PopulationRecord.objects.count() == 305 and LegalEntityRecord.objects.count() == 62
    # Only hashes and masks: no column holds a plain ID number.
    for r in PopulationRecord.objects.all()[:50]:
        assert "*" in r.id_number_masked and len(r.id_number_hash) == 64
    for p in synthetic.demo_people():
        assert p.id_number in text  # printed for the demo
        assert population_registry().verify_person(p.name, p.id_number).outcome is PersonOutcome.MATCH
    for c in synthetic.demo_companies():
        check = legal_entity_registry().verify_company(
            c.credit_code, c.name, c.legal_rep.name, c.legal_rep.id_number
        )
        assert check.outcome is CompanyOutcome.MATCH
        wrong = synthetic.demo_people()[1]
        assert (
            legal_entity_registry().verify_company(c.credit_code, c.name, wrong.name, wrong.id_number).outcome
            is CompanyOutcome.LEGAL_REP_MISMATCH
        )
    # Running again with the same seed adds nothing.
    out = io.StringIO()
    call_command("generate_registries", "--people", "300", "--companies", "60", "--no-progress", stdout=out)
    assert "人口库：新增 0 人" in out.getvalue() and PopulationRecord.objects.count() == 305


@pytest.mark.django_db
def test_rows_made_before_get_the_phone_hash_and_the_short_mask():
    synthetic.generate_registries(people=50, companies=5, seed=7)
    PopulationRecord.objects.update(phone_hash="", id_number_masked="350***********0000")
    synthetic.generate_registries(people=50, companies=5, seed=7)
    assert PopulationRecord.objects.count() == 55
    assert not PopulationRecord.objects.filter(phone_hash="").exists()
    assert not PopulationRecord.objects.filter(id_number_masked="350***********0000").exists()
    p = synthetic.demo_people()[0]
    check = population_registry().verify_person(p.name, p.id_number, p.phone)
    assert check.ok and check.phone_match


@pytest.mark.django_db
def test_create_demo_accounts_is_idempotent(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from yiwang.identity import services
    from yiwang.identity.models import Company, Mandate, Person

    accounts = synthetic.create_demo_accounts()
    assert synthetic.create_demo_accounts() == accounts
    assert Person.objects.count() == 4 and Company.objects.count() == 2 and Mandate.objects.count() == 1
    lin, chen = (Person.objects.get(user__username=u) for u in ("linxf", "chenyt"))
    assert lin.user.check_password(synthetic.DEMO_PASSWORD) and lin.assurance_level == 2
    company = Company.objects.get(legal_representative=lin)
    assert services.acting_scope(chen, company).all_items
