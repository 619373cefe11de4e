"""Issue 17 (1): acting for a company in the session (切换身份). The account menu lists "个人"
and the companies the signed-in person may act for now (legal representative, or a mandate in
force); choosing one is a POST checked again on the server; the header then shows
"name · 代表 company"; an application started meanwhile is filed for the company by default;
a revoked or expired mandate ends it at the next request; signing out forgets it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import world  # noqa: F401  (fixture reused)
from tests.identity.accounts.conftest import (  # noqa: F401  (fixtures reused)
    _fake_sms,
    _fast_passwords,
    companies,
    people,
    registry,
)
from yiwang.cases.models import Application
from yiwang.core.models import AuditEntry
from yiwang.identity import acting, services
from yiwang.identity.models import Company, Mandate, Role, StaffRole
from yiwang.identity.selectors import acting_options

pytestmark = pytest.mark.django_db

ACTING_URL = "/account/acting-as/"


def _account_area(html: str) -> str:
    m = re.search(r'<div class="account" id="account">(.*?)\n</div>', html, re.S)
    assert m, "the header has no account area"
    return m.group(1)


def _choices(html: str) -> dict[str, str]:
    """The 切换身份 buttons of the account menu: value → label."""
    area = _account_area(html)
    return {
        value: label
        for value, label in re.findall(
            r'<button type="submit" name="company" value="([^"]*)" class="acting-choice"[^>]*>([^<]*)</button>',
            area,
        )
    }


def _mandate(company, agent, *, days_from=-1, days_to=30, revoked=False, items=()) -> Mandate:
    now = timezone.now()
    m = Mandate.objects.create(
        company=company,
        agent=agent,
        all_items=not items,
        starts_at=now + dt.timedelta(days=days_from),
        ends_at=now + dt.timedelta(days=days_to),
        granted_by=company.legal_representative,
        revoked_at=now if revoked else None,
    )
    if items:
        m.standard_items.set(items)
    return m


def _client(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def acting_world(people, companies, catalog):  # noqa: F811
    """林晓峰 represents A; 陈雅婷 has a mandate for A (all items) and none in force for B (one
    expired, one revoked); 吴建国 has a mandate for B that 陈雅婷 must not see."""
    lin, chen, huang, wu = people
    a, b = companies
    _mandate(a, chen)
    _mandate(b, chen, days_from=-30, days_to=-1)  # expired
    _mandate(b, chen, revoked=True)
    _mandate(b, wu)
    return lin, chen, huang, wu, a, b


def test_the_menu_lists_only_the_companies_the_person_may_act_for_now(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    assert _choices(_client(chen).get("/").content.decode()) == {"": "个人", str(a.pk): a.name}
    assert _choices(_client(lin).get("/").content.decode()) == {"": "个人", str(a.pk): a.name}  # legal rep
    assert _choices(_client(wu).get("/").content.decode()) == {"": "个人", str(b.pk): b.name}
    # Someone who may act for no company has no 切换身份 at all.
    Mandate.objects.filter(agent=wu).delete()
    area = _account_area(_client(wu).get("/").content.decode())
    assert "切换身份" not in area and 'name="company"' not in area


def test_a_mandate_not_yet_in_force_shows_when_it_starts(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    _mandate(b, chen, days_from=2, days_to=10)
    assert [o.company_id for o in acting_options(chen.user)] == [a.pk]
    later = timezone.now() + dt.timedelta(days=3)
    assert {o.company_id for o in acting_options(chen.user, now=later)} == {a.pk, b.pk}
    much_later = timezone.now() + dt.timedelta(days=40)  # A's mandate has ended too
    assert [o.company_id for o in acting_options(chen.user, now=much_later)] == []


def test_switching_shows_the_company_in_the_header_and_back(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    guide = "/items/?audience=company"
    r = client.post(ACTING_URL, {"company": a.pk, "next": guide})
    assert r.status_code == 302 and r["Location"] == guide
    html = client.get(guide).content.decode()
    area = _account_area(html)
    assert f'id="account-name">{chen.name}</span>' in area
    assert f"代表 {a.name}" in area and 'id="account-acting"' in area
    assert f'value="{a.pk}" class="acting-choice" aria-pressed="true"' in area
    entry = AuditEntry.objects.filter(action="identity.acting_as").latest("pk")
    assert entry.object_id == str(a.pk) and entry.detail["company"] == a.credit_code
    client.post(ACTING_URL, {"company": "", "next": guide})
    area = _account_area(client.get(guide).content.decode())
    assert "代表" not in area and 'value="" class="acting-choice" aria-pressed="true"' in area
    assert AuditEntry.objects.filter(action="identity.acting_as").count() == 2


def test_a_company_one_may_not_act_for_is_refused_and_nothing_changes(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    for refused in (b.pk, 999999, "x"):  # expired and revoked mandates only; no such company; junk
        r = client.post(ACTING_URL, {"company": refused, "next": "/"})
        assert r.status_code == 403
        assert "您不能代表该单位办事，身份未切换" in r.content.decode()
        assert client.session[acting.SESSION_KEY] == a.pk  # still acting for A
    assert AuditEntry.objects.filter(action="identity.acting_as").count() == 1


def test_switching_needs_a_post_with_the_csrf_token(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = Client(enforce_csrf_checks=True)
    client.force_login(chen.user)
    assert client.get(ACTING_URL).status_code == 405
    assert client.post(ACTING_URL, {"company": a.pk}).status_code == 403
    assert acting.SESSION_KEY not in client.session
    anonymous = Client().post(ACTING_URL, {"company": a.pk})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/auth/login/")


def test_a_revoked_mandate_ends_the_acting_at_the_next_request(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    assert f"代表 {a.name}" in _account_area(client.get("/items/").content.decode())  # cached now
    services.revoke_mandate(Mandate.objects.get(company=a, agent=chen), by=lin)
    area = _account_area(client.get("/items/").content.decode())
    assert "代表" not in area and a.name not in area
    assert acting.SESSION_KEY not in client.session
    # A new mandate later does not bring the old choice back by itself.
    _mandate(a, chen)
    assert "代表" not in _account_area(client.get("/items/").content.decode())


def test_an_expired_mandate_ends_the_acting(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    m = Mandate.objects.get(company=a, agent=chen)
    m.ends_at = timezone.now() - dt.timedelta(seconds=1)
    m.save()
    assert "代表" not in _account_area(client.get("/items/").content.decode())


def test_the_company_name_change_shows_at_once(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    client.get("/items/")
    a.name = "福州市鼓楼区新名字餐饮有限公司"
    a.save()
    assert "代表 福州市鼓楼区新名字餐饮有限公司" in _account_area(client.get("/items/").content.decode())


def test_signing_out_forgets_the_company(acting_world):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    client.post("/auth/logout/", {"next": "/"})
    client.force_login(chen.user)
    assert acting.SESSION_KEY not in client.session
    assert "代表" not in _account_area(client.get("/").content.decode())


def test_an_application_started_while_acting_is_for_the_company(acting_world, catalog):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    item = catalog.food.item  # for companies
    url = reverse("portal:apply", args=[item.code])
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    page = client.get(url).content.decode()
    assert re.search(rf'name="acting_for" value="{a.pk}" checked', page)
    assert not re.search(r'name="acting_for" value="self" checked', page)
    # The form posts what the page preselected.
    r = client.post(url, {"acting_for": str(a.pk), "idempotency_key": "k-acting"})
    assert r.status_code == 302, r.content.decode()[:500]
    assert Application.objects.get(idempotency_key="k-acting").acting_for_id == a.pk
    # The per-application choice stays: the person may still apply as themself.
    r = client.post(url, {"acting_for": "self", "idempotency_key": "k-self"})
    assert r.status_code == 302
    assert Application.objects.get(idempotency_key="k-self").acting_for_id is None


def test_a_person_only_item_keeps_self_as_the_default(acting_world, catalog):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    page = client.get(reverse("portal:apply", args=[catalog.social.item.code])).content.decode()
    assert re.search(r'name="acting_for" value="self" checked', page)


def test_a_mandate_that_does_not_cover_the_item_keeps_self_as_the_default(acting_world, catalog):
    lin, chen, huang, wu, a, b = acting_world
    Mandate.objects.filter(company=a, agent=chen).delete()
    _mandate(a, chen, items=[catalog.social.item.standard])  # another item only
    client = _client(chen)
    assert client.post(ACTING_URL, {"company": a.pk, "next": "/"}).status_code == 302
    page = client.get(reverse("portal:apply", args=[catalog.food.item.code])).content.decode()
    assert re.search(r'name="acting_for" value="self" checked', page)
    assert f'name="acting_for" value="{a.pk}"' not in page  # not offered for this item at all


def test_the_workbench_header_shows_the_company(acting_world, catalog):
    lin, chen, huang, wu, a, b = acting_world
    StaffRole.objects.create(user=chen.user, role=Role.COUNTER_CLERK, department=catalog.county_market)
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/workbench/"})
    r = client.get("/workbench/")
    assert r.status_code == 200
    area = _account_area(r.content.decode())
    assert f"代表 {a.name}" in area and f'value="{a.pk}"' in area


def test_my_cases_shows_the_companys_cases_while_acting(world):  # noqa: F811
    from tests.cases.conftest import submitted_case
    from yiwang.identity.synthetic import demo_companies

    code = demo_companies()[0].credit_code
    company = Company.objects.create(name="榕味餐饮", credit_code=code, legal_representative=world.person)
    for_company = submitted_case(world, acting_for=company)
    own = submitted_case(world)
    client = _client(world.person)
    html = client.get("/my/cases/").content.decode()
    assert for_company.number in html and own.number in html and 'id="case-scope"' not in html
    r = client.post(ACTING_URL, {"company": company.pk, "next": "/my/cases/"})
    assert r.status_code == 302, r.content.decode()[-800:]
    html = client.get("/my/cases/").content.decode()
    assert "代表榕味" in html or "代表 榕味" in html, _account_area(html)
    assert for_company.number in html and own.number not in html
    assert "显示代表榕味餐饮办理的办件" in html and 'href="?scope=all"' in html
    html = client.get("/my/cases/?scope=all").content.decode()
    assert for_company.number in html and own.number in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Act as", "Myself", "acting for ", "Account menu: 陈雅婷, acting for "]),
        ("zh-hant", ["切換身份", "個人", "帳戶選單："]),
    ],
)
def test_the_acting_menu_is_translated(acting_world, language, words):
    lin, chen, huang, wu, a, b = acting_world
    client = _client(chen)
    client.post(ACTING_URL, {"company": a.pk, "next": "/"})
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    area = _account_area(client.get("/items/").content.decode())
    for word in words:
        assert word in area, (language, word)
    refused = client.post(ACTING_URL, {"company": b.pk, "next": "/"}).content.decode()
    assert ("You may not act for this company" if language == "en" else "您不能代表該單位辦事") in refused


def test_the_bundle_start_form_preselects_the_company(db, settings):
    from tests.portal.bundle_world import build_bundle_world
    from yiwang.identity.synthetic import demo_companies

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = build_bundle_world()
    person = w.applicant.person
    company = Company.objects.create(
        name="闽味小馆有限公司", credit_code=demo_companies()[0].credit_code, legal_representative=person
    )
    client = _client(person)
    url = reverse("portal:bundle_start", args=[w.bundle.code]) + "?entity_type=company&signage=yes"
    client.post(ACTING_URL, {"company": company.pk, "next": "/"})
    version = w.bundle.item.current_version
    assert not version.for_company  # 我要开餐馆 is for people: 本人 stays preselected
    page = client.get(url).content.decode()
    assert f'name="acting_for" value="{company.pk}"' in page
    assert re.search(r'name="acting_for" value="self" checked', page)
    type(version).objects.filter(pk=version.pk).update(for_company=True)
    page = client.get(url).content.decode()
    assert re.search(rf'name="acting_for" value="{company.pk}" checked', page)
    assert not re.search(r'name="acting_for" value="self" checked', page)
