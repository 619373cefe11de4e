"""A small published catalogue, built through the catalogue services as the back office would."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.models import LifeEvent, StandardMaterial
from yiwang.regions.models import DepartmentKind


@pytest.fixture(autouse=True)
def _fresh_throttle_counts_and_language():
    # Throttle counts are reset by the suite's conftest (reset_rate_limits); the answers' cache
    # starts empty too.
    cache.clear()
    yield
    cache.clear()
    # A request in English or Traditional Chinese leaves that language active in the thread;
    # later tests (in any package) expect the default.
    translation.deactivate()


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker):
    """Built once per test module inside a transaction that is rolled back at the end; each
    test still runs in its own savepoint (``django_db``), so what a test writes is undone."""
    with django_db_blocker.unblock(), rolled_back():
        yield _build()


@contextmanager
def rolled_back():
    outer = transaction.atomic()
    outer.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _build() -> SimpleNamespace:
    r = f.region_tree()
    d = SimpleNamespace(
        city_scj=f.department(r["city"], DepartmentKind.MARKET_REGULATION, "001"),
        city_gaj=f.department(r["city"], DepartmentKind.PUBLIC_SECURITY, "002"),
        county_scj=f.department(r["county"], DepartmentKind.MARKET_REGULATION, "001"),
        town=f.department(r["town"], DepartmentKind.TOWNSHIP_OFFICE, "001"),
        xm_mzj=f.department(r["other_city"], DepartmentKind.CIVIL_AFFAIRS, "001"),
        prov_scj=f.department(r["province"], DepartmentKind.MARKET_REGULATION, "001"),
    )
    company_theme = f.theme("c01", "准营准办", "company")
    person_theme = f.theme("p01", "婚姻家庭", "person")

    food = f.standard_item("01020000100")
    food.themes.set([company_theme])
    food_production = f.standard_item("01020000200", name="食品生产许可")
    id_card = f.standard_item(
        "11030000100",
        name="居民身份证换领",
        legal_basis="《中华人民共和国居民身份证法》",
        acceptance_conditions="居民身份证有效期满。",
        aliases="换身份证、身份证到期换证",
        item_type="public_service",
        department_kind=DepartmentKind.PUBLIC_SECURITY,
        audience="person",
        statutory_limit_days=None,
        levels="1234",
    )
    marriage = f.standard_item(
        "02040000100",
        name="婚姻登记",
        legal_basis="《婚姻登记条例》",
        acceptance_conditions="男女双方自愿结婚。",
        item_type="confirmation",
        department_kind=DepartmentKind.CIVIL_AFFAIRS,
        aliases="结婚登记",
        audience="both",
        statutory_limit_days=None,
        levels="23",
    )
    marriage.themes.set([person_theme])
    # The factory gives every standard item the food licence's materials; give these their own
    # so that a search for 食品 finds only food items.
    for std, material in ((id_card, "原居民身份证"), (marriage, "户口簿")):
        std.materials.all().delete()
        StandardMaterial.objects.create(standard=std, name=material, form="original")
    event = LifeEvent.objects.create(code="e01", name="开办餐馆", audience="company", description="一次办好")
    event.standard_items.set([food, food_production])

    items = SimpleNamespace(
        food_city=f.implementation(food, d.city_scj),
        food_county=f.implementation(food, d.county_scj),
        food_town=f.implementation(food, d.town),
        id_city=f.implementation(id_card, d.city_gaj, online_depth=2),
        marriage_xm=f.implementation(
            marriage, d.xm_mzj, promised_limit_days=None, is_instant=True, online_depth=1
        ),
        draft=f.implementation(food_production, d.city_scj),
        withdrawn=f.implementation(food_production, d.county_scj),
    )
    for key in ("food_city", "food_county", "food_town", "id_city", "marriage_xm", "withdrawn"):
        services.publish(getattr(items, key), actor_label="test")
    services.withdraw(items.withdrawn, reason="机构调整")
    # A second version of one item, so that it has a change list.
    items.food_city.promised_limit_days = 8
    items.food_city.save()
    services.publish(items.food_city, actor_label="test")

    return SimpleNamespace(
        regions=r,
        departments=d,
        standards=SimpleNamespace(
            food=food, food_production=food_production, id_card=id_card, marriage=marriage
        ),
        themes=SimpleNamespace(company=company_theme, person=person_theme),
        event=event,
        items=items,
    )
