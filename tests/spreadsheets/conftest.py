"""Fixtures for the spreadsheet tests: a small province and real xlsx files written with openpyxl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook, load_workbook
from tests import factories as f
from tests.identity.auth.helpers import login_with_second_factor

from yiwang.catalog.spreadsheets.columns import COLUMN_BY_KEY, COLUMNS
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import DepartmentKind

HEADERS = [c.header for c in COLUMNS]


@pytest.fixture
def world(db) -> dict[str, Any]:
    """福建省 > 福州市 > 鼓楼区 > 鼓东街道, 厦门市; market regulation in each; police in 鼓楼区."""
    regions = f.region_tree()
    w: dict[str, Any] = dict(regions)
    w["county_scj"] = f.department(regions["county"])  # 001
    w["county_gaj"] = f.department(regions["county"], kind=DepartmentKind.PUBLIC_SECURITY, code="002")
    w["city_scj"] = f.department(regions["city"])
    w["xm_scj"] = f.department(regions["other_city"])
    w["food"] = f.standard_item()  # 01020000100, market regulation, levels 234, statutory 20
    w["food2"] = f.standard_item("01020000200", name="小餐饮经营许可", statutory_limit_days=15)
    w["food3"] = f.standard_item("01020000300", name="食品小作坊登记", statutory_limit_days=None)
    w["police"] = f.standard_item(
        "01030000100", name="户口迁移", department_kind=DepartmentKind.PUBLIC_SECURITY, audience="person"
    )
    w["item"] = f.implementation(w["food"], w["county_scj"], name="食品经营许可（鼓楼）", fee_required=False)
    w["item2"] = f.implementation(
        w["food2"],
        w["city_scj"],
        onsite_visits=1,
        online_depth=3,
        onsite_reason="现场核查",
        office_hours="工作日 8:30-12:00",
    )
    return w


@pytest.fixture
def staff_client(client, world):
    """A catalogue administrator of 鼓楼区市场监督管理局, logged in to the back office."""
    user = get_user_model().objects.create_user("gulou", password="x" * 12, is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN, department=world["county_scj"])
    login_with_second_factor(client, user)  # administrators need a TOTP session for /admin/
    return client


def row_values(**cells: Any) -> list[Any]:
    """A data row in the export's column order from column keys (code=..., standard=...)."""
    unknown = set(cells) - set(COLUMN_BY_KEY)
    assert not unknown, unknown
    return [cells.get(c.key) for c in COLUMNS]


def write_xlsx(
    path: Path,
    rows: list[list[Any]],
    *,
    headers: list[Any] | None = None,
    above: list[list[Any]] | None = None,
    merge: str | None = None,
    title: str = "实施清单",
) -> Path:
    """A workbook as a person would make it in Excel (normal, not write-only, mode)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in above or []:
        ws.append(r)
    ws.append(HEADERS if headers is None else headers)
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def good_row(w: dict[str, Any], **over: Any) -> list[Any]:
    """A valid new row: 食品小作坊登记 in 鼓楼区 market regulation (not yet implemented)."""
    cells: dict[str, Any] = {
        "standard": "01020000300",
        "region": "350102",
        "department": "001",
        "statutory_limit_days": 20,
        "promised_limit_days": 5,
        "is_instant": "否",
        "fee_required": "否",
        "online_payment": "否",
        "onsite_visits": 0,
        "online_depth": "全程网办（四级）",
        "channels": "网上办事大厅、移动端",
        "consult_phone": "0591-87654321",
        "where_to_apply": "鼓楼区政务服务中心",
    }
    cells.update(over)
    return row_values(**cells)


def read_sheet(path: Path, sheet: str | None = None) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    wb.close()
    return rows
