from __future__ import annotations

import pytest

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.deviations import deviation_report
from yiwang.catalog.models import ItemMaterial

pytestmark = pytest.mark.django_db


def test_same_standard_has_no_deviation_and_changes_are_listed():
    regions = f.region_tree()
    std = f.standard_item()
    same = f.implementation(std, f.department(regions["county"]))
    services.publish(same)
    other = f.implementation(std, f.department(regions["city"], code="002"), extra_conditions="须为本市户籍")
    ItemMaterial.objects.create(item=other, name="房产证明", requirement="required", sort=5)
    ItemMaterial.objects.filter(item=other, name="营业执照").update(form="copy")
    ItemMaterial.objects.filter(item=other, name="食品经营许可申请书").delete()
    other.statutory_limit_days = 30
    other.save()
    services.publish(other)

    rows = list(deviation_report())
    assert all(r.code == other.code for r in rows)
    kinds = {(r.element, r.kind) for r in rows}
    assert ("extra_conditions", "added") in kinds
    assert ("materials", "added") in kinds
    assert ("materials", "removed") in kinds
    assert ("materials.form", "changed") in kinds
    assert ("statutory_limit_days", "changed") in kinds
    form = next(r for r in rows if r.element == "materials.form")
    assert form.standard_value == "电子件" and form.item_value == "复印件"
