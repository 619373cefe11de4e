"""The owner's xlsx update of a base registry: a template, then the filled sheet uploaded.

The header row names the registry's fields in Chinese (``REGISTRIES``' field table) and an
optional 操作 column (新增或变更 / 注销). The file passes the catalogue import's checks first
(size, real xlsx, no zip bomb: ``catalog.spreadsheets.reading``), then every row goes to
``registries.upsert`` with its sheet row number, so an error names the row it is on and nothing
is written while any row is bad.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yiwang.catalog.spreadsheets.reading import FileRejected, check_container, check_size, max_rows

from . import registries

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from yiwang.regions.models import Department

OP_HEADER = "操作"
OPS = {
    "": "upsert",
    "新增或变更": "upsert",
    "新增": "upsert",
    "变更": "upsert",
    "注销": "close",
    "删除": "close",
}
HEADER_SEARCH_ROWS = 10


def _header(f: registries.RegistryField) -> str:
    return str(f.name)


def template(code: str) -> bytes:
    """A workbook with the header row and a sheet describing each field."""
    reg = registries.get_registry(code)
    wb = Workbook()
    ws = cast(Worksheet, wb.active)
    ws.title = str(reg.name).replace("/", "、")[:31]
    ws.append([_header(f) for f in reg.fields] + [OP_HEADER])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, f in enumerate(reg.fields, start=1):
        ws.column_dimensions[get_column_letter(i)].width = 18 if f.type != "text" else 24
    notes = wb.create_sheet(_("填写说明"))
    notes.append([_("字段"), _("代码"), _("类型"), _("必填"), _("敏感级别"), _("可选值")])
    for f in reg.fields:
        notes.append(
            [
                _header(f),
                f.code,
                {"date": _("日期（2024-05-01）"), "decimal": _("数字")}.get(f.type, _("文本")),
                _("是") if f.required else "",
                f.sensitivity_label,
                "、".join(str(label) for _c, label in f.choices),
            ]
        )
    notes.append([OP_HEADER, "_op", _("文本"), "", "", _("留空或“新增或变更”：写入；“注销”：关闭该记录")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class ImportOutcome:
    rows: int = 0
    result: registries.UpsertResult | None = None
    file_error: str = ""
    row_values: dict[int, dict[str, Any]] = field(default_factory=dict)  # bad rows only, for the page

    @property
    def ok(self) -> bool:
        return not self.file_error and self.result is not None and self.result.ok


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return value


def read_rows(reg: registries.Registry, upload: IO[bytes], size: int) -> list[dict[str, Any]]:
    """The sheet's data rows as upsert rows (``_row`` = the sheet's row number); ``FileRejected``
    with the reason for a file that is not a registry sheet."""
    check_size(size)
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith(b"PK\x03\x04"):
        raise FileRejected(_("这不是 Excel（.xlsx）文件；请用下载的模板填写后上传。"))
    check_container(upload)
    upload.seek(0)
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRejected(_("文件已损坏或不是有效的 Excel 工作簿。")) from None
    by_name = {_header(f): f.code for f in reg.fields} | {f.code: f.code for f in reg.fields}
    by_name[OP_HEADER] = "_op"
    ws = wb.worksheets[0]
    columns: dict[int, str] = {}
    rows: list[dict[str, Any]] = []
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if not columns:
            names = [str(v).strip().lstrip("*") if v is not None else "" for v in values]
            if sum(1 for n in names if n in by_name) >= 2:
                unknown = [n for n in names if n and n not in by_name]
                if unknown:
                    raise FileRejected(
                        _("第 %(n)d 行表头有本库没有的列：%(cols)s")
                        % {"n": number, "cols": "、".join(unknown[:5])}
                    )
                columns = {i: by_name[n] for i, n in enumerate(names) if n}
            elif number >= HEADER_SEARCH_ROWS:
                raise FileRejected(
                    _("前 %(n)d 行中没有找到表头；请使用下载的模板。") % {"n": HEADER_SEARCH_ROWS}
                )
            continue
        row = {code: _text(values[i]) for i, code in columns.items() if i < len(values)}
        if all(v in (None, "") for v in row.values()):
            continue
        op = row.pop("_op", "") or ""
        row["_op"] = OPS.get(op, op)  # an unknown one is reported by upsert as this row's error
        row["_row"] = number
        rows.append(row)
        if len(rows) > max_rows():
            raise FileRejected(_("一次最多导入 %(n)d 行；请拆分后分批导入。") % {"n": max_rows()})
    if not columns:
        raise FileRejected(_("没有找到表头；请使用下载的模板。"))
    return rows


def import_xlsx(
    code: str, upload: IO[bytes], size: int, *, department: Department, actor: User | AnonymousUser | None
) -> ImportOutcome:
    """Read and write the sheet: all rows or none. ``NotPermitted`` comes from ``upsert``."""
    reg = registries.get_registry(code)
    outcome = ImportOutcome()
    try:
        rows = read_rows(reg, upload, size)
    except FileRejected as exc:
        outcome.file_error = str(exc)
        return outcome
    outcome.rows = len(rows)
    outcome.result = registries.upsert(reg.code, rows, department=department, actor=actor)
    bad = {e.row for e in outcome.result.errors}
    outcome.row_values = {r["_row"]: r for r in rows if r["_row"] in bad}
    return outcome
