"""The bundles back office: scoped to the lead department's administrators, writes through the
services (rebuild, publish with every problem shown)."""

from __future__ import annotations

from django.urls import reverse

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.bundles.models import Bundle

from .conftest import build_bundle


def test_admin_builds_and_publishes_only_its_departments_bundles(client, bw):
    bundle = build_bundle(bw, publish=False)
    login_with_second_factor(client, bw.admin)
    resp = client.get(reverse("admin:bundles_bundle_change", args=[bundle.pk]))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "项目立项（备案）文件" in body and "鼓楼区生态环境局：环境影响报告书" in body  # materials view
    assert 'name="one_step_branches"' in body  # 多评合一: each department's opinion in one step
    changelist = reverse("admin:bundles_bundle_changelist")
    resp = client.post(
        changelist, {"action": "publish_selected", "_selected_action": [bundle.pk]}, follow=True
    )
    assert "已发布" in resp.content.decode()
    bundle.refresh_from_db()
    assert bundle.published and bundle.item is not None
    # a bad limit is shown next to the field, not a failed save
    resp = client.post(
        reverse("admin:bundles_bundle_add"),
        {
            "code": "x",
            "name": "x",
            "kind": "life_event",
            "audience": "both",
            "lead_department": bw.lead.pk,
            "overall_limit_days": "",
            "outcome_rule": "all_must_approve",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        },
    )
    assert resp.status_code == 200 and "一件事代码应为" in resp.content.decode()
    assert Bundle.objects.count() == 1


def test_other_departments_admin_does_not_see_the_bundle(client, bw):
    bundle = build_bundle(bw, publish=False)
    bw.other_admin.is_staff = True
    bw.other_admin.save(update_fields=["is_staff"])
    login_with_second_factor(client, bw.other_admin)
    resp = client.get(reverse("admin:bundles_bundle_changelist"))
    assert resp.status_code == 200 and bundle.code not in resp.content.decode()
    resp = client.get(reverse("admin:bundles_bundle_change", args=[bundle.pk]))
    assert resp.status_code in (302, 404)
