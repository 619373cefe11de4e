"""Small builders for tests: a region tree, departments, standard items and published items."""

from __future__ import annotations

from typing import Any

from yiwang.catalog import services
from yiwang.catalog.models import ServiceItem, StandardItem, StandardMaterial, Theme
from yiwang.regions.models import Department, DepartmentKind, Region, RegionLevel


def region_tree() -> dict[str, Region]:
    prov = Region.objects.create(code="350000", name="福建省", level=RegionLevel.PROVINCE)
    city = Region.objects.create(code="350100", name="福州市", level=RegionLevel.CITY, parent=prov)
    county = Region.objects.create(code="350102", name="鼓楼区", level=RegionLevel.COUNTY, parent=city)
    town = Region.objects.create(code="350102001", name="鼓东街道", level=RegionLevel.TOWNSHIP, parent=county)
    other_city = Region.objects.create(code="350200", name="厦门市", level=RegionLevel.CITY, parent=prov)
    return {"province": prov, "city": city, "county": county, "town": town, "other_city": other_city}


def department(
    region: Region, kind: str = DepartmentKind.MARKET_REGULATION, code: str = "001", name: str | None = None
) -> Department:
    return Department.objects.create(
        region=region,
        kind=kind,
        code=code,
        name=name or f"{region.name}{DepartmentKind(kind).label}局",
        phone="0591-12345",
    )


def standard_item(basic_code: str = "01020000100", **kw: Any) -> StandardItem:
    defaults: dict[str, Any] = {
        "name": "食品经营许可",
        "aliases": "食品经营许可证",
        "item_type": "licensing",
        "department_kind": DepartmentKind.MARKET_REGULATION,
        "audience": "company",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "acceptance_conditions": "具有与经营的食品品种、数量相适应的经营场所。",
        "statutory_limit_days": 20,
        "levels": "234",
    }
    defaults.update(kw)
    std = StandardItem.objects.create(basic_code=basic_code, **defaults)
    StandardMaterial.objects.create(
        standard=std, name="食品经营许可申请书", form="original", copies=1, sort=1
    )
    StandardMaterial.objects.create(
        standard=std,
        name="营业执照",
        form="electronic",
        source="e_certificate",
        certificate_type="营业执照",
        sort=2,
    )
    return std


GOOD_ELEMENTS: dict[str, Any] = {
    "promised_limit_days": 10,
    "online_depth": 4,
    "onsite_visits": 0,
    "channels": ["web", "mobile", "counter"],
    "consult_phone": "0591-12345",
    "complaint_phone": "12345",
    "where_to_apply": "鼓楼区政务服务中心一楼综合窗口",
}


def implementation(std: StandardItem, dept: Department, **kw: Any) -> ServiceItem:
    elements = dict(GOOD_ELEMENTS)
    elements.update(kw)
    return services.create_implementation(standard=std, department=dept, **elements)


def theme(code: str = "c01", name: str = "准营准办", audience: str = "company") -> Theme:
    return Theme.objects.create(code=code, name=name, audience=audience)
