"""A small published catalogue for the portal tests, built through the catalogue services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.models import LifeEvent, ServiceItem, ServiceItemVersion, Theme
from yiwang.regions.models import Department, DepartmentKind, Region


@dataclass
class PortalCatalog:
    regions: dict[str, Region]
    food: ServiceItemVersion  # 食品经营许可, county, company, published twice
    social: ServiceItemVersion  # 社会保险参保登记, city, person
    passport: ServiceItemVersion  # 普通护照签发, city, person
    draft: ServiceItem  # claimed but never published
    person_theme: Theme
    company_theme: Theme
    life_event: LifeEvent
    county_market: Department


def build_catalog() -> PortalCatalog:
    cache.clear()
    regions = f.region_tree()
    county_market = f.department(regions["county"])
    city_hr = f.department(
        regions["city"], kind=DepartmentKind.HUMAN_RESOURCES, code="002", name="福州市人力资源和社会保障局"
    )
    city_police = f.department(
        regions["city"], kind=DepartmentKind.PUBLIC_SECURITY, code="003", name="福州市公安局"
    )
    person_theme = f.theme("p01", "社会保障", "person")
    company_theme = f.theme("c01", "准营准办", "company")

    food_std = f.standard_item()
    food_std.themes.add(company_theme)
    social_std = f.standard_item(
        "02007000100",
        name="社会保险参保登记",
        aliases="社保登记、参保",
        item_type="confirmation",
        department_kind=DepartmentKind.HUMAN_RESOURCES,
        audience="person",
        legal_basis="《中华人民共和国社会保险法》第五十七条",
        statutory_limit_days=15,
        levels="1234",
    )
    social_std.themes.add(person_theme)
    passport_std = f.standard_item(
        "11004000300",
        name="普通护照签发",
        aliases="护照、出国护照",
        item_type="public_service",
        department_kind=DepartmentKind.PUBLIC_SECURITY,
        audience="person",
        legal_basis="《中华人民共和国护照法》",
        statutory_limit_days=15,
        levels="123",
    )
    event = LifeEvent.objects.create(
        code="e01", name="开办餐厅", audience="company", description="一次办好餐厅开业所需事项"
    )
    event.standard_items.add(food_std)

    food_item = f.implementation(food_std, county_market, fee_required=False)
    services.publish(food_item, actor_label="测试")
    ServiceItem.objects.filter(pk=food_item.pk).update(promised_limit_days=5)
    food = services.publish(ServiceItem.objects.get(pk=food_item.pk), actor_label="测试")
    social = services.publish(
        f.implementation(social_std, city_hr, promised_limit_days=5, onsite_visits=0), actor_label="测试"
    )
    passport = services.publish(
        f.implementation(
            passport_std,
            city_police,
            promised_limit_days=7,
            online_depth=2,
            onsite_visits=1,
            onsite_reason="需现场采集人像和指纹",
        ),
        actor_label="测试",
    )
    draft = f.implementation(f.standard_item("01020000200", name="未发布的草稿事项"), county_market)
    return PortalCatalog(
        regions=regions,
        food=food,
        social=social,
        passport=passport,
        draft=draft,
        person_theme=person_theme,
        company_theme=company_theme,
        life_event=event,
        county_market=county_market,
    )


@pytest.fixture
def catalog(db) -> PortalCatalog:
    return build_catalog()
