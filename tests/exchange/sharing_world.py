"""A small world for the sharing catalogue and grants: a county's market-regulation bureau (the
provider of the legal-entity registry) and public-security bureau (the consumer), another city's
bureau, their data administrators, staff without the role, and one published item."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from tests import factories
from yiwang.catalog import services as catalog
from yiwang.exchange import catalogue
from yiwang.exchange.catalogue import FieldInput, ResourceInput
from yiwang.identity.models import Role, StaffRole

PASSWORD = "Yiwang-test-2026!"
TODAY = dt.date(2026, 6, 1)

FIELDS = [
    FieldInput("credit_code", "统一社会信用代码", "string", "public"),
    FieldInput("name", "企业名称", "string", "public"),
    FieldInput("legal_representative", "法定代表人", "string", "personal_sensitive"),
    FieldInput("address", "住所", "string", "personal_sensitive"),
    FieldInput("registered_capital", "注册资本", "decimal", "internal"),
]


def resource_input(sharing_type: str = "conditional", **kw) -> ResourceInput:
    defaults = {
        "name": "企业登记基本信息",
        "registry": "legal_entity",
        "update_cycle": "realtime",
        "sharing_type": sharing_type,
        "fields": FIELDS,
        "description": "市场主体登记的基本信息",
        "legal_basis": "《市场主体登记管理条例》",
        "sharing_reason": "" if sharing_type == "unconditional" else "涉及个人信息，须说明用途",
    }
    defaults.update(kw)
    return ResourceInput(**defaults)


def staff(username: str, role: str, *, department=None, region=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    StaffRole.objects.create(user=user, role=role, department=department, region=region)
    return user


@dataclass
class Sharing:
    regions: dict
    owner: object  # 鼓楼区市场监督管理局
    consumer: object  # 鼓楼区公安局
    far: object  # 厦门市市场监督管理局
    owner_admin: object
    consumer_admin: object
    far_admin: object
    county_admin: object  # data admin for every department of 鼓楼区
    clerk: object  # counter clerk of the owner
    platform_admin: object
    item: object


@pytest.fixture
def sharing(db, settings) -> Sharing:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    regions = factories.region_tree()
    owner = factories.department(regions["county"])
    consumer = factories.department(regions["county"], kind="gaj", code="002")
    far = factories.department(regions["other_city"])
    std = factories.standard_item(
        "01020000500", name="户籍迁入登记", department_kind="gaj", audience="person"
    )
    item = factories.implementation(std, consumer, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    return Sharing(
        regions=regions,
        owner=owner,
        consumer=consumer,
        far=far,
        owner_admin=staff("owner_admin", Role.DATA_ADMIN, department=owner),
        consumer_admin=staff("consumer_admin", Role.DATA_ADMIN, department=consumer),
        far_admin=staff("far_admin", Role.DATA_ADMIN, department=far),
        county_admin=staff("county_admin", Role.DATA_ADMIN, region=regions["county"]),
        clerk=staff("clerk", Role.COUNTER_CLERK, department=owner),
        platform_admin=staff("platform_admin", Role.PLATFORM_ADMIN),
        item=item,
    )


def register(s: Sharing, sharing_type: str = "conditional", **kw):
    return catalogue.register(s.owner_admin, s.owner, resource_input(sharing_type, **kw))
