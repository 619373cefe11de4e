"""The records and accounts the permission matrix is played on (tests/security/permission_table.py
names them; this module builds them with tests/factories.py and the real services).

Two departments of one county (鼓楼区 market regulation, 鼓楼区 public security), one in another
city (厦门市 market regulation); two companies; four people; staff of every role at department,
region and province scope; cases of a person, of a company and of other people, in the
department and in the other city; drafts, mandates, a session, a consent and an import run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from tests import factories
from tests.pdfs import PDF  # noqa: F401  (re-exported: the tests import it from here)
from yiwang.catalog import services as catalog
from yiwang.catalog.models import ImportRun, LifeEvent
from yiwang.identity import services as identity
from yiwang.identity.models import AccountSession, Consent, Role, StaffRole
from yiwang.identity.sessions import ACR
from yiwang.identity.synthetic import (
    demo_companies,
    demo_people,
    ensure_demo_registry,
    register_through_fake_sms,
)

PASSWORD = "Yiwang-test-2026!"


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)  # actor key -> user (None: anonymous)
    objects: dict[str, Any] = field(default_factory=dict)  # record key -> model instance


def _user(username: str, **kw: Any):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **kw)


def _staff(username: str, role: str, *, department=None, region=None, is_staff: bool = False):
    user = _user(username, is_staff=is_staff)
    StaffRole.objects.create(user=user, role=role, department=department, region=region)
    return user


def _person(p, username: str):
    person = register_through_fake_sms(
        username=username, password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )
    person.verified_at = timezone.now()
    person.assurance_level = 3
    person.save(update_fields=["verified_at", "assurance_level"])
    return person


def _filled(user, item, **kw: Any):
    from yiwang.cases import services

    app = services.start_application(user, item, **kw)
    services.save_draft(app, user=user, data={**app.data, "reason": "开办餐饮店"})
    for m in services.required_materials(app):
        services.upload_material(
            app,
            requirement=m["name"],
            uploaded=SimpleUploadedFile("材料.pdf", PDF, content_type="application/pdf"),
            user=user,
        )
    return app


def _case(user, item, **kw: Any):
    from yiwang.cases import notices, services

    case = services.submit(_filled(user, item, **kw), user=user)
    # The receipt is issued after the commit in production; the test transaction never commits.
    notices.issue(case, "receipt")
    return case


def build() -> World:
    from yiwang.cases import services as cases

    w = World()
    r = factories.region_tree()
    dept = factories.department(r["county"])
    other_dept = factories.department(r["county"], kind="gaj", code="002")
    far_dept = factories.department(r["other_city"])
    std = factories.standard_item()
    std_other = factories.standard_item("01020000300", name="食品生产许可")
    item = factories.implementation(std, dept, promised_limit_days=10)
    catalog.publish(item)
    far_item = factories.implementation(std, far_dept, promised_limit_days=10)
    catalog.publish(far_item)
    other_item = factories.implementation(std_other, dept, promised_limit_days=10)
    item.refresh_from_db()
    far_item.refresh_from_db()
    event = LifeEvent.objects.create(code="le01", name="我要开餐馆", audience="company")
    event.standard_items.add(std)

    ensure_demo_registry()
    lin_p, chen_p, huang_p, wu_p = demo_people()
    lin = _person(lin_p, "lin")
    chen = _person(chen_p, "chen")
    huang = _person(huang_p, "huang")
    wu = _person(wu_p, "wu")
    co_a, co_b = demo_companies()
    company_a = identity.register_company(person=lin, credit_code=co_a.credit_code, name=co_a.name)
    company_b = identity.register_company(person=huang, credit_code=co_b.credit_code, name=co_b.name)
    now = timezone.now()
    period = {"starts_at": now - dt.timedelta(days=1), "ends_at": now + dt.timedelta(days=30)}
    mandate_chen = identity.grant_mandate(
        company=company_a, by=lin, agent_id_number=identity.id_number_of(chen), all_items=True, **period
    )
    mandate_wu = identity.grant_mandate(
        company=company_a,
        by=lin,
        agent_id_number=identity.id_number_of(wu),
        standard_items=[std_other],
        **period,
    )
    mandate_b = identity.grant_mandate(
        company=company_b, by=huang, agent_id_number=identity.id_number_of(wu), all_items=True, **period
    )

    province, county, other_city = r["province"], r["county"], r["other_city"]
    w.users = {
        "anonymous": None,
        "applicant": lin.user,
        "agent": chen.user,
        "agent_no_mandate": wu.user,
        "other_person": huang.user,
        "registered_only": _user("plain"),
        "clerk": _staff("clerk", Role.COUNTER_CLERK, department=dept),
        "approver": _staff("approver", Role.APPROVER, department=dept),
        "head": _staff("head", Role.DEPARTMENT_HEAD, department=dept),
        "other_dept_approver": _staff("otherdept", Role.APPROVER, department=other_dept),
        "county_approver": _staff("countyapprover", Role.APPROVER, region=county),
        "far_clerk": _staff("farclerk", Role.COUNTER_CLERK, region=other_city),
        "supervisor": _staff("supervisor", Role.SUPERVISOR, region=r["city"]),
        "catalogue_dept": _staff("catdept", Role.CATALOGUE_ADMIN, department=dept, is_staff=True),
        "catalogue_region": _staff("catregion", Role.CATALOGUE_ADMIN, region=other_city, is_staff=True),
        "catalogue_province": _staff("catprov", Role.CATALOGUE_ADMIN, region=province, is_staff=True),
        "platform_admin": _staff("platform", Role.PLATFORM_ADMIN, is_staff=True),
        "superuser": get_user_model().objects.create_superuser("root", password=PASSWORD),
    }

    case_lin = _case(lin.user, item)
    case_company = _case(lin.user, item, acting_for=company_a)
    case_huang = _case(huang.user, item)
    case_far = _case(huang.user, far_item)
    draft_lin = cases.start_application(lin.user, item)
    draft_huang = cases.start_application(huang.user, item)
    draft_counter = cases.start_application(huang.user, item, channel="counter", entered_by=w.users["clerk"])

    from oauth2_provider.models import Application as OAuthApp

    rp = OAuthApp.objects.create(
        name="福州市网上办事大厅",
        client_id="city-fz",
        client_type=OAuthApp.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthApp.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://rp.test/callback",
    )
    consent_huang = Consent.objects.create(user=huang.user, application=rp, scopes="openid profile")
    session_huang = AccountSession.objects.create(
        user=huang.user, session_key="h" * 40, sid="sid-huang", last_seen_at=now
    )
    run = ImportRun.objects.create(file_name="清单.xlsx", user=w.users["catalogue_dept"], finished_at=now)

    from yiwang.exchange.models import DataResource, ResourceField

    resource = DataResource.objects.create(
        code="350102001-00001",
        name="企业登记基本信息",
        department=dept,
        registry="legal_entity",
        update_cycle="realtime",
        sharing_type="conditional",
        sharing_reason="须说明用途",
    )
    ResourceField.objects.create(
        resource=resource, code="name", name="企业名称", data_type="string", sensitivity="public"
    )

    w.objects = {
        "data_resource": resource,
        "item": item,
        "unpublished_item": other_item,
        "far_item": far_item,
        "life_event": event,
        "case_lin": case_lin,
        "case_company": case_company,
        "case_huang": case_huang,
        "case_far": case_far,
        "draft_lin": draft_lin,
        "draft_huang": draft_huang,
        "draft_counter": draft_counter,
        "mandate_chen": mandate_chen,
        "mandate_wu": mandate_wu,
        "mandate_b": mandate_b,
        "consent_huang": consent_huang,
        "session_huang": session_huang,
        "run_catalogue_dept": run,
        "dept": dept,
        "far_dept": far_dept,
        "rp": rp,
    }
    return w


@contextlib.contextmanager
def built_once(django_db_blocker, media_dir) -> Iterator[World]:
    """The world for a whole test module (a module-scoped fixture's body): built in one
    transaction rolled back at the end, files under ``media_dir``, cheap password hashes."""
    from yiwang.worktime.selectors import invalidate_calendar

    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_dir, PASSWORD_HASHERS=hashers, YIWANG_GUIDE_HEAD_TTL=0),
    ):
        invalidate_calendar()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            invalidate_calendar()


def client_for(user) -> Client:
    """A browser session of ``user`` that has passed the second factor (acr 3), so that the
    back office's second-factor gate and items' step-up do not hide the permission answer."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        session[ACR] = 3
        session.save()
    return client
