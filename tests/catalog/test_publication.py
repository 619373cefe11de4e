from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.models import ItemMaterial, ItemStatus, ProcessStep, ServiceItem, ServiceItemVersion
from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role, StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    regions = f.region_tree()
    dept = f.department(regions["county"])
    std = f.standard_item()
    return regions, dept, std


def test_claim_computes_code_and_inherits(setup):
    regions, dept, std = setup
    item = f.implementation(std, dept)
    assert item.code == "01020000100" + "350102000" + "001"
    assert len(item.code) == 23
    assert [m.name for m in item.materials.all()] == ["食品经营许可申请书", "营业执照"]
    e = services.effective_elements(item)
    assert e["name"] == "食品经营许可"
    assert e["legal_basis"].startswith("《中华人民共和国食品安全法》")
    assert e["statutory_limit_days"] == 20
    assert e["approval_steps"] == 4  # 受理 审查 现场核查/专家评审 决定 of the template; 送达 does not count
    assert e["aliases"] == ["食品经营许可证"]


def test_township_code_uses_nine_digits(setup):
    regions, _, _ = setup
    std = f.standard_item(
        "11150000200",
        name="老年人优待证办理",
        item_type="public_service",
        department_kind="mzj",
        audience="person",
        statutory_limit_days=5,
        levels="34",
    )
    town_office = f.department(regions["town"], kind="xzzf", code="001")
    item = f.implementation(std, town_office)
    assert item.code[11:20] == "350102001"


def test_claim_refuses_wrong_kind_and_level(setup):
    regions, dept, std = setup
    police = f.department(regions["county"], kind="gaj", code="002")
    with pytest.raises(ValidationFailed) as exc:
        services.create_implementation(standard=std, department=police)
    assert "不能由" in exc.value.errors[0].message
    prov_dept = f.department(regions["province"])
    with pytest.raises(ValidationFailed) as exc:
        services.create_implementation(standard=std, department=prov_dept)
    assert exc.value.errors[0].field == "region"


def test_claim_twice_is_refused(setup):
    _, dept, std = setup
    f.implementation(std, dept)
    with pytest.raises(DomainError):
        f.implementation(std, dept)
    assert ServiceItem.objects.count() == 1


def test_publish_creates_version_and_audits(setup):
    _, dept, std = setup
    item = f.implementation(std, dept)
    v1 = services.publish(item)
    assert v1.number == 1 and v1.is_current
    assert v1.changes[0]["label"] == "首次发布"
    assert v1.for_company and not v1.for_person
    assert v1.region_path == "350000/350100/350102/"
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED and item.current_version == v1
    assert AuditEntry.objects.filter(action="catalog.item.publish", object_id=str(item.pk)).exists()


def test_republish_keeps_previous_and_lists_changes(setup):
    _, dept, std = setup
    item = f.implementation(std, dept)
    v1 = services.publish(item)
    item.promised_limit_days = 5
    item.save()
    ItemMaterial.objects.filter(item=item, name="营业执照").update(copies=2)
    ItemMaterial.objects.create(item=item, name="健康证明", requirement="conditional", sort=9)
    services.mark_changed(item, changed_fields=["promised_limit_days"])
    item.refresh_from_db()
    assert item.status == ItemStatus.CHANGED
    v2 = services.publish(item)
    assert v2.number == 2
    v1.refresh_from_db()
    assert not v1.is_current and v1.elements["promised_limit_days"] == 10
    labels = {c["label"]: c for c in v2.changes}
    assert labels["承诺办结时限"]["old"] == "10个工作日" and labels["承诺办结时限"]["new"] == "5个工作日"
    assert labels["申请材料「营业执照」份数"]["new"] == "2"
    assert any(c["new"] == "新增：健康证明" for c in v2.changes)
    assert ServiceItemVersion.objects.filter(item=item).count() == 2
    assert ServiceItemVersion.objects.filter(item=item, is_current=True).count() == 1


def test_publish_unchanged_is_idempotent(setup):
    _, dept, std = setup
    item = f.implementation(std, dept)
    v1 = services.publish(item)
    v_again = services.publish(item)
    assert v_again.pk == v1.pk
    assert ServiceItemVersion.objects.filter(item=item).count() == 1


@pytest.mark.parametrize(
    ("elements", "field", "fragment"),
    [
        ({"promised_limit_days": 25}, "promised_limit_days", "不得超过法定办结时限"),
        ({"is_instant": True, "promised_limit_days": 3}, "promised_limit_days", "即办件"),
        ({"online_depth": 4, "onsite_visits": 1, "onsite_reason": "核验原件"}, "onsite_visits", "全程网办"),
        ({"online_depth": 3, "onsite_visits": 1, "onsite_reason": ""}, "onsite_reason", "原因"),
        ({"fee_required": False, "online_payment": True}, "online_payment", "不收费事项"),
        ({"promised_limit_days": None}, "promised_limit_days", "承诺件须填写"),
        ({"fee_required": True, "fee_standard": "", "fee_basis": ""}, "fee_basis", "收费标准和收费依据"),
        ({"channels": []}, "channels", "办理渠道"),
        ({"consult_phone": ""}, "consult_phone", "咨询电话"),
    ],
)
def test_publication_rules_refuse_each_inconsistency(setup, elements, field, fragment):
    _, dept, std = setup
    dept.phone = ""
    dept.save()
    item = f.implementation(std, dept, **elements)
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item)
    matching = [e for e in exc.value.errors if e.field == field]
    assert matching, exc.value.errors
    assert fragment in matching[0].message
    assert not ServiceItemVersion.objects.filter(item=item).exists()
    assert AuditEntry.objects.filter(action="catalog.item.publish_refused").exists()


def test_a_step_note_the_process_lacks_is_refused(setup):
    _, dept, std = setup
    steps = [{"name": f"审查{i}", "is_approval": True} for i in range(2)]
    item = f.implementation(std, dept, steps=steps)
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item)
    (error,) = [e for e in exc.value.errors if e.code == "step_not_in_process"]
    assert "审查0、审查1" in error.message
    assert "受理、审查、现场核查/专家评审、决定、送达" in error.message


def test_one_message_per_broken_rule(setup):
    _, dept, std = setup
    item = f.implementation(
        std,
        dept,
        promised_limit_days=30,
        online_depth=4,
        onsite_visits=2,
        onsite_reason="",
        online_payment=True,
    )
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item)
    codes = {e.code for e in exc.value.errors}
    assert {
        "promised_exceeds_statutory",
        "fully_online_with_visits",
        "visits_without_reason",
        "free_with_payment",
    } <= codes
    assert len(codes) == len(exc.value.errors)


def test_department_admin_scope(setup):
    regions, dept, std = setup
    other = f.department(regions["other_city"], code="001")
    user = get_user_model().objects.create_user("admin_gl", password="x" * 12, is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN, department=dept, region=dept.region)
    mine = services.create_implementation(standard=std, department=dept, user=user, **f.GOOD_ELEMENTS)
    services.publish(mine, user=user)
    with pytest.raises(NotPermitted):
        services.create_implementation(standard=std, department=other, user=user, **f.GOOD_ELEMENTS)
    theirs = f.implementation(std, other)
    with pytest.raises(NotPermitted):
        services.publish(theirs, user=user)
    # A role at a city covers the counties below it.
    city_admin = get_user_model().objects.create_user("admin_fz", password="x" * 12, is_staff=True)
    StaffRole.objects.create(user=city_admin, role=Role.CATALOGUE_ADMIN, region=regions["city"])
    services.publish(mine, user=city_admin)
    with pytest.raises(NotPermitted):
        services.publish(theirs, user=city_admin)


def test_withdraw_needs_reason_and_hides(setup):
    _, dept, std = setup
    item = f.implementation(std, dept)
    services.publish(item)
    with pytest.raises(DomainError):
        services.withdraw(item, reason=" ")
    services.withdraw(item, reason="事项取消")
    assert not ServiceItemVersion.objects.filter(item=item, is_current=True).exists()
    # Publishing again restores it as a new version.
    v = services.publish(item)
    assert v.number == 2 and v.is_current


def test_bulk_publish_skips_bad_items(setup):
    regions, dept, std = setup
    std2 = f.standard_item("01020000200", name="食品生产许可")
    good = f.implementation(std, dept)
    bad = f.implementation(std2, dept, promised_limit_days=99)
    n = services.bulk_publish([good, bad])
    assert n == 1
    good.refresh_from_db()
    assert good.current_version is not None and good.status == ItemStatus.PUBLISHED
    assert not ServiceItemVersion.objects.filter(item=bad).exists()
    entry = AuditEntry.objects.get(action="catalog.item.bulk_publish")
    assert bad.code in entry.detail["refused"]
    assert services.bulk_publish([good]) == 0  # unchanged: no new version


def test_steps_default_for_instant(setup):
    _, dept, std = setup
    item = f.implementation(std, dept, is_instant=True, promised_limit_days=None)
    assert [s.name for s in ProcessStep.objects.filter(item=item)] == ["受理", "决定", "送达"]
    v = services.publish(item)
    assert v.elements["is_instant"] is True


def test_deleting_an_item_removes_it_from_search(setup):
    from yiwang.catalog.search import search_items

    _, dept, std = setup
    item = f.implementation(std, dept)
    services.publish(item)
    assert search_items("食品经营").total == 1
    ServiceItemVersion.objects.filter(item=item).delete()
    ServiceItem.objects.filter(pk=item.pk).delete()
    result = search_items("食品经营")
    assert result.total == 0 and result.items == []


# A province's cap on promised limits (settings.YIWANG_PROMISE_CAP_PERCENT, Fujian: 60 %).


def _item_with_promise(std, dept, days: int) -> ServiceItem:
    item = f.implementation(std, dept)
    ServiceItem.objects.filter(pk=item.pk).update(promised_limit_days=days)
    item.refresh_from_db()
    return item


@pytest.mark.parametrize("days", [1, 12])  # statutory 20: 12 is exactly 60 %
def test_promise_within_provincial_cap_is_published(setup, settings, days):
    settings.YIWANG_PROMISE_CAP_PERCENT = 60
    _, dept, std = setup
    item = _item_with_promise(std, dept, days)
    services.publish(item, actor_label="test")
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED


def test_promise_over_provincial_cap_is_refused_naming_both_figures(setup, settings):
    settings.YIWANG_PROMISE_CAP_PERCENT = 60
    _, dept, std = setup
    item = _item_with_promise(std, dept, 13)
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item, actor_label="test")
    [error] = [e for e in exc.value.errors if e.code == "promised_over_provincial_cap"]
    assert error.field == "promised_limit_days"
    assert error.message == "承诺时限 13 个工作日超过法定时限 20 个工作日的 60%（本省上限）。"
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT and item.current_version_id is None


def test_no_cap_by_default_and_no_double_report(setup, settings):
    settings.YIWANG_PROMISE_CAP_PERCENT = None
    _, dept, std = setup
    services.publish(_item_with_promise(std, dept, 20), actor_label="test")  # equal to statutory
    settings.YIWANG_PROMISE_CAP_PERCENT = 60
    other = f.department(setup[0]["other_city"])
    item = _item_with_promise(std, other, 30)  # over the statutory limit: that rule's message only
    with pytest.raises(ValidationFailed) as exc:
        services.publish(item, actor_label="test")
    codes = [e.code for e in exc.value.errors]
    assert "promised_exceeds_statutory" in codes and "promised_over_provincial_cap" not in codes


def test_cap_setting_is_read_from_the_environment(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from yiwang.settings import _promise_cap_percent

    monkeypatch.delenv("YIWANG_PROMISE_CAP_PERCENT", raising=False)
    assert _promise_cap_percent() is None
    monkeypatch.setenv("YIWANG_PROMISE_CAP_PERCENT", "60%")
    assert _promise_cap_percent() == 60
    for bad in ("0", "101", "sixty"):
        monkeypatch.setenv("YIWANG_PROMISE_CAP_PERCENT", bad)
        with pytest.raises(ImproperlyConfigured):
            _promise_cap_percent()
