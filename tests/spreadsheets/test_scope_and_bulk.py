from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from tests.spreadsheets.conftest import good_row, read_sheet, row_values, write_xlsx

from yiwang.catalog.models import ImportRun, ServiceItem, StandardItem, StandardMaterial
from yiwang.catalog.spreadsheets import export_items, import_items, write_report
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, Region, RegionLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_admin(world):
    user = get_user_model().objects.create_user("gulou", password="x" * 12, is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN, department=world["county_scj"])
    return user


def test_scope_enforced_per_row(world, county_admin, tmp_path):
    rows = [
        good_row(world),  # 鼓楼区市场监管: in scope
        good_row(world, standard="01020000200", region="350100", name="越权修改"),  # 福州市: out of scope
        good_row(world, standard="01020000200", region="350200"),  # 厦门市: out of scope, new
    ]
    result = import_items(write_xlsx(tmp_path / "in.xlsx", rows), user=county_admin)
    assert result.created == 1 and result.failed == 2
    assert [(e.row, e.column) for e in result.errors] == [(3, "D"), (4, "D")]
    assert result.errors[0].message == "您无权管理“福州市市场监督管理局”的实施清单，本行未导入。"
    world["item2"].refresh_from_db()
    assert world["item2"].name == ""
    assert not ServiceItem.objects.filter(region=world["other_city"]).exists()
    assert ImportRun.objects.get(pk=result.run.pk).user == county_admin


def test_staff_without_any_role_imports_nothing(world, tmp_path):
    user = get_user_model().objects.create_user("nobody", password="x" * 12, is_staff=True)
    result = import_items(write_xlsx(tmp_path / "in.xlsx", [good_row(world)]), user=user)
    assert result.created == 0 and result.failed == 1
    assert "无权管理" in result.errors[0].message


def test_export_for_user_is_limited_to_scope(world, county_admin, tmp_path):
    out = tmp_path / "mine.xlsx"
    assert export_items(out, user=county_admin) == 1
    assert read_sheet(out)[1][0] == world["item"].code


def _province(n_counties: int, n_standards: int) -> tuple[list[Region], list[StandardItem]]:
    city = Region.objects.get(code="350100")
    counties = [
        Region.objects.create(
            code=f"3501{20 + i:02d}", name=f"测试县{i}", level=RegionLevel.COUNTY, parent=city
        )
        for i in range(n_counties)
    ]
    Department.objects.bulk_create(
        Department(region=c, kind="scjgj", code="001", name=f"{c.name}市场监督管理局", phone="0591-1")
        for c in counties
    )
    StandardItem.objects.bulk_create(
        StandardItem(
            basic_code=f"01020{1000 + i:04d}00",
            name=f"测试许可{i}",
            item_type="licensing",
            department_kind="scjgj",
            audience="company",
            legal_basis="《测试条例》",
            statutory_limit_days=20,
            levels="234",
        )
        for i in range(n_standards)
    )
    standards = list(StandardItem.objects.filter(basic_code__startswith="010201"))
    StandardMaterial.objects.bulk_create(
        StandardMaterial(standard=s, name="申请书", sort=1) for s in standards
    )
    return counties, standards


def test_thousand_rows_with_bad_rows_sprinkled(world, tmp_path):
    counties, standards = _province(10, 100)
    rows, bad_rows, good_codes, bad_codes = [], {}, set(), set()
    defects = [
        ({"promised_limit_days": 21}, "N", "承诺时限须为不超过法定时限的整数"),
        ({"online_depth": "五级"}, "X", "不是可选值"),
        ({"statutory_limit_days": "二十"}, "M", "应填写整数"),
        ({"department": "099"}, "D", "没有部门代码为“099”的部门"),
        ({"materials": "申请书|原件|零"}, "AD", "第1条材料"),
        ({"name": "长" * 300}, "F", "超过了 200 字的上限"),
    ]
    for std in standards:
        for county in counties:
            n = len(rows)
            excel_row = n + 2
            code = f"{std.basic_code}{county.code}000001"
            cells = {
                "standard": std.basic_code,
                "region": county.code,
                "department": "001",
                "name": f"{std.name}（{county.name}）",
                "promised_limit_days": 10,
                "online_depth": "全程网办（四级）",
                "channels": "网上办事大厅",
                "consult_phone": "0591-1",
                "materials": "申请书|原件|1|必要|申请人自备\n身份证|电子件|1|必要|电子证照||居民身份证",
                "steps": "受理|是|窗口|1|\n决定|是|负责人|2|",
            }
            if n % 17 == 5:
                over, column, fragment = defects[(n // 17) % len(defects)]
                cells.update(over)
                bad_rows[excel_row] = (column, fragment)
                bad_codes.add(code)
            else:
                good_codes.add(code)
            rows.append(row_values(**cells))
    path = write_xlsx(tmp_path / "big.xlsx", rows)

    started = time.monotonic()
    result = import_items(path)
    elapsed = time.monotonic() - started
    print(
        f"\nimported {result.total} rows ({result.created} created, {result.failed} failed) in {elapsed:.1f}s"
    )

    assert result.total == 1000
    assert result.created == len(good_codes) and result.failed == len(bad_rows) == 59
    assert (
        set(ServiceItem.objects.filter(code__in=good_codes | bad_codes).values_list("code", flat=True))
        == good_codes
    )
    assert {e.row for e in result.errors} == set(bad_rows)
    for e in result.errors:
        column, fragment = bad_rows[e.row]
        assert e.column == column and fragment in e.message, (e, column, fragment)
    item = ServiceItem.objects.get(code=sorted(good_codes)[0])
    assert [m.name for m in item.materials.all()] == ["申请书", "身份证"]
    assert item.materials.get(name="申请书").standard_material_id is not None

    # The report: one line per error with row, column, header and message.
    report = tmp_path / "report.xlsx"
    write_report(ImportRun.objects.get(pk=result.run.pk), report)
    summary = dict(read_sheet(report, "导入结果"))
    assert (summary["总行数"], summary["成功行数"], summary["失败行数"]) == (1000, 941, 59)
    lines = read_sheet(report, "错误报告")
    assert lines[0] == ("行号", "列", "列名", "实施编码", "错误信息")
    assert len(lines) == 60
    first_bad = min(bad_rows)
    assert lines[1][:3] == (first_bad, bad_rows[first_bad][0], "承诺办结时限（工作日）")
    assert bad_rows[first_bad][1] in lines[1][4]

    # Importing the same file again changes nothing and fails the same rows.
    again = import_items(path)
    assert (again.unchanged, again.failed, again.created, again.updated) == (941, 59, 0, 0)
