"""Fixtures for the cases tests: a published item in 鼓楼区, an applicant with a verified
account, and staff of the implementing department (and of another department and region)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import factories
from tests.pdfs import PDF  # noqa: F401  (re-exported: the tests import it from here)
from yiwang.catalog import services as catalog
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.synthetic import demo_people, ensure_demo_registry, register_through_fake_sms
from yiwang.worktime.selectors import invalidate_calendar

PASSWORD = "Yiwang-test-2026!"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YIWANG_NOTIFIERS = {
        "sms": "yiwang.cases.notifiers.FakeSmsGateway",
        "email": "yiwang.cases.notifiers.FakeEmailGateway",
    }
    from yiwang.cases.notifiers import FakeEmailGateway, FakeSmsGateway

    FakeSmsGateway.sent.clear()
    FakeEmailGateway.sent.clear()
    invalidate_calendar()
    yield
    invalidate_calendar()


@dataclass
class World:
    regions: dict
    dept: object
    other_dept: object
    far_dept: object
    item: object
    instant_item: object
    applicant: object
    person: object
    clerk: object
    approver: object
    head: object
    approver2: object
    other_dept_approver: object
    far_clerk: object
    outsider: object


def staff(username: str, role: str, *, department=None, region=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    StaffRole.objects.create(user=user, role=role, department=department, region=region)
    return user


@pytest.fixture
def world(db) -> World:
    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    other_dept = factories.department(regions["county"], kind="gaj", code="002")
    far_dept = factories.department(regions["other_city"])
    std = factories.standard_item()
    item = factories.implementation(std, dept, promised_limit_days=10)
    catalog.publish(item)
    std2 = factories.standard_item("01020000200", name="个体工商户名称登记", statutory_limit_days=None)
    instant = factories.implementation(std2, dept, is_instant=True, promised_limit_days=None)
    catalog.publish(instant)
    item.refresh_from_db()
    instant.refresh_from_db()

    ensure_demo_registry()
    p = demo_people()[1]
    person = register_through_fake_sms(
        username="applicant", password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )
    person.verified_at = timezone.now()
    person.save(update_fields=["verified_at"])
    return World(
        regions=regions,
        dept=dept,
        other_dept=other_dept,
        far_dept=far_dept,
        item=item,
        instant_item=instant,
        applicant=person.user,
        person=person,
        clerk=staff("clerk", Role.COUNTER_CLERK, department=dept),
        approver=staff("approver", Role.APPROVER, department=dept),
        head=staff("head", Role.DEPARTMENT_HEAD, department=dept),
        approver2=staff("approver2", Role.APPROVER, department=dept),
        other_dept_approver=staff("otherdept", Role.APPROVER, department=other_dept),
        far_clerk=staff("farclerk", Role.COUNTER_CLERK, region=regions["other_city"]),
        outsider=get_user_model().objects.create_user(username="outsider", password=PASSWORD),
    )


def pdf_upload(name: str = "申请书.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def filled_application(w: World, item=None, **kw):
    from yiwang.cases import services

    app = services.start_application(w.applicant, item or w.item, **kw)
    services.save_draft(app, user=w.applicant, data={**app.data, "reason": "开办餐饮店"})
    for m in services.required_materials(app):
        if m["source"] == "applicant":
            services.upload_material(app, requirement=m["name"], uploaded=pdf_upload(), user=w.applicant)
        else:
            services.upload_material(
                app, requirement=m["name"], uploaded=pdf_upload("执照.pdf"), user=w.applicant
            )
    return app


def submitted_case(w: World, item=None, **kw):
    from yiwang.cases import services

    return services.submit(filled_application(w, item, **kw), user=w.applicant)


def png_bytes() -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make("x").save(buf, kind="png")
    return buf.getvalue()
