"""A small published catalogue: a few standard items implemented in a few regions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.models import ServiceItem, StandardMaterial
from yiwang.regions.models import Department, Region


@dataclass
class Catalogue:
    regions: dict[str, Region]
    depts: dict[str, Department]
    items: dict[str, ServiceItem]


def _standard(basic_code: str, materials: list[str], **kw):
    std = f.standard_item(basic_code, **kw)
    StandardMaterial.objects.filter(standard=std).delete()
    for i, name in enumerate(materials):
        StandardMaterial.objects.create(standard=std, name=name, sort=i)
    return std


def build_catalogue() -> Catalogue:
    regions = f.region_tree()
    depts = {
        "police_county": f.department(regions["county"], kind="gaj", code="002", name="福州市公安局鼓楼分局"),
        "police_city": f.department(regions["city"], kind="gaj", code="002", name="福州市公安局"),
        "police_xm": f.department(regions["other_city"], kind="gaj", code="002", name="厦门市公安局"),
        "hr_county": f.department(
            regions["county"], kind="rsj", code="003", name="鼓楼区人力资源和社会保障局"
        ),
        "hr_prov": f.department(
            regions["province"], kind="rsj", code="003", name="福建省人力资源和社会保障厅"
        ),
        "market_county": f.department(
            regions["county"], kind="scjgj", code="001", name="鼓楼区市场监督管理局"
        ),
    }
    passport = _standard(
        "01006000100",
        ["居民身份证", "近期免冠照片"],
        name="普通护照签发",
        aliases="护照办理、办护照",
        item_type="licensing",
        department_kind="gaj",
        audience="person",
        legal_basis="《中华人民共和国护照法》第五条",
        acceptance_conditions="中国公民因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国的。",
        levels="23",
        result_name="中华人民共和国普通护照",
    )
    work_permit = _standard(
        "01007000300",
        ["申请人护照或国际旅行证件", "工作资历证明", "最高学位（学历）证书"],
        name="外国人来华工作许可",
        aliases="",
        item_type="licensing",
        department_kind="rsj",
        audience="company",
        legal_basis="《中华人民共和国出境入境管理法》第四十一条",
        acceptance_conditions="用人单位依法设立，无严重违法失信记录。",
        levels="123",
        result_name="外国人工作许可证",
    )
    social_card = _standard(
        "11007000100",
        ["居民身份证", "近期免冠照片"],
        name="社会保障卡申领",
        aliases="社保卡申领、社保卡办理",
        item_type="public_service",
        department_kind="rsj",
        audience="person",
        legal_basis="《中华人民共和国社会保险法》第五十八条",
        acceptance_conditions="参加本省社会保险的人员。",
        levels="123",
        result_name="社会保障卡",
        statutory_limit_days=20,
    )
    registration = _standard(
        "02007000200",
        ["营业执照", "劳动合同"],
        name="职工参保登记",
        aliases="",
        item_type="confirmation",
        department_kind="rsj",
        audience="company",
        legal_basis="《社会保险费征缴暂行条例》第七条",
        acceptance_conditions="用人单位招用职工之日起三十日内。",
        levels="123",
        result_name="",
    )
    id_card = _standard(
        "02006000100",
        ["户口簿", "近期免冠照片"],
        name="居民身份证换领",
        aliases="",
        item_type="confirmation",
        department_kind="gaj",
        audience="person",
        legal_basis="《中华人民共和国居民身份证法》第十一条",
        acceptance_conditions="居民身份证有效期满的。",
        levels="23",
        result_name="居民身份证",
    )
    food = f.standard_item()  # 食品经营许可, company, market regulation
    items = {
        "passport_county": f.implementation(passport, depts["police_county"]),
        "passport_city": f.implementation(passport, depts["police_city"]),
        "passport_xm": f.implementation(passport, depts["police_xm"]),
        "work_permit_prov": f.implementation(work_permit, depts["hr_prov"]),
        "social_card_county": f.implementation(social_card, depts["hr_county"]),
        "registration_county": f.implementation(registration, depts["hr_county"]),
        "id_card_county": f.implementation(id_card, depts["police_county"]),
        "food_county": f.implementation(food, depts["market_county"]),
    }
    for item in items.values():
        services.publish(item, actor_label="test")
        item.refresh_from_db()
    return Catalogue(regions=regions, depts=depts, items=items)


@pytest.fixture
def catalogue(db) -> Catalogue:
    return build_catalogue()
