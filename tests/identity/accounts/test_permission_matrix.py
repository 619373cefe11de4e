"""Permission matrix: every staff role and scope against catalogue records of its own and of
other departments and regions; every person against other people's accounts and companies.
Each cell is asserted both ways: what is inside the scope is allowed (so the test can fail),
everything across a boundary is refused."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests import factories
from yiwang.catalog import services as catalog
from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import NotPermitted
from yiwang.identity import services
from yiwang.identity.models import Mandate, Role, StaffRole
from yiwang.identity.selectors import can_manage_department, department_scope_q
from yiwang.regions.models import DepartmentKind, Region, RegionLevel

pytestmark = pytest.mark.django_db

# --- staff --------------------------------------------------------------------------------------


@pytest.fixture
def world():
    r = factories.region_tree()
    r["siming"] = Region.objects.create(
        code="350203", name="思明区", level=RegionLevel.COUNTY, parent=r["other_city"]
    )
    depts = {
        "gulou_market": factories.department(r["county"], code="001"),
        "gulou_health": factories.department(r["county"], kind=DepartmentKind.HEALTH, code="002"),
        "fuzhou_market": factories.department(r["city"], code="003"),
        "xiamen_market": factories.department(r["other_city"], code="004"),
        "siming_market": factories.department(r["siming"], code="005"),
    }
    market = factories.standard_item("01020000100")
    health = factories.standard_item(
        "01030000100", name="医疗机构执业登记", department_kind=DepartmentKind.HEALTH
    )
    standards = {k: health if k == "gulou_health" else market for k in depts}
    # One existing implementation per department, created by the system, to publish.
    items = {k: factories.implementation(standards[k], d) for k, d in depts.items()}
    return {"regions": r, "depts": depts, "standards": standards, "items": items}


# scope name → (role, region key or None, department key or None)
SCOPES = {
    "catalogue@gulou_market": (Role.CATALOGUE_ADMIN, "county", "gulou_market"),
    "catalogue@gulou": (Role.CATALOGUE_ADMIN, "county", None),
    "catalogue@fuzhou": (Role.CATALOGUE_ADMIN, "city", None),
    "catalogue@xiamen": (Role.CATALOGUE_ADMIN, "other_city", None),
    "catalogue@province": (Role.CATALOGUE_ADMIN, "province", None),
    "platform_admin": (Role.PLATFORM_ADMIN, None, None),
    **{
        f"{role}@province": (role, "province", None)
        for role in (
            Role.COUNTER_CLERK,
            Role.APPROVER,
            Role.DEPARTMENT_HEAD,
            Role.SUPERVISOR,
            Role.DATA_ADMIN,
        )
    },
    "no_role": (None, None, None),
}
ALL = {"gulou_market", "gulou_health", "fuzhou_market", "xiamen_market", "siming_market"}
# Which departments' catalogue each scope may edit; everything else must be refused.
MAY_EDIT = {
    "catalogue@gulou_market": {"gulou_market"},
    "catalogue@gulou": {"gulou_market", "gulou_health"},
    "catalogue@fuzhou": {"gulou_market", "gulou_health", "fuzhou_market"},
    "catalogue@xiamen": {"xiamen_market", "siming_market"},
    "catalogue@province": ALL,
    "platform_admin": ALL,
}


def staff(world, scope: str):
    role, region, dept = SCOPES[scope]
    user = get_user_model().objects.create_user(username=scope.replace("@", "-"), is_staff=True)
    if role:
        StaffRole.objects.create(
            user=user,
            role=role,
            region=world["regions"][region] if region else None,
            department=world["depts"][dept] if dept else None,
        )
    return user


@pytest.mark.parametrize("scope", list(SCOPES))
def test_catalogue_edits_follow_the_scope(world, scope):
    user = staff(world, scope)
    allowed = MAY_EDIT.get(scope, set())
    for key, dept in world["depts"].items():
        item = world["items"][key]
        assert can_manage_department(user, dept) == (key in allowed), (scope, key)
        if key in allowed:
            assert catalog.publish(item, user=user).number == 1
        else:
            with pytest.raises(NotPermitted):
                catalog.publish(item, user=user)
            with pytest.raises(NotPermitted):
                catalog.withdraw(item, user=user, reason="x")
            with pytest.raises(NotPermitted):
                catalog.mark_changed(item, user=user)
    # Claiming a standard item for a department: a second implementation is refused as a
    # duplicate inside the scope, but as not permitted outside it (permission comes first).
    for key, dept in world["depts"].items():
        if key not in allowed:
            with pytest.raises(NotPermitted):
                catalog.create_implementation(standard=world["standards"][key], department=dept, user=user)
    assert ServiceItem.objects.count() == 5


# For the work roles, the department scope decides which items' records they see (inbox, lists).
SEE = {
    ("approver", "gulou_market"): {"gulou_market"},
    ("approver", "county"): {"gulou_market", "gulou_health"},
    ("approver", "city"): {"gulou_market", "gulou_health", "fuzhou_market"},
    ("approver", "other_city"): {"xiamen_market", "siming_market"},
    ("approver", "province"): ALL,
}


@pytest.mark.parametrize(("role", "where"), list(SEE))
def test_department_scope_of_work_roles(world, role, where):
    user = get_user_model().objects.create_user(username=f"{role}-{where}")
    if where in world["depts"]:
        dept = world["depts"][where]
        StaffRole.objects.create(user=user, role=role, region=dept.region, department=dept)
    else:
        StaffRole.objects.create(user=user, role=role, region=world["regions"][where])
    visible = set(
        ServiceItem.objects.filter(department_scope_q(user, role)).values_list("department__code", flat=True)
    )
    expected = {world["depts"][k].code for k in SEE[(role, where)]}
    assert visible == expected
    # The same user holds no other role: nothing under another role's scope.
    for other in (Role.COUNTER_CLERK, Role.SUPERVISOR, Role.CATALOGUE_ADMIN):
        assert not ServiceItem.objects.filter(department_scope_q(user, other)).exists()


def test_inactive_or_anonymous_staff_see_nothing(world):
    user = staff(world, "catalogue@province")
    user.is_active = False
    user.save()
    assert not can_manage_department(user, world["depts"]["gulou_market"])
    assert not ServiceItem.objects.filter(department_scope_q(user, Role.CATALOGUE_ADMIN)).exists()


# --- people and companies -----------------------------------------------------------------------


@pytest.fixture
def setting(companies, people):
    """Company A (legal rep 林晓峰) gave 陈雅婷 an all-items mandate; company B (legal rep
    黄志明) gave 吴建国 one for a single item, and 陈雅婷 an expired and a revoked one."""
    a, b = companies
    lin, chen, huang, wu = people
    item = factories.standard_item("01020000100")
    now = timezone.now()
    m_a = services.grant_mandate(
        company=a,
        by=lin,
        agent_id_number=services.id_number_of(chen),
        all_items=True,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )
    m_b = services.grant_mandate(
        company=b,
        by=huang,
        agent_id_number=services.id_number_of(wu),
        standard_items=[item],
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )
    expired = services.grant_mandate(
        company=b,
        by=huang,
        agent_id_number=services.id_number_of(chen),
        all_items=True,
        starts_at=now - dt.timedelta(days=40),
        ends_at=now + dt.timedelta(days=1),
    )
    Mandate.objects.filter(pk=expired.pk).update(ends_at=now - dt.timedelta(days=1))
    revoked = services.grant_mandate(
        company=b,
        by=huang,
        agent_id_number=services.id_number_of(lin),
        all_items=True,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=10),
    )
    services.revoke_mandate(revoked, by=huang)
    return {"a": a, "b": b, "people": people, "item": item, "m_a": m_a, "m_b": m_b, "expired": expired,
            "revoked": revoked}  # fmt: skip


def test_acting_scope_matrix(setting):
    lin, chen, huang, wu = setting["people"]
    a, b, item = setting["a"], setting["b"], setting["item"]
    other_item = factories.standard_item("01020000200", name="酒类经营许可")
    may_act = {(lin, a), (chen, a), (huang, b), (wu, b)}
    for person, company in itertools.product(setting["people"], (a, b)):
        assert bool(services.acting_scope(person, company)) == ((person, company) in may_act), (
            person,
            company,
        )
    assert services.acting_scope(wu, b, item) and not services.acting_scope(wu, b, other_item)
    assert services.acting_scope(chen, a, other_item)  # all items
    assert not services.acting_scope(None, a)


def test_mandate_management_matrix(setting):
    lin, chen, huang, wu = setting["people"]
    a, b = setting["a"], setting["b"]
    mandates = [setting[k] for k in ("m_a", "m_b", "expired", "revoked")]
    for person in setting["people"]:
        for m in mandates:
            if services.is_legal_representative(person, m.company):
                continue
            with pytest.raises(NotPermitted):
                services.revoke_mandate(m, by=person)
        for company in (a, b):
            if services.is_legal_representative(person, company):
                continue
            with pytest.raises(NotPermitted):
                services.grant_mandate(company=company, by=person, agent_id_number=services.id_number_of(wu),
                                       all_items=True, starts_at=timezone.now(),
                                       ends_at=timezone.now() + dt.timedelta(days=1))  # fmt: skip
    assert Mandate.objects.filter(revoked_at__isnull=True).count() == 3
    assert Mandate.objects.count() == 4


def test_pages_refuse_other_peoples_records(setting):
    lin, chen, huang, wu = setting["people"]
    a, b = setting["a"], setting["b"]
    clients = {}
    for p in setting["people"]:
        clients[p.pk] = Client()
        clients[p.pk].force_login(p.user)
    visible = {  # who may open which mandate's page: the company's legal rep and the agent
        "m_a": {lin, chen},
        "m_b": {huang, wu},
        "expired": {huang, chen},
        "revoked": {huang, lin},
    }
    for key, who in visible.items():
        m = setting[key]
        for p in setting["people"]:
            resp = clients[p.pk].get(f"/account/mandates/{m.pk}/")
            assert resp.status_code == (200 if p in who else 404), (key, p.name)
            if not services.is_legal_representative(p, m.company):
                assert clients[p.pk].post(f"/account/mandates/{m.pk}/revoke/").status_code == 404
    assert Mandate.objects.filter(revoked_at__isnull=True).count() == 3

    # The account page shows only one's own data and one's own companies' mandates.
    for p in setting["people"]:
        html = clients[p.pk].get("/account/").content.decode()
        assert p.id_number_masked in html
        for other in setting["people"]:
            if other != p:
                assert other.phone_masked not in html
        if p == chen:
            assert "厦门市思明区海峡贸易有限公司" in html  # received (expired) from B: visible to her
            assert f'id="revoke-{setting["m_b"].pk}"' not in html
        if p == huang:
            assert f'id="mandate-{setting["m_a"].pk}"' not in html

    # Granting for another company through the form: its id is not a valid choice.
    today = timezone.localdate()
    resp = clients[huang.pk].post(
        "/account/mandates/grant/",
        {"company": a.pk, "agent_id_number": services.id_number_of(wu), "all_items": "on",
         "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=5)).isoformat()},
    )  # fmt: skip
    assert resp.status_code == 400
    assert not Mandate.objects.filter(company=a, agent=wu).exists()
    # A person who represents no company gets no grant form and cannot post one.
    resp = clients[wu.pk].post(
        "/account/mandates/grant/",
        {"company": b.pk, "agent_id_number": services.id_number_of(chen), "all_items": "on",
         "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=5)).isoformat()},
    )  # fmt: skip
    assert resp.status_code == 400
    assert Mandate.objects.count() == 4
