"""A small world for the bundle page tests: 鼓楼区 with the restaurant bundle (我要开餐馆) built
by the ready-made bundle module, its staff, and a verified applicant."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories
from tests.pdfs import PDF  # noqa: F401  (re-exported: the tests import it from here)
from yiwang.bundles import demo, readymade
from yiwang.bundles.models import Bundle
from yiwang.catalog.generator.standards import load_standard_catalogue
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.synthetic import demo_people, ensure_demo_registry, register_through_fake_sms
from yiwang.regions.models import DepartmentKind

PASSWORD = "Yiwang-test-2026!"


@dataclass
class BundleWorld:
    regions: dict
    bundle: Bundle
    market: object  # 鼓楼区市场监督管理局 (lead)
    housing: object  # 鼓楼区住房和城乡建设局 (signage)
    police: object  # a department with no branch in the bundle
    applicant: object
    clerk: object
    approver: object
    head: object
    housing_approver: object
    housing_head: object
    police_approver: object
    supervisor: object


def staff(username: str, role: str, *, department=None, region=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    StaffRole.objects.create(user=user, role=role, department=department, region=region)
    return user


def build_bundle_world() -> BundleWorld:
    regions = factories.region_tree()
    county = regions["county"]
    market = factories.department(county, name="鼓楼区市场监督管理局")
    housing = factories.department(
        county, kind=DepartmentKind.HOUSING, code="010", name="鼓楼区住房和城乡建设局"
    )
    police = factories.department(
        county, kind=DepartmentKind.PUBLIC_SECURITY, code="003", name="福州市公安局鼓楼分局"
    )
    load_standard_catalogue()
    bundle = demo.create_bundle(readymade.RESTAURANT, county)
    ensure_demo_registry()
    p = demo_people()[1]
    person = register_through_fake_sms(
        username="applicant", password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )
    person.verified_at = timezone.now()
    person.save(update_fields=["verified_at"])
    return BundleWorld(
        regions=regions,
        bundle=bundle,
        market=market,
        housing=housing,
        police=police,
        applicant=person.user,
        clerk=staff("clerk", Role.COUNTER_CLERK, department=market),
        approver=staff("approver", Role.APPROVER, department=market),
        head=staff("head", Role.DEPARTMENT_HEAD, department=market),
        housing_approver=staff("zjj_approver", Role.APPROVER, department=housing),
        housing_head=staff("zjj_head", Role.DEPARTMENT_HEAD, department=housing),
        police_approver=staff("gaj_approver", Role.APPROVER, department=police),
        supervisor=staff("supervisor", Role.SUPERVISOR, region=regions["city"]),
    )
