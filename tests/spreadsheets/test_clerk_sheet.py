"""A list made the way department clerks make them: full-width separators, a hidden 字典 sheet
first, extra columns of their own, signature lines under the table, and the same file imported
twice. Every test writes a real .xlsx with openpyxl and imports it."""

from __future__ import annotations

import pytest
from tests.spreadsheets.conftest import HEADERS, good_row, write_xlsx

from yiwang.catalog.elements import LIST_SEPARATORS, split_list
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.spreadsheets import import_items

pytestmark = pytest.mark.django_db
NEW_CODE = "01020000300" + "350102000" + "001"
NEW_CODE2 = "01020000200" + "350102000" + "001"


def run(tmp_path, rows, **kw):
    return import_items(write_xlsx(tmp_path / "in.xlsx", rows), **kw)


# --- a. one set of list separators ----------------------------------------------------------------


def test_split_list_accepts_every_separator():
    text = " 甲 /乙|丙,丁，戊、己；庚;辛／壬｜癸\n子\u3000"
    assert split_list(text) == ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸", "子"]
    assert split_list("") == [] and split_list(None) == [] and split_list(" ／ ") == []
    for sep in LIST_SEPARATORS:
        assert split_list(f"窗口办理{sep}移动端") == ["窗口办理", "移动端"], repr(sep)


@pytest.mark.parametrize("sep", ["／", "｜", "/", "|", ",", "，", "、", "；", ";"])
def test_channels_and_audience_take_any_separator(world, tmp_path, sep):
    row = good_row(world, channels=f" 窗口办理 {sep} 移动端 ", audience=f"自然人{sep}法人")
    result = run(tmp_path, [row])
    assert result.errors == []
    item = ServiceItem.objects.get(code=NEW_CODE)
    assert item.channels == ["counter", "mobile"]
    assert item.audience == "both"
