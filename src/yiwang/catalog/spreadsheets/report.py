"""The row-by-row import report as a workbook the department can sort and filter."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from yiwang.catalog.models import ImportRun

REPORT_HEADERS = ("行号", "列", "列名", "实施编码", "错误信息")
REPORT_WIDTHS = (8, 6, 22, 27, 90)
NOTICE_HEADERS = ("行号", "列", "列名", "说明")


def write_report(run: ImportRun, out: str | Path | IO[bytes]) -> None:
    """Sheet 导入结果 holds the counts, sheet 错误报告 one line per error (row, column, message)."""
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("导入结果")
    summary.column_dimensions["A"].width = 14
    summary.column_dimensions["B"].width = 60
    for label, value in (
        ("文件名", run.file_name),
        ("开始时间", run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else ""),
        ("导入人", run.user.get_username() if run.user_id else "系统"),
        ("总行数", run.total_rows),
        ("成功行数", run.imported_rows),
        ("失败行数", run.failed_rows),
        ("错误条数", len(run.errors or [])),
        ("提示条数", len(run.notices or [])),
    ):
        summary.append([label, value])

    ws = wb.create_sheet("错误报告")
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDE", REPORT_WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    header = []
    for h in REPORT_HEADERS:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for e in run.errors or []:
        ws.append(
            [
                _text(e.get("row")),
                e.get("column", ""),
                e.get("header", ""),
                e.get("code", ""),
                _text(e.get("message")),
            ]
        )
    if run.errors:
        ws.auto_filter.ref = f"A1:E{len(run.errors) + 1}"

    # Unknown columns and notes under the table: what was left out, though nothing failed.
    notes = wb.create_sheet("提示")
    for letter, width in zip("ABCD", (8, 6, 22, 90), strict=True):
        notes.column_dimensions[letter].width = width
    notes.append([WriteOnlyCell(notes, value=h) for h in NOTICE_HEADERS])
    for n in run.notices or []:
        notes.append(
            [_text(n.get("row")), n.get("column", ""), _text(n.get("header", "")), _text(n.get("message"))]
        )
    wb.save(out)


def _text(v: Any) -> Any:
    if isinstance(v, str):
        v = ILLEGAL_CHARACTERS_RE.sub("", v)
        if v.startswith("="):
            return "'" + v
    return "整个文件" if v is None else v
