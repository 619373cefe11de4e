from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories as f
from tests.identity.auth.helpers import login_with_second_factor
from yiwang.catalog import services
from yiwang.catalog.models import ItemStatus, ServiceItem
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role, StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    regions = f.region_tree()
    mine = f.department(regions["county"])
    theirs = f.department(regions["other_city"])
    std = f.standard_item()
    item_mine = f.implementation(std, mine)
    item_theirs = f.implementation(std, theirs)
    user = get_user_model().objects.create_user("gl_admin", password="pw-123456789", is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN, department=mine, region=mine.region)
    return {
        "regions": regions,
        "mine": mine,
        "theirs": theirs,
        "std": std,
        "item_mine": item_mine,
        "item_theirs": item_theirs,
        "user": user,
    }


def test_department_admin_sees_only_own_items(client, world):
    login_with_second_factor(client, world["user"])
    resp = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert world["item_mine"].code in body
    assert world["item_theirs"].code not in body
    # Opening another department's item by URL is not possible either.
    resp = client.get(reverse("admin:catalog_serviceitem_change", args=[world["item_theirs"].pk]))
    assert resp.status_code == 302 or resp.status_code == 404


def test_department_admin_cannot_edit_standard_items(client, world):
    login_with_second_factor(client, world["user"])
    resp = client.get(reverse("admin:catalog_standarditem_change", args=[world["std"].pk]))
    assert resp.status_code == 200
    assert 'name="name"' not in resp.content.decode()  # read-only view


def test_staff_without_role_is_kept_out(client, world):
    nobody = get_user_model().objects.create_user("nobody", password="pw-123456789", is_staff=True)
    client.force_login(nobody)
    resp = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert resp.status_code == 403


def test_publish_action_reports_each_broken_rule(client, world):
    item = world["item_mine"]
    ServiceItem.objects.filter(pk=item.pk).update(promised_limit_days=30, online_payment=True)
    login_with_second_factor(client, world["user"])
    resp = client.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "publish_selected", "_selected_action": [item.pk]},
        follow=True,
    )
    text = resp.content.decode()
    assert "不得超过法定办结时限" in text and "不收费事项不应开通网上支付" in text
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT


def test_publish_action_publishes_in_scope(client, world):
    login_with_second_factor(client, world["user"])
    resp = client.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "publish_selected", "_selected_action": [world["item_mine"].pk, world["item_theirs"].pk]},
        follow=True,
    )
    assert "已发布 1 个事项" in resp.content.decode()
    world["item_theirs"].refresh_from_db()
    assert world["item_theirs"].current_version is None


def test_deviation_report_page_and_xlsx(client, world):
    item = world["item_mine"]
    item.extra_conditions = "须有本区户籍"
    item.save()
    services.publish(item)
    services.publish(world["item_theirs"])
    login_with_second_factor(client, world["user"])
    url = reverse("admin:catalog_deviations")
    resp = client.get(url)
    text = resp.content.decode()
    assert "须有本区户籍" in text and item.code in text
    resp = client.get(url + "?format=xlsx")
    wb = load_workbook(io.BytesIO(resp.content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "实施编码"
    assert any(r[7] == "须有本区户籍" for r in rows[1:])
    # the other city's item is outside the admin's scope
    assert all(r[0] != world["item_theirs"].code for r in rows[1:])


def test_edit_in_admin_marks_changed_and_audits(client, world):
    item = world["item_mine"]
    services.publish(item)
    superuser = get_user_model().objects.create_superuser("root", password="pw-123456789")
    login_with_second_factor(client, superuser)
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    resp = client.get(url)
    form = resp.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "promised_limit_days": 8,
            "channels": '["web", "counter"]',
            "themes": [],
            "halls": [],
            "materials-TOTAL_FORMS": 0,
            "materials-INITIAL_FORMS": 0,
            "steps-TOTAL_FORMS": 0,
            "steps-INITIAL_FORMS": 0,
        }
    )
    for key in ("standard", "region", "department", "code", "status", "current_version"):
        data.pop(key, None)
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    item.refresh_from_db()
    assert item.promised_limit_days == 8 and item.status == ItemStatus.CHANGED
    assert AuditEntry.objects.filter(action="catalog.item.edit", object_id=str(item.pk)).exists()
