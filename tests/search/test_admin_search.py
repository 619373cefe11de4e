"""The back office's item list searches with the portal's search: 社保 finds the social security
card item there too (its name says 社会保障, only its aliases say 社保)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests import factories as f
from tests.identity.auth.helpers import login_with_second_factor
from yiwang.catalog.models import ServiceItem

pytestmark = pytest.mark.django_db


def _listed(client, q: str) -> set[int]:
    resp = client.get(reverse("admin:catalog_serviceitem_changelist"), {"q": q})
    assert resp.status_code == 200
    return {obj.pk for obj in resp.context["cl"].result_list}


def test_admin_item_search_uses_the_portal_search(client, catalogue):
    root = get_user_model().objects.create_superuser("root", password="pw-123456789")
    login_with_second_factor(client, root)
    social = catalogue.items["social_card_county"]
    assert _listed(client, "社保") == {social.pk}
    assert _listed(client, "shebao") == {social.pk}  # pinyin, as on the portal
    # Codes and unpublished drafts are still found by the admin's own match.
    assert _listed(client, social.code) == {social.pk}
    draft = f.implementation(
        f.standard_item("99001000100", name="草稿测试事项"), catalogue.depts["market_county"]
    )
    assert ServiceItem.objects.get(pk=draft.pk).current_version_id is None
    assert _listed(client, "草稿测试") == {draft.pk}
    assert _listed(client, "没有这种事项") == set()
