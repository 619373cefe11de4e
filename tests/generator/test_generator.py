"""The province generator and the demo loader, on a small province (one city)."""

from __future__ import annotations

import hashlib
import io
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from yiwang.catalog.generator import generate_province
from yiwang.catalog.generator.names import credit_code
from yiwang.catalog.models import ItemStatus, ServiceItem, ServiceItemVersion, StandardItem, Synonym
from yiwang.catalog.rules import publication_errors
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, Region, RegionLevel, ServiceHall

SMALL = {"items": 300, "cities": 1, "townships": (2, 4)}


def _fingerprint() -> str:
    rows = ServiceItemVersion.objects.order_by("code").values_list(
        "code", "name", "online_depth", "elements__promised_limit_days", "elements__onsite_visits"
    )
    regions = Region.objects.order_by("code").values_list("code", "name")
    return hashlib.sha256(repr((list(rows), list(regions))).encode()).hexdigest()


@pytest.mark.django_db
def test_small_province_is_complete_and_publishable(tmp_path):
    # Generate, fingerprint and roll back, then generate again with the same seed: same data.
    with transaction.atomic():
        generate_province(**SMALL, seed=7, work_dir=tmp_path)
        first = _fingerprint()
        transaction.set_rollback(True)
    assert not ServiceItem.objects.exists()
    report = generate_province(**SMALL, seed=7, work_dir=tmp_path)
    assert _fingerprint() == first
    assert report.items == 300 and report.published == 300
    items = ServiceItem.objects.select_related("region", "current_version", "standard", "department")
    assert items.count() == 300
    # Every level carries items, and the counties carry most of them.
    assert set(report.items_by_level) == {1, 2, 3, 4}
    assert report.items_by_level[3] > report.items_by_level[2] > report.items_by_level[1]
    codes = [i.code for i in items]
    assert len(set(codes)) == 300
    for item in items:
        assert len(item.code) == 23 and item.code.isdigit()
        assert item.code == f"{item.standard.basic_code}{item.region.code9}{item.department.code}"
        assert str(item.region.level) in item.standard.levels
        assert item.status == ItemStatus.PUBLISHED and item.current_version is not None
        elements = item.current_version.elements
        assert publication_errors(elements) == []
        if elements["promised_limit_days"] and elements["statutory_limit_days"]:
            assert elements["promised_limit_days"] <= elements["statutory_limit_days"]
        assert elements["halls"], item.code
    # Townships come from the CSV import: 9-digit codes under their county.
    townships = Region.objects.filter(level=RegionLevel.TOWNSHIP)
    assert townships.exists()
    assert all(len(t.code) == 9 and t.code[:6] == t.parent.code for t in townships.select_related("parent"))
    assert (tmp_path / "townships-350000.csv").read_text(encoding="utf-8").startswith("code,name,parent_code")
    # Only the first city was kept; every region has a hall and departments.
    assert Region.objects.filter(level=RegionLevel.CITY).count() == 1
    assert ServiceHall.objects.count() == Region.objects.count()
    assert Department.objects.get(region__code="350102", kind="scjgj").name == "鼓楼区市场监督管理局"
    assert Department.objects.get(region__code="350100", kind="gaj").name == "福州市公安局"
    assert StandardItem.objects.count() >= 500
    assert Synonym.objects.filter(term="身份证").exists()


def test_another_seed_gives_other_townships_and_elements(tmp_path):
    """The seed reaches the generated parts (the same seed giving the same data is checked above)."""
    from yiwang.catalog.generator.regions import write_townships_csv
    from yiwang.regions.models import Region as R

    county = R(code="350121", name="闽侯县", level=3)
    texts = []
    for seed in (1, 1, 2):
        write_townships_csv(tmp_path / "t.csv", [county], random.Random(seed), (5, 15))
        texts.append((tmp_path / "t.csv").read_text(encoding="utf-8"))
    assert texts[0] == texts[1] != texts[2]
    assert "城关镇" in texts[0]  # a county's first town


@pytest.mark.django_db
def test_too_many_items_is_refused_with_a_clear_message(tmp_path):
    from yiwang.core.errors import DomainError

    with pytest.raises(DomainError, match="超过了本省可生成的上限"):
        generate_province(items=10_000_000, cities=1, townships=(2, 3), work_dir=tmp_path)
    assert not ServiceItem.objects.exists()
    assert not Region.objects.exists()  # one transaction: nothing half-written


def test_credit_codes_carry_valid_check_characters():
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    code = credit_code("350102", random.Random(1))
    assert len(code) == 18 and code.startswith("11350102")
    total = sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    assert chars.index(code[17]) == (31 - total % 31) % 31


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_prints_logins():
    out = io.StringIO()
    call_command("load_demo", items=200, cities=1, no_progress=True, stdout=out)
    text = out.getvalue()
    assert "yiwang-admin-2026" in text and "yiwang-sheng-2026" in text and "yiwang-xian-2026" in text
    # 200 generated, plus the ready-made bundles' items (their own and members claimed for them)
    items = ServiceItem.objects.count()
    assert items >= 200
    users = get_user_model().objects.count()
    xian = StaffRole.objects.get(user__username="xian", role=Role.CATALOGUE_ADMIN)
    assert xian.department.name == "鼓楼区市场监督管理局"
    assert get_user_model().objects.get(username="admin").is_superuser
    assert get_user_model().objects.get(username="sheng").check_password("yiwang-sheng-2026")
    # The rest of the demo: applicants, staff for cases, the city portal client, admin TOTP.
    assert "linxf" in text and "clerk" in text and "city-portal-fuzhou" in text
    assert "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in text
    from yiwang.cases.models import Case
    from yiwang.identity.models import TotpDevice

    cases = Case.objects.count()
    assert cases >= 5
    assert TotpDevice.objects.filter(user__username="admin", confirmed_at__isnull=False).exists()
    # The base registries: the demo's people and companies, and their owners' data administrators.
    from yiwang.exchange import registries
    from yiwang.exchange.models import RegistryCounter
    from yiwang.identity.synthetic import demo_people

    assert RegistryCounter.objects.get(registry="population").records >= 2000 and "renkou" in text
    lin = demo_people()[0]
    assert registries.lookup("population", [lin.id_number], ["name"])[lin.id_number][0]["name"] == lin.name
    assert TotpDevice.objects.filter(user__username="renkou", confirmed_at__isnull=False).exists()

    out = io.StringIO()
    call_command("load_demo", items=200, cities=1, no_progress=True, stdout=out)
    assert "已存在" in out.getvalue() and "yiwang-admin-2026" in out.getvalue()
    assert ServiceItem.objects.count() == items
    assert get_user_model().objects.count() == users
    assert Case.objects.count() == cases


@pytest.mark.django_db
def test_departments_and_halls_entered_before_are_kept(tmp_path):
    from yiwang.regions.services import load_gbt2260

    load_gbt2260("350000")
    gulou = Region.objects.get(code="350102")
    mine = Department.objects.create(
        region=gulou, kind="scjgj", code="018", name="鼓楼区市场监管局（手工录入）"
    )
    clash = Department.objects.create(
        region=gulou, kind="gaj", code="004", name="福州市公安局鼓楼分局（手工录入）"
    )
    hall = ServiceHall.objects.create(region=gulou, name="鼓楼区政务服务中心", address="福州市鼓楼区")
    report = generate_province(items=150, cities=1, townships=(1, 2), work_dir=tmp_path, seed=3)
    assert report.published == 150
    assert Department.objects.filter(region=gulou, kind="scjgj").get() == mine
    assert Department.objects.filter(region=gulou, kind="gaj").get() == clash
    # 004 (民政's usual code) was taken by the hand-entered police bureau: 民政 got a free code.
    codes = list(Department.objects.filter(region=gulou).values_list("code", flat=True))
    assert Department.objects.get(region=gulou, kind="mzj").code not in {"018", "004"}
    assert len(codes) == len(set(codes)) == 24
    assert list(ServiceHall.objects.filter(region=gulou)) == [hall]
    assert set(ServiceItem.objects.filter(region=gulou).values_list("halls", flat=True)) <= {hall.pk}


@pytest.mark.django_db
def test_province_with_bundles_has_exactly_the_items_asked_for(tmp_path):
    """The bundle step claims members the draw did not make and adds each bundle's own item;
    the province still ends with the number of items asked for, all published."""
    from yiwang.bundles.models import Bundle

    report = generate_province(items=150, cities=1, townships=(1, 2), work_dir=tmp_path, seed=3, bundles=True)
    assert Bundle.objects.filter(published=True).count() == 4
    assert ServiceItem.objects.count() == 150
    assert report.items == 150 == sum(report.items_by_level.values())
    assert report.published == 150
    assert not ServiceItem.objects.filter(current_version__isnull=True).exists()
    codes = list(ServiceItem.objects.values_list("code", flat=True))
    assert len(set(codes)) == len(codes)


@pytest.mark.django_db
def test_too_few_items_for_the_bundles_is_refused_with_a_clear_message(tmp_path):
    from yiwang.core.errors import DomainError

    with pytest.raises(DomainError, match="至少需要 21 个事项"):
        generate_province(items=20, cities=1, townships=(1, 1), work_dir=tmp_path, bundles=True)
    assert not ServiceItem.objects.exists()
    assert not Region.objects.exists()
