"""Opening an uploaded workbook safely and finding its header row.

Uploaded files are hostile until proven otherwise: a PDF or an executable renamed .xlsx, an old
.xls, an encrypted workbook, a zip bomb, a sheet declaring a million rows. Each is refused here
with a message a catalogue administrator understands, before openpyxl parses any XML.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .columns import COLUMNS, HEADER_LOOKUP, SHEET_TITLE, Column, cell_text, normalize_header

HEADER_SEARCH_ROWS = 20
MAX_COLUMNS = 200
# Spreadsheet XML packs about 5-25 times (a 70,000-row export: 12 MB, 255 MB unpacked). A file
# unpacking to far more than that, or at a ratio no real spreadsheet reaches, is a zip bomb and is
# refused before any XML is parsed.
UNPACK_FACTOR = 50
MAX_RATIO = 200


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


class NoHeaderRow(Exception):
    """No header row in the top rows of a sheet: ``pick_sheet`` then tries the next sheet."""


def max_rows() -> int:
    return int(getattr(settings, "YIWANG_MAX_IMPORT_ROWS", 100_000))


def max_bytes() -> int:
    return int(settings.YIWANG_MAX_IMPORT_BYTES)


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def check_size(size: int) -> None:
    if size > max_bytes():
        raise FileRejected(
            _("文件大小为 %(size)s，超过了导入上限 %(limit)s；请按区划或部门拆分后分批导入。")
            % {"size": _size_text(size), "limit": _size_text(max_bytes())}
        )
    if size == 0:
        raise FileRejected(_("文件是空的（0 字节）。"))


def sniff(head: bytes) -> None:
    """Refuse anything that is not a zip container, naming what it looks like instead."""
    if head.startswith(b"PK\x03\x04"):
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            _(
                "这是旧版 Excel（.xls）文件或设置了打开密码的 Excel 文件，无法导入；请取消密码，另存为“Excel 工作簿（.xlsx）”后再导入。"
            )
        )
    if head.startswith(b"%PDF"):
        raise FileRejected(_("这是一个 PDF 文件，不是 Excel 文件；请上传 .xlsx 格式的实施清单。"))
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF"):
        raise FileRejected(_("这是一个可执行程序，不是 Excel 文件，已拒绝。请上传 .xlsx 格式的实施清单。"))
    if head.lstrip().startswith(b"<"):
        raise FileRejected(
            _("这是一个网页或 XML 文件，不是 Excel 文件；请在 Excel 中另存为 .xlsx 后再导入。")
        )
    raise FileRejected(_("文件不是 Excel（.xlsx）格式，无法读取；请上传由 Excel 或 WPS 保存的 .xlsx 文件。"))


def check_container(fh: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
                raise FileRejected(_("这是一个压缩包，不是 Excel 文件；请上传 .xlsx 格式的实施清单。"))
            if "xl/workbook.xml" not in names:
                raise FileRejected(
                    _("文件不是 Excel 工作簿（可能是 Word 或 PowerPoint 文件），请上传 .xlsx 文件。")
                )
            unpacked = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if unpacked > UNPACK_FACTOR * max_bytes() or (
                unpacked > 50 * 1024 * 1024 and unpacked / packed > MAX_RATIO
            ):
                raise FileRejected(
                    _("文件解压后有 %(size)s，超出合理范围（疑似压缩炸弹），已拒绝。")
                    % {"size": _size_text(unpacked)}
                )
    except zipfile.BadZipFile:
        raise FileRejected(
            _("文件已损坏，无法作为 Excel 文件打开；请在 Excel 中重新保存后再导入。")
        ) from None
    finally:
        fh.seek(0)


@dataclass
class HeaderMap:
    row: int  # 1-based sheet row of the header
    positions: dict[str, int] = field(default_factory=dict)  # column key -> 0-based index
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (letter, text) of unknown headers

    def letter(self, key: str) -> str:
        return get_column_letter(self.positions[key] + 1)


@dataclass
class Workbook:
    rows: Iterator[tuple[int, tuple[Any, ...]]]  # (sheet row number, values) after the header
    header: HeaderMap
    sheet_title: str
    reread: Any  # () -> a fresh iterator over the sheet's rows after the header
    close: Any


def open_workbook(source: str | Path | IO[bytes]) -> Workbook:
    """Check and open an implementation list; raises FileRejected with a Chinese message."""
    fh: IO[bytes]
    if isinstance(source, str | Path):
        size = os.path.getsize(source)
        check_size(size)
        fh = open(source, "rb")  # noqa: SIM115 - closed by Workbook.close or below
    else:
        fh = source
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(0)
        check_size(size)
    try:
        sniff(fh.read(8))
        fh.seek(0)
        check_container(fh)
        try:
            wb = load_workbook(fh, read_only=True, data_only=True)
        except Exception:  # openpyxl raises anything from KeyError to XML errors on a broken file
            raise FileRejected(
                _("文件已损坏或不是有效的 Excel 工作簿，无法读取；请在 Excel 中重新保存为 .xlsx 后再导入。")
            ) from None
        if not wb.sheetnames:
            raise FileRejected(_("工作簿中没有工作表。"))
        ws, rows, header = pick_sheet(wb)

        def reread() -> Iterator[tuple[int, tuple[Any, ...]]]:
            return ((n, v) for n, v in _iter_rows(ws) if n > header.row)

        def close() -> None:
            wb.close()
            if fh is not source:
                fh.close()

        return Workbook(rows=rows, header=header, sheet_title=ws.title, reread=reread, close=close)
    except BaseException:
        if fh is not source:
            fh.close()
        raise


def pick_sheet(wb) -> tuple[Any, Iterator[tuple[int, tuple[Any, ...]]], HeaderMap]:
    """The sheet holding the list: the visible sheet named as the template names it (实施清单),
    else the first visible sheet with a header row. Hidden and very hidden sheets (a 字典 sheet of
    allowed values, say) and chart sheets are skipped. Returns the sheet, its rows after the
    header, and the header."""
    visible = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows") and _is_visible(ws)]
    visible.sort(key=lambda ws: ws.title != SHEET_TITLE)  # stable: the named sheet first
    looked: list[str] = []
    for ws in visible:
        rows = _iter_rows(ws)
        try:
            return ws, rows, find_header(rows)
        except NoHeaderRow:
            looked.append(ws.title)
    hidden = [ws.title for ws in wb.worksheets if not _is_visible(ws)]
    required = "、".join(f"“{c.header}”" for c in COLUMNS if c.required)
    if not looked:
        message = _("工作簿中没有可见的数据工作表；实施清单须放在一个未隐藏的工作表中。")
    else:
        message = _(
            "在工作表%(sheets)s的前%(n)s行中都没有找到表头行（应有 %(required)s 等列名）。请使用“导出”或“下载模板”得到的表格格式。"
        ) % {
            "sheets": "、".join(f"“{t}”" for t in looked),
            "n": HEADER_SEARCH_ROWS,
            "required": required,
        }
    if hidden:
        message += _("隐藏的工作表%(sheets)s未读取。") % {"sheets": "、".join(f"“{t}”" for t in hidden)}
    raise FileRejected(message)


def _is_visible(ws) -> bool:
    return getattr(ws, "sheet_state", "visible") in (None, "visible")


def _iter_rows(ws) -> Iterator[tuple[int, tuple[Any, ...]]]:
    # The size a sheet declares (<dimension ref="A1"/> from some programs) is not trusted: openpyxl
    # would stop reading there. Rows are read to the end; blank rows are bounded by the importer.
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    try:
        yield from enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(
            _("读取工作表时出错：文件内容已损坏，整个文件未导入；请在 Excel 中重新保存为 .xlsx 后再导入。")
        ) from None


def find_header(rows: Iterator[tuple[int, tuple[Any, ...]]]) -> HeaderMap:
    """The header is the first of the top rows naming at least two known columns; rows above it
    (a merged title such as "某某市实施清单") are skipped."""
    best: tuple[int, tuple[Any, ...]] | None = None
    for number, values in rows:
        known = sum(1 for v in values if normalize_header(v) in HEADER_LOOKUP)
        if known >= 2:
            best = (number, values)
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise NoHeaderRow()
    number, values = best
    header = HeaderMap(row=number)
    seen: dict[str, str] = {}
    for idx, raw in enumerate(values):
        norm = normalize_header(raw)
        if not norm:
            continue
        col: Column | None = HEADER_LOOKUP.get(norm)
        if col is None:
            header.ignored.append((get_column_letter(idx + 1), cell_text(raw)))
            continue
        letter = get_column_letter(idx + 1)
        if col.key in header.positions:
            raise FileRejected(
                _("表头“%(h)s”出现了两次（第 %(a)s 列和第 %(b)s 列），无法判断以哪一列为准。")
                % {"h": col.header, "a": seen[col.key], "b": letter}
            )
        header.positions[col.key] = idx
        seen[col.key] = letter
    missing = [c for c in COLUMNS if c.required and c.key not in header.positions]
    if missing:
        raise FileRejected(
            _(
                "表头（第%(row)s行）缺少必需的列：%(cols)s。如果表头有合并单元格，请取消合并，让每一列都有自己的列名。"
            )
            % {"row": number, "cols": "、".join(f"“{c.header}”" for c in missing)}
        )
    return header


# --- where the table ends -------------------------------------------------------------------------

NOTE_TEXT = 100  # characters of a note line quoted back to the clerk
MAX_NOTES = 200  # note lines reported one by one; a longer tail is summed up


@dataclass
class TableShape:
    """What a first reading of the sheet finds: the data rows and the lines under the table."""

    end: int  # sheet row number of the last row read as data (the header's when none)
    data_rows: int  # non-blank rows from the header to ``end``: what the importer will go through
    notes: list[tuple[int, str]] = field(default_factory=list)  # (row, text) under the table
    more_notes: int = 0  # note lines beyond MAX_NOTES
    stopped_at: int | None = None  # blank or formatted rows went on past the reading limit here


def blank_row(values: tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _is_code(text: str) -> bool:
    return text.replace(" ", "").isdigit()


def _is_data_row(values: tuple[Any, ...], header: HeaderMap, after_blank: bool) -> bool:
    """A row with a code in 基本编码/区划代码/部门代码 is data wherever it is. Otherwise a row
    under a fully blank row is a note, and so is a row with text in one cell only that is not an
    item code or name (a signature line such as "填表人：张三  审核人：李四", which Excel keeps in
    the first cell of a merged range)."""

    def cell(key: str) -> str:
        idx = header.positions.get(key)
        return cell_text(values[idx]) if idx is not None and idx < len(values) else ""

    if any(_is_code(cell(k)) for k in ("standard", "region", "department")):
        return True
    if after_blank:
        return False
    filled = [i for i, v in enumerate(values) if cell_text(v)]
    if len(filled) != 1:
        return True
    only = filled[0]
    if only in {header.positions.get(k) for k in ("standard", "region", "department", "name")}:
        return True
    return only == header.positions.get("code") and _is_code(cell_text(values[only]))


def scan_table(rows: Iterator[tuple[int, tuple[Any, ...]]], header: HeaderMap, limit: int) -> TableShape:
    """Read the rows after the header once, without writing anything, to find the last data row
    (for the progress bar's total and to tell the lines under the table from failed rows). Rows
    that look like notes but have data rows below them stay data rows: only the tail is left out.
    A sheet that cannot be read to the end is refused here, before the import writes anything."""
    shape = TableShape(end=header.row, data_rows=0)
    pending: list[tuple[int, str]] = []  # note-like rows since the last data row
    pending_count = 0
    after_blank = False
    for number, values in rows:
        offset = number - header.row
        if blank_row(values):
            if offset > limit * 10:
                # Sheets formatted down to row 1,048,576 are common; stop reading them somewhere.
                shape.stopped_at = number
                break
            after_blank = True
            continue
        if offset > limit:
            # Too many rows: the importer stops at this one and says so.
            shape.end = number
            shape.data_rows += pending_count
            pending, pending_count = [], 0
            break
        if _is_data_row(values, header, after_blank):
            shape.end = number
            shape.data_rows += pending_count + 1
            pending, pending_count, after_blank = [], 0, False
        else:
            pending_count += 1
            if len(pending) < MAX_NOTES:
                text = "  ".join(t for t in (cell_text(v) for v in values) if t)
                pending.append((number, text[:NOTE_TEXT] + ("……" if len(text) > NOTE_TEXT else "")))
    shape.data_rows = min(shape.data_rows, limit)
    shape.notes = pending
    shape.more_notes = pending_count - len(pending)
    return shape
