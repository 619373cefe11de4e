"""Files that are not what they claim, or not laid out as expected: a clear Chinese message each."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from tests.spreadsheets.conftest import HEADERS, good_row, write_xlsx

from yiwang.catalog.models import ImportRun, ServiceItem
from yiwang.catalog.spreadsheets import import_items
from yiwang.catalog.spreadsheets.columns import COLUMNS

pytestmark = pytest.mark.django_db


def rejected(tmp_path, content: bytes, name: str = "list.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    result = import_items(path)
    assert result.rejected, "the file should have been refused"
    assert result.total == 0
    run = ImportRun.objects.get(pk=result.run.pk)
    assert run.errors[0]["row"] is None and run.errors[0]["message"] == result.rejected
    return result.rejected


def test_pdf_renamed(world, tmp_path):
    assert "这是一个 PDF 文件，不是 Excel 文件" in rejected(tmp_path, b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")


def test_executable_renamed(world, tmp_path):
    assert "可执行程序" in rejected(tmp_path, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500)
    assert "可执行程序" in rejected(tmp_path, b"\x7fELF\x02\x01\x01" + b"\x00" * 500)


def test_old_xls_or_encrypted(world, tmp_path):
    assert "旧版 Excel（.xls）" in rejected(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)


def test_text_and_html(world, tmp_path):
    assert "不是 Excel（.xlsx）格式" in rejected(tmp_path, "基本编码,区划代码\n1,2\n".encode())
    assert "网页或 XML" in rejected(tmp_path, b"<html><body>hi</body></html>")


def test_empty_file(world, tmp_path):
    assert "文件是空的" in rejected(tmp_path, b"")


def test_zip_that_is_not_a_workbook(world, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "压缩包，不是 Excel 文件" in rejected(tmp_path, buf.getvalue())


def test_truncated_workbook(world, tmp_path):
    path = write_xlsx(tmp_path / "ok.xlsx", [good_row(world)])
    data = path.read_bytes()
    assert "文件已损坏" in rejected(tmp_path, data[: len(data) // 2])


def test_workbook_with_broken_xml(world, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types")
        zf.writestr("xl/workbook.xml", "<not-closed")
    assert "文件已损坏或不是有效的 Excel 工作簿" in rejected(tmp_path, buf.getvalue())


def test_zip_bomb(world, tmp_path, settings):
    settings.YIWANG_MAX_IMPORT_BYTES = 200_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 60_000_000 + b"/>")
    data = buf.getvalue()
    assert len(data) < settings.YIWANG_MAX_IMPORT_BYTES
    assert "疑似压缩炸弹" in rejected(tmp_path, data)


def test_oversized(world, tmp_path, settings):
    path = write_xlsx(tmp_path / "big.xlsx", [good_row(world)])
    settings.YIWANG_MAX_IMPORT_BYTES = path.stat().st_size - 1
    result = import_items(path)
    assert re.search(r"文件大小为 .+，超过了导入上限", result.rejected)
    assert not ServiceItem.objects.filter(code__startswith="01020000300").exists()


def test_too_many_rows(world, tmp_path, settings):
    settings.YIWANG_MAX_IMPORT_ROWS = 3
    rows = [good_row(world, standard=s) for s in ("01020000300", "01020000100")] + [[None] * 3] * 5
    rows.append(good_row(world, standard="01020000200", region="350100"))
    result = import_items(write_xlsx(tmp_path / "in.xlsx", rows))
    assert result.imported == 2
    assert any("超过了 3 行的上限，第 9 行及以后未导入" in e.message for e in result.errors)


def test_no_header_row(world, tmp_path):
    path = write_xlsx(tmp_path / "in.xlsx", [["a", "b"]], headers=["甲", "乙"])
    result = import_items(path)
    assert "没有找到表头行" in result.rejected and "“基本编码”" in result.rejected


def test_merged_title_row_above_header(world, tmp_path):
    title = ["鼓楼区市场监督管理局实施清单（2026年版）"] + [None] * (len(HEADERS) - 1)
    path = write_xlsx(tmp_path / "in.xlsx", [good_row(world)], above=[title, []], merge="A1:AF1")
    result = import_items(path)
    assert result.errors == [] and result.created == 1


def test_merged_header_cells(world, tmp_path):
    # 区划代码 merged into 基本编码's cell: the column has no header of its own any more.
    headers = list(HEADERS)
    headers[2] = None
    path = write_xlsx(tmp_path / "in.xlsx", [good_row(world)], headers=headers, merge="B1:C1")
    result = import_items(path)
    assert "缺少必需的列：“区划代码”" in result.rejected
    assert "合并单元格" in result.rejected


def test_reordered_renamed_missing_and_extra_columns(world, tmp_path):
    # Reordered, 法定时限/承诺时限 under their short names, most columns absent, one extra column.
    headers = ["备注", "承诺时限", "部门代码", "法定时限", " 区划代码 ", "基本编码*", "事项名称"]
    row = ["新增", 5, "001", 20, "350102", "01020000300", "作坊登记"]
    path = write_xlsx(tmp_path / "in.xlsx", [row], headers=headers)
    result = import_items(path)
    assert result.errors == [] and result.created == 1
    assert result.ignored_headers == ["备注"]
    item = ServiceItem.objects.get(code__startswith="01020000300")
    assert (item.name, item.statutory_limit_days, item.promised_limit_days) == ("作坊登记", 20, 5)


def test_missing_columns_leave_elements_untouched(world, tmp_path):
    item = world["item"]
    path = write_xlsx(
        tmp_path / "in.xlsx",
        [[item.code, "01020000100", "350102", "001", 8]],
        headers=["实施编码", "基本编码", "区划代码", "部门代码", "承诺办结时限（工作日）"],
    )
    result = import_items(path)
    assert result.errors == [] and result.updated == 1
    item.refresh_from_db()
    assert item.promised_limit_days == 8
    assert item.consult_phone == "0591-12345" and item.online_depth == 4 and item.materials.count() == 2


def test_missing_required_column(world, tmp_path):
    headers = [h for h in HEADERS if h != "部门代码"]
    path = write_xlsx(tmp_path / "in.xlsx", [], headers=headers)
    assert "缺少必需的列：“部门代码”" in import_items(path).rejected


def test_duplicate_header(world, tmp_path):
    path = write_xlsx(
        tmp_path / "in.xlsx", [], headers=["基本编码", "区划代码", "部门代码", "承诺时限", "承诺办结时限"]
    )
    assert "表头“承诺办结时限（工作日）”出现了两次（第 D 列和第 E 列）" in import_items(path).rejected


def test_empty_rows_are_skipped_and_row_numbers_kept(world, tmp_path):
    rows = [
        [],
        good_row(world),
        [None, "  "],
        [],
        good_row(world, standard="01020000200", region="350100", promised_limit_days=99),
    ]
    result = import_items(write_xlsx(tmp_path / "in.xlsx", rows))
    assert result.total == 2
    assert [(e.row, e.column) for e in result.errors] == [(6, "N")]


def test_formulas_read_as_values(world, tmp_path):
    """Excel stores a formula's last result beside it; the import reads that result."""
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    row = good_row(world)
    promised = [c.key for c in COLUMNS].index("promised_limit_days")
    row[promised] = "=2+3"
    ws.append(row)
    src = tmp_path / "formula.xlsx"
    wb.save(src)
    # openpyxl cannot compute formulas; put in the cached value Excel would have saved.
    out = tmp_path / "in.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>2+3</f><v></v>" in data or b"<f>2+3</f><v />" in data
                data = data.replace(b"<f>2+3</f><v></v>", b"<f>2+3</f><v>5</v>").replace(
                    b"<f>2+3</f><v />", b"<f>2+3</f><v>5</v>"
                )
            zout.writestr(info, data)
    result = import_items(out)
    assert result.errors == []
    assert ServiceItem.objects.get(code__startswith="01020000300").promised_limit_days == 5


def test_first_sheet_or_named_sheet(world, tmp_path):
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["请在“实施清单”工作表中填写"])
    ws = wb.create_sheet("实施清单")
    ws.append(HEADERS)
    ws.append(good_row(world))
    path = tmp_path / "in.xlsx"
    wb.save(path)
    assert import_items(path).created == 1


def test_endless_blank_rows_stop_reading(world, tmp_path, settings):
    settings.YIWANG_MAX_IMPORT_ROWS = 2
    rows = [good_row(world)] + [[" "] * 3] * 25 + [good_row(world, standard="01020000200", region="350100")]
    result = import_items(write_xlsx(tmp_path / "in.xlsx", rows))
    assert result.created == 1
    assert [(e.row, e.message) for e in result.errors] == [(22, "第 22 行之后仍是空行或格式行，已停止读取。")]
