"""docs/spreadsheets.md documents the column set; keep the two in step."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl.utils import get_column_letter

from yiwang.catalog.spreadsheets.columns import (
    COLUMNS,
    format_materials,
    parse_materials,
    parse_steps,
    split_line,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "spreadsheets.md"


def test_documented_columns_match_the_format():
    rows = re.findall(r"^\| ([A-Z]{1,2}) \| ([^|]+?) \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    documented = [(letter, header.replace(" *", "").strip()) for letter, header in rows]
    expected = [(get_column_letter(i), c.header) for i, c in enumerate(COLUMNS, start=1)]
    assert documented == expected


def test_mini_format_escapes_round_trip():
    m = {
        "name": "申请书|附件\n第二页 \\ 备注",
        "form": "copy",
        "copies": 2,
        "requirement": "conditional",
        "source": "government",
        "condition": "",
        "certificate_type": "",
        "notes": "按|要求",
    }
    text = format_materials([m])
    assert "\n" not in text
    assert parse_materials(text) == [m]
    assert split_line(r" a\|b | c\\|d\n") == ["a|b", "c\\", "d\n"]
    assert parse_steps("受理") == [
        {"name": "受理", "is_approval": True, "handler": "", "time_limit_days": None, "criteria": ""}
    ]
