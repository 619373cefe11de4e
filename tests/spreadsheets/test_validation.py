"""Each validation: the message names the row (as Excel numbers it), the column and what is wrong,
and a bad row writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.spreadsheets.conftest import good_row, write_xlsx

from yiwang.catalog.models import ImportRun, ServiceItem
from yiwang.catalog.spreadsheets import import_items

pytestmark = pytest.mark.django_db
NEW_CODE = "01020000300" + "350102000" + "001"


def run(tmp_path, rows, **kw):
    return import_items(write_xlsx(tmp_path / "in.xlsx", rows), **kw)


def errors_of(result):
    return [(e.row, e.column, e.header, e.message) for e in result.errors]


def test_good_row_creates_draft(world, tmp_path):
    result = run(tmp_path, [good_row(world, name="食品小作坊登记（鼓楼）")])
    assert result.errors == []
    assert (result.total, result.created) == (1, 1)
    item = ServiceItem.objects.get(code=NEW_CODE)
    assert item.status == "draft" and item.current_version is None
    assert item.name == "食品小作坊登记（鼓楼）"
    assert item.online_depth == 4 and item.channels == ["web", "mobile"]
    assert [m.name for m in item.materials.all()] == ["食品经营许可申请书", "营业执照"]  # from the standard
    assert item.steps.count() == 5  # a note per step of the promise template
    run_row = ImportRun.objects.get(pk=result.run.pk)
    assert (run_row.total_rows, run_row.imported_rows, run_row.failed_rows) == (1, 1, 0)
    assert run_row.finished_at is not None


def test_lenient_forms_are_accepted(world, tmp_path):
    row = good_row(
        world,
        standard=1020000300,  # Excel turned 01020000300 into a number
        region=350102,  # typed as a number
        department=1,  # Excel dropped the zeros of 001
        statutory_limit_days="20",  # number typed as text
        promised_limit_days="5个工作日",
        online_depth="四级",
        is_instant="N",
        fee_required=False,  # a real boolean cell
        audience="自然人,法人",
        item_type="行政许可",
        office_hours=dt.time(8, 30),
        channels="网上办事大厅，移动端;窗口办理",
        min_assurance_level="实名",
    )
    result = run(tmp_path, [row])
    assert result.errors == []
    item = ServiceItem.objects.get(code=NEW_CODE)
    assert item.statutory_limit_days == 20 and item.promised_limit_days == 5
    assert item.audience == "both" and item.item_type == "licensing"
    assert item.office_hours == "08:30"
    assert item.channels == ["web", "mobile", "counter"]
    assert item.min_assurance_level == 2


@pytest.mark.parametrize(
    ("over", "column", "header", "fragment"),
    [
        ({"standard": None}, "B", "基本编码", "基本编码必须填写"),
        ({"standard": "01029999900"}, "B", "基本编码", "基本编码“01029999900”在基本目录中不存在"),
        ({"standard": "0102"}, "B", "基本编码", "应为11位数字"),
        ({"region": "359999"}, "C", "区划代码", "区划代码“359999”不存在"),
        ({"region": "福州"}, "C", "区划代码", "格式不对"),
        ({"department": "009"}, "D", "部门代码", "区划“鼓楼区”（350102）下没有部门代码为“009”的部门"),
        ({"department": "002"}, "D", "部门代码", "不能由鼓楼区公安局实施"),
        ({"region": "350000"}, "D", "部门代码", "下没有部门代码为“001”的部门"),
        ({"statutory_limit_days": "二十"}, "M", "法定办结时限（工作日）", "应填写整数（当前为“二十”）"),
        ({"statutory_limit_days": 2.5}, "M", "法定办结时限（工作日）", "不能有小数"),
        ({"onsite_visits": -1}, "V", "到办事现场次数", "应为 0 到 99 之间的整数"),
        (
            {"statutory_limit_days": dt.datetime(2026, 1, 20)},
            "M",
            "法定办结时限（工作日）",
            "单元格是日期格式（显示为 2026-01-20）",
        ),
        ({"promised_limit_days": 30}, "N", "承诺办结时限（工作日）", "承诺时限须为不超过法定时限的整数"),
        ({"item_type": "行政许可证"}, "H", "事项类型", "“行政许可证”不是可选值，可选：行政许可、行政确认"),
        ({"audience": "外国人"}, "I", "服务对象", "不是可选值"),
        ({"online_depth": "五级"}, "X", "网办深度", "可选：不可网办、网上咨询（一级）"),
        ({"is_instant": "也许"}, "O", "即办件", "应填写“是”或“否”（当前为“也许”）"),
        ({"channels": "飞鸽传书"}, "Y", "办理渠道", "办理渠道“飞鸽传书”不是可选值"),
        ({"name": "长" * 201}, "F", "事项名称", "内容有 201 字，超过了 200 字的上限"),
        ({"consult_phone": "1" * 61}, "AA", "咨询电话", "超过了 60 字的上限"),
        ({"materials": "申请书|原件|两份"}, "AD", "申请材料", "第1条材料“申请书”：应填写整数"),
        ({"materials": "申请书|羊皮卷"}, "AD", "申请材料", "“羊皮卷”不是可选值"),
        ({"materials": "|原件|1"}, "AD", "申请材料", "第1条材料缺少材料名称"),
        ({"steps": "受理|是|窗口|1|标准|多余"}, "AE", "办理流程", "第1个环节有6段"),
        (
            {"min_assurance_level": "刷脸"},
            "AF",
            "最低认证等级",
            "可选：已注册、已实名核验、实名并通过第二因素认证",
        ),
        ({"code": "01020000300350102000002"}, "A", "实施编码", "按这三项应为 " + NEW_CODE),
        ({"code": 3.5e22}, "A", "实施编码", "被 Excel 存成了数字"),
    ],
)
def test_bad_cell_is_reported_and_row_not_written(world, tmp_path, over, column, header, fragment):
    result = run(tmp_path, [good_row(world), good_row(world, **over)])
    # Row 2 is good and imported; row 3 is the same row with one bad cell.
    bad = [e for e in result.errors if e.row == 3]
    assert bad, errors_of(result)
    assert any(e.column == column and e.header == header and fragment in e.message for e in bad), errors_of(
        result
    )
    assert all(e.row == 3 for e in result.errors), errors_of(result)
    assert result.failed == 1 and result.created == 1
    assert ServiceItem.objects.filter(code__startswith="01020000300").count() == 1


def test_level_not_allowed(world, tmp_path):
    from tests import factories as f

    f.department(world["province"], code="001")
    result = run(tmp_path, [good_row(world, region="350000")])
    assert any(e.column == "C" and "不在省级实施" in e.message for e in result.errors), errors_of(result)


def test_bad_update_row_changes_nothing(world, tmp_path):
    item = world["item"]
    # Both a valid change (the name) and an invalid one (promised beyond statutory) in one row.
    row = good_row(world, code=item.code, standard="01020000100", name="改过的名称", promised_limit_days=21)
    result = run(tmp_path, [row])
    assert [(e.row, e.column) for e in result.errors] == [(2, "N")]
    item.refresh_from_db()
    assert item.name == "食品经营许可（鼓楼）" and item.promised_limit_days == 10


def test_promised_checked_against_inherited_statutory(world, tmp_path):
    # No statutory cell: the standard item's 20 days apply.
    row = good_row(world, standard="01020000100", statutory_limit_days=None, promised_limit_days=25)
    result = run(tmp_path, [row])
    assert result.errors[0].message.startswith(
        "承诺时限须为不超过法定时限的整数（承诺 25 个工作日，法定 20 个工作日）"
    )


def test_duplicate_codes_in_file(world, tmp_path):
    code = world["item"].code
    rows = [
        good_row(world, code=code, standard="01020000100"),
        good_row(world, code=code, standard="01020000100"),
        good_row(world),
        good_row(world),  # same standard/region/department without a code: the same item again
    ]
    result = run(tmp_path, rows)
    assert errors_of(result) == [
        (3, "A", "实施编码", f"实施编码 {code} 与第 2 行重复：同一事项在一个文件中只能出现一次。"),
        (
            5,
            "B",
            "基本编码",
            f"与第 4 行是同一事项（实施编码 {NEW_CODE}）：同一事项在一个文件中只能出现一次。",
        ),
    ]
    assert (result.imported, result.failed) == (2, 2)


def test_matched_by_triple_without_code_updates(world, tmp_path):
    result = run(tmp_path, [good_row(world, standard="01020000100", name="新名称")])
    assert result.errors == [] and result.updated == 1 and result.created == 0
    world["item"].refresh_from_db()
    assert world["item"].name == "新名称"


def test_none_mark_clears_materials_blank_keeps(world, tmp_path):
    code = world["item"].code
    result = run(tmp_path, [good_row(world, code=code, standard="01020000100", materials="无", steps=None)])
    assert result.errors == []
    item = ServiceItem.objects.get(code=code)
    assert item.materials.count() == 0
    assert item.steps.count() == 5


def test_publish_option(world, tmp_path):
    ok = good_row(world)
    # A promise item without a promised limit breaks a publication rule (but is a valid draft).
    refused = good_row(world, standard="01020000100", promised_limit_days=None)
    result = run(tmp_path, [ok, refused], publish=True)
    assert result.published == 1 and result.created == 1 and result.failed == 1
    assert [(e.row, e.column) for e in result.errors] == [(3, "N")]
    assert result.errors[0].message == "发布未通过：承诺件须填写承诺办结时限（工作日）。"
    new = ServiceItem.objects.get(code=NEW_CODE)
    assert new.status == "published" and new.current_version is not None
    world["item"].refresh_from_db()
    assert world["item"].promised_limit_days == 10  # the refused row wrote nothing


def test_audit_entries(world, tmp_path):
    from yiwang.core.models import AuditEntry

    before = AuditEntry.objects.count()
    rows = [
        good_row(world),
        good_row(world, standard="01020000100", name="改名"),
        good_row(world, region="1"),
    ]
    result = run(tmp_path, rows)
    assert (result.created, result.updated, result.failed) == (1, 1, 1)
    actions = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True))
    assert actions == ["catalog.item.create", "catalog.item.edit", "catalog.import.run"]
    run_entry = AuditEntry.objects.get(action="catalog.import.run")
    assert run_entry.detail["created"] == 1 and run_entry.detail["failed"] == 1


def test_publish_option_applies_the_provincial_cap(world, tmp_path, settings):
    """The import publishes through services.publish: the same cap, reported on the row."""
    settings.YIWANG_PROMISE_CAP_PERCENT = 60
    within = good_row(world, promised_limit_days=12)  # statutory 20: 60 % exactly
    over = good_row(world, standard="01020000100", promised_limit_days=15)
    result = run(tmp_path, [within, over], publish=True)
    assert result.published == 1 and result.failed == 1
    assert [(e.row, e.column) for e in result.errors] == [(3, "N")]
    assert result.errors[0].message == (
        "发布未通过：承诺时限 15 个工作日超过法定时限 20 个工作日的 60%（本省上限）。"
    )
    world["item"].refresh_from_db()
    assert world["item"].promised_limit_days == 10  # the refused row wrote nothing
