from __future__ import annotations

import pytest
from tests.spreadsheets.conftest import HEADERS, read_sheet

from yiwang.catalog.models import ItemStatus, ServiceItem
from yiwang.catalog.spreadsheets import export_items, import_items
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, dict]:
    out = {}
    for item in ServiceItem.objects.prefetch_related("materials", "steps").order_by("code"):
        fields = {
            f.name: getattr(item, f.attname)
            for f in item._meta.concrete_fields
            if f.name not in ("updated_at",)
        }
        fields["materials"] = [(m.as_element(), m.standard_material_id) for m in item.materials.all()]
        fields["steps"] = [
            (s.name, s.is_approval, s.handler, s.time_limit_days, s.criteria) for s in item.steps.all()
        ]
        out[item.code] = fields
    return out


def test_round_trip_changes_nothing(world, tmp_path):
    item = world["item"]
    # Awkward content that must survive: bars, line breaks, a leading "=", no materials.
    item.legal_basis = "=《食品安全法》第35条\n第二款"
    item.fee_standard = "A|B \\ C"
    item.save()
    step = item.steps.first()
    step.criteria = "核对|材料\n齐全"
    step.save()
    world["item2"].materials.all().delete()
    before = snapshot()
    audit_before = AuditEntry.objects.count()

    out = tmp_path / "list.xlsx"
    assert export_items(out) == 2
    rows = read_sheet(out)
    assert list(rows[0]) == HEADERS
    assert rows[1][0] == item.code

    result = import_items(out)
    assert result.errors == [], result.errors
    assert (result.total, result.unchanged, result.created, result.updated) == (2, 2, 0, 0)
    assert snapshot() == before
    # Only the run itself is audited when nothing changed.
    assert AuditEntry.objects.count() == audit_before + 1
    assert AuditEntry.objects.order_by("-seq").first().action == "catalog.import.run"


def test_export_filters(world, tmp_path):
    out = tmp_path / "a.xlsx"
    assert export_items(out, region=world["county"]) == 1
    assert export_items(out, region=world["city"]) == 2
    assert export_items(out, region=world["other_city"]) == 0
    assert export_items(out, department=world["city_scj"]) == 1
    assert read_sheet(out)[1][0] == world["item2"].code


def test_export_sheet_layout(world, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "a.xlsx"
    export_items(out)
    ws = load_workbook(out).active
    assert ws.freeze_panes == "B2"
    assert ws.column_dimensions["A"].width > 20
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "行政许可" in lists["H2"]
    assert "全程网办（四级）" in lists["X2"]
    assert lists["O2"] == '"是,否"'


def test_edit_in_sheet_updates_and_marks_changed(world, tmp_path):
    from openpyxl import load_workbook

    from yiwang.catalog import services

    services.publish(world["item"])
    out = tmp_path / "list.xlsx"
    export_items(out, department=world["county_scj"])
    wb = load_workbook(out)
    ws = wb.active
    col = {c.value: c.column for c in ws[1]}
    ws.cell(2, col["承诺办结时限（工作日）"], 3)
    ws.cell(2, col["申请材料"], "申请书|原件|2|必要|申请人自备\n营业执照|电子件|1|必要|电子证照||营业执照")
    wb.save(out)

    result = import_items(out)
    assert result.errors == []
    assert result.updated == 1
    item = ServiceItem.objects.get(pk=world["item"].pk)
    assert item.promised_limit_days == 3
    assert item.status == ItemStatus.CHANGED
    mats = [m.as_element() for m in item.materials.all()]
    assert mats[0]["copies"] == 2 and mats[1]["source"] == "e_certificate"
    assert mats[1]["certificate_type"] == "营业执照"
    # The material kept its link to the standard catalogue's material of the same name.
    assert item.materials.get(name="营业执照").standard_material_id is not None
    assert AuditEntry.objects.filter(action="catalog.item.edit", object_id=str(item.pk)).exists()
