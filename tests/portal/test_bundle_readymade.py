"""The ready-made bundles the generator makes in every prefecture (and load_demo uses): 多评合一
with seven assessments by seven departments, the import single window with customs and commerce,
and the two life events with their questionnaires; forms overlap, so the combined form is
smaller than the members' forms together."""

from __future__ import annotations

import pytest

from yiwang.bundles import demo, readymade, services
from yiwang.bundles.models import Bundle
from yiwang.catalog.generator import generate_province
from yiwang.catalog.models import ServiceItem
from yiwang.regions.models import Region


@pytest.mark.django_db
def test_generator_builds_every_prefectures_bundles(tmp_path):
    generate_province(items=150, cities=1, townships=(1, 2), work_dir=tmp_path, bundles=True)
    bundles = {b.code.split("-")[0]: b for b in Bundle.objects.select_related("lead_department", "item")}
    assert set(bundles) == {"dphy", "dycl", "kcg", "csl"}
    for b in bundles.values():
        assert b.published and b.item.current_version_id is not None
        assert all(m.item.current_version_id for m in b.members.select_related("item"))
    assessments = bundles["dphy"]
    depts = {m.item.department.kind for m in assessments.members.select_related("item__department")}
    assert len(depts) == 7 and assessments.lead_department.name == "福州市发展和改革委员会"
    names = {m.item.current_version.name for m in assessments.members.select_related("item__current_version")}
    assert {"固定资产投资项目节能审查", "建设项目文物影响评估审查", "建设项目交通影响评价审查"} <= names
    assert assessments.members.filter(advisory=True).count() == 2
    window = bundles["dycl"]
    assert window.lead_department.name == "福州海关" and window.lead_department.region.code == "350100"
    kinds = sorted(m.item.department.kind for m in window.members.select_related("item__department"))
    assert kinds == ["hg", "hg", "swj"]
    # Shared data: the importer and the contract are asked and uploaded once for all three.
    trade = window.materials.get(name="进口贸易合同")
    assert len(trade.mapping) == 3
    assert len(window.fields.get(key="importer").mapping) == 3
    restaurant, newborn = bundles["kcg"], bundles["csl"]
    assert restaurant.lead_department.region.code == "350102"
    assert [q.key for q in restaurant.questions.all()] == ["entity_type", "signage"]
    no_sign = services.applicable_members(restaurant, {"entity_type": "individual", "signage": "no"})
    assert {m.item.current_version.name for m in no_sign} == {"个体工商户设立登记", "食品经营许可（新办）"}
    kept = services.applicable_members(newborn, {"has_birth_cert": "yes", "insure": "yes"})
    assert {m.item.current_version.name for m in kept} == {"出生登记", "城乡居民基本医疗保险参保登记"}
    # Overlapping forms: every member of 多评合一 asks the project's ten fields; asked once.
    member_fields = sum(len(m.form["schema"]["properties"]) for m in readymade.COMBINED_ASSESSMENT.members)
    assert assessments.fields.count() < member_fields - 50
    # The newborn's medical insurance asks "联系电话" under another key: merged by title and type.
    phone = newborn.fields.get(key="phone")
    assert "guardian_phone" in phone.mapping.values()


@pytest.mark.django_db
def test_ready_made_bundles_are_idempotent(tmp_path):
    generate_province(items=120, cities=1, townships=(1, 1), work_dir=tmp_path, bundles=True)
    items, bundles = ServiceItem.objects.count(), Bundle.objects.count()
    demo.create_region_bundles(Region.objects.get(code="350100"))
    assert (ServiceItem.objects.count(), Bundle.objects.count()) == (items, bundles)
