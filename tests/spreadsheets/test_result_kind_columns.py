"""审批结果类型 and 结果证照类型 in the item spreadsheet: exported, imported, and a second import of
the same file changes nothing."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from yiwang.catalog.models import ServiceItem
from yiwang.catalog.spreadsheets import export_items, import_items

pytestmark = pytest.mark.django_db


def test_result_kind_columns_round_trip(world, tmp_path):
    out = tmp_path / "list.xlsx"
    export_items(out, department=world["county_scj"])
    wb = load_workbook(out)
    ws = wb.active
    col = {c.value: c.column for c in ws[1]}
    assert ws.cell(2, col["审批结果类型"]).value in (None, "")  # blank: as the standard item
    ws.cell(2, col["审批结果类型"], "注销证照")
    ws.cell(2, col["结果证照类型"], "食品经营许可证")
    wb.save(out)

    result = import_items(out)
    assert result.errors == [] and result.updated == 1
    item = ServiceItem.objects.get(pk=world["item"].pk)
    assert (item.result_kind, item.result_certificate_type) == ("revocation", "食品经营许可证")

    again = import_items(out)
    assert again.errors == [] and (again.updated, again.unchanged) == (0, 1)

    export_items(out, department=world["county_scj"])
    ws = load_workbook(out).active
    assert ws.cell(2, col["审批结果类型"]).value == "注销证照"
    assert ws.cell(2, col["结果证照类型"]).value == "食品经营许可证"


def test_an_unknown_result_kind_is_reported_in_its_cell(world, tmp_path):
    out = tmp_path / "list.xlsx"
    export_items(out, department=world["county_scj"])
    wb = load_workbook(out)
    ws = wb.active
    col = {c.value: c.column for c in ws[1]}
    ws.cell(2, col["审批结果类型"], "盖章")
    wb.save(out)
    result = import_items(out)
    assert result.updated == 0
    assert any(e.header == "审批结果类型" and "不是可选值" in e.message for e in result.errors), result.errors
    assert ServiceItem.objects.get(pk=world["item"].pk).result_kind == ""
