"""A list made the way department clerks make them: full-width separators, a hidden 字典 sheet
first, extra columns of their own, signature lines under the table, and the same file imported
twice. Every test writes a real .xlsx with openpyxl and imports it."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from tests.spreadsheets.conftest import HEADERS, good_row, read_sheet, write_xlsx

from yiwang.catalog.elements import LIST_SEPARATORS, split_list
from yiwang.catalog.models import ImportRun, ItemMaterial, ProcessStep, ServiceItem, ServiceItemVersion
from yiwang.catalog.spreadsheets import import_items, importing
from yiwang.catalog.spreadsheets.progress import import_progress
from yiwang.core.models import AuditEntry

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


# --- b. the sheet read: the first visible one with a header row -----------------------------------


def _workbook(path, sheets):
    """sheets: (title, state, rows) in order; state is visible / hidden / veryHidden."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        ws.sheet_state = state
    wb.active = next(i for i, (_t, state, _r) in enumerate(sheets) if state == "visible")
    wb.save(path)
    return path


DICTIONARY = [["事项类型", "网办深度"], ["行政许可", "全程网办（四级）"], ["公共服务", "不可网办"]]


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_dictionary_sheet_first_is_skipped(world, tmp_path, state):
    # The hidden sheet even has a header-like first row (two known column names): still skipped.
    path = _workbook(
        tmp_path / "in.xlsx",
        [("字典", state, DICTIONARY), ("Sheet1", "visible", [HEADERS, good_row(world)])],
    )
    result = import_items(path)
    assert result.errors == [] and result.created == 1
    assert ServiceItem.objects.filter(code=NEW_CODE).exists()


def test_first_visible_sheet_with_header_is_read(world, tmp_path):
    path = _workbook(
        tmp_path / "in.xlsx",
        [
            ("填表说明", "visible", [["请按模板填写"], ["基本编码为11位数字"]]),
            ("字典", "hidden", DICTIONARY),
            ("鼓楼区", "visible", [["鼓楼区实施清单"], HEADERS, good_row(world)]),
        ],
    )
    result = import_items(path)
    assert result.errors == [] and result.created == 1


def test_template_sheet_name_wins_over_earlier_sheets(world, tmp_path):
    other = good_row(world, standard="01020000200")
    path = _workbook(
        tmp_path / "in.xlsx",
        [("Sheet1", "visible", [HEADERS, other]), ("实施清单", "visible", [HEADERS, good_row(world)])],
    )
    result = import_items(path)
    assert result.errors == [] and result.created == 1
    assert ServiceItem.objects.filter(code=NEW_CODE).exists()
    assert not ServiceItem.objects.filter(code=NEW_CODE2).exists()


def test_hidden_template_sheet_is_not_read(world, tmp_path):
    path = _workbook(
        tmp_path / "in.xlsx",
        [("实施清单", "hidden", [HEADERS, good_row(world)]), ("Sheet2", "visible", [["备注"]])],
    )
    result = import_items(path)
    assert result.created == 0
    assert "“Sheet2”" in result.rejected and "没有找到表头行" in result.rejected
    assert "隐藏的工作表“实施清单”未读取" in result.rejected


def test_no_header_anywhere_names_the_sheets_looked_at(world, tmp_path):
    path = _workbook(
        tmp_path / "in.xlsx",
        [("字典", "hidden", DICTIONARY), ("封面", "visible", [["标题"]]), ("数据", "visible", [["a", "b"]])],
    )
    result = import_items(path)
    assert result.created == 0 and result.errors[0].row is None
    assert "在工作表“封面”、“数据”的前20行中都没有找到表头行" in result.rejected
    assert "隐藏的工作表“字典”未读取" in result.rejected


# --- c. unknown columns are listed, as notices ----------------------------------------------------


def test_unknown_columns_are_listed_with_their_letters(world, tmp_path, staff_client):
    headers = [*HEADERS[:5], "填报日期", *HEADERS[5:], "备注"]
    row = good_row(world)
    row = [*row[:5], "2026-11-30", *row[5:], "新增事项"]
    path = write_xlsx(tmp_path / "清单.xlsx", [row], headers=headers)
    result = import_items(path)
    last = get_column_letter(len(headers))  # the column after the last of the format
    assert result.errors == [] and result.failed == 0 and result.created == 1
    assert [(n.row, n.column, n.header, n.message) for n in result.notices] == [
        (1, "F", "填报日期", "“填报日期”不是实施清单的列，该列未导入。"),
        (1, last, "备注", "“备注”不是实施清单的列，该列未导入。"),
    ]
    run = ImportRun.objects.get(pk=result.run.pk)
    assert [(n["column"], n["header"]) for n in run.notices] == [("F", "填报日期"), (last, "备注")]
    assert run.errors == []

    # The run's page lists them as notices, with no error table.
    with path.open("rb") as fh:
        resp = staff_client.post("/admin/catalog/spreadsheets/", {"file": fh}, follow=True)
    html = resp.content.decode()
    assert 'id="import-notices"' in html and 'id="import-errors"' not in html
    assert "<td>F</td><td>填报日期</td><td>“填报日期”不是实施清单的列，该列未导入。</td>" in html
    assert f"<td>{last}</td><td>备注</td>" in html

    # The downloadable report has them on a sheet of their own.
    page_run = ImportRun.objects.latest("started_at")
    report = staff_client.get(f"/admin/catalog/spreadsheets/runs/{page_run.pk}/report.xlsx")
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"".join(report.streaming_content))
    assert read_sheet(out, "提示")[1:] == [
        (1, "F", "填报日期", "“填报日期”不是实施清单的列，该列未导入。"),
        (1, last, "备注", "“备注”不是实施清单的列，该列未导入。"),
    ]


def test_cli_prints_unknown_columns(world, tmp_path):
    headers = [*HEADERS, "备注"]
    path = write_xlsx(tmp_path / "in.xlsx", [[*good_row(world), "x"]], headers=headers)
    stdout = io.StringIO()
    call_command("import_items", str(path), stdout=stdout, stderr=io.StringIO())
    last = get_column_letter(len(headers))
    assert f"提示：第1行 {last}列: “备注”不是实施清单的列，该列未导入。" in stdout.getvalue()


# --- d. importing the same file twice changes nothing the second time -----------------------------


def _snapshot() -> dict[str, list]:
    """Everything an import may write, ids and timestamps included (a rewrite shows as new ids)."""
    return {
        "items": list(ServiceItem.objects.order_by("code").values()),
        "materials": list(ItemMaterial.objects.order_by("item_id", "sort").values()),
        "steps": list(ProcessStep.objects.order_by("item_id", "sort").values()),
        "versions": list(ServiceItemVersion.objects.order_by("pk").values_list("pk", "item_id", "number")),
        "audit": list(
            AuditEntry.objects.exclude(action="catalog.import.run")
            .order_by("seq")
            .values_list("seq", "action")
        ),
    }


@pytest.mark.parametrize("publish", [False, True])
def test_same_file_twice_changes_nothing(world, tmp_path, publish):
    materials = "食品经营许可申请书|原件|1|必要|申请人自备\n营业执照|电子件|1|必要|电子证照||营业执照"
    steps = "受理|是|窗口受理人员|1|材料齐全\n决定|是|科长||\n送达|否|窗口受理人员||"
    rows = [
        # new, 咨询电话 left blank: filled from the department's phone on creation
        good_row(world, consult_phone=None, materials=materials, steps=steps, channels="窗口办理／移动端"),
        # existing items, 咨询电话 blank too
        good_row(world, code=world["item"].code, standard="01020000100", consult_phone=""),
        good_row(
            world, code=world["item2"].code, standard="01020000200", region="350100", consult_phone=None
        ),
    ]
    path = write_xlsx(tmp_path / "in.xlsx", rows)
    first = import_items(path, publish=publish)
    assert first.errors == [] and (first.created, first.updated) == (1, 2)
    new = ServiceItem.objects.get(code=NEW_CODE)
    assert new.consult_phone == world["county_scj"].phone == "0591-12345"
    before = _snapshot()

    second = import_items(path, publish=publish)
    assert second.errors == []
    assert (second.created, second.updated, second.unchanged, second.published) == (0, 0, 3, 0)
    assert _snapshot() == before
    assert ServiceItem.objects.get(code=NEW_CODE).consult_phone == "0591-12345"


def test_blank_phone_without_department_phone_stays_blank(world, tmp_path):
    world["county_scj"].phone = ""
    world["county_scj"].save()
    path = write_xlsx(tmp_path / "in.xlsx", [good_row(world, consult_phone=None)])
    import_items(path)
    before = _snapshot()
    assert ServiceItem.objects.get(code=NEW_CODE).consult_phone == ""
    assert import_items(path).unchanged == 1
    assert _snapshot() == before


# --- e. lines under the table are notes, not failed rows ------------------------------------------


def _notes(result):
    return [(n.row, n.message) for n in result.notices if n.kind == "note"]


def test_signature_line_under_the_table_is_ignored(world, tmp_path):
    rows = [good_row(world), ["填表人：张三  审核人：李四"]]
    result = run(tmp_path, rows)
    assert result.errors == [] and result.failed == 0
    assert (result.total, result.created) == (1, 1)
    assert _notes(result) == [(3, "表格下方的说明行已忽略：“填表人：张三  审核人：李四”")]
    run_row = ImportRun.objects.get(pk=result.run.pk)
    assert (run_row.total_rows, run_row.failed_rows) == (1, 0)
    assert run_row.notices[0]["message"].startswith("表格下方的说明行已忽略")


def test_anything_after_a_blank_row_under_the_table_is_ignored(world, tmp_path):
    rows = [
        good_row(world),
        [None],
        ["说明：本表由鼓楼区市场监督管理局填报，如有疑问请联系办公室。"],  # merged A4:H4
        ["制表单位：鼓楼区市场监督管理局", None, None, None, None, "日期：2026年11月30日"],
        ["审核：李四", "签字：王五"],
    ]
    path = write_xlsx(tmp_path / "in.xlsx", rows, merge="A4:H4")
    result = import_items(path)
    assert result.errors == [] and (result.total, result.failed, result.created) == (1, 0, 1)
    assert [r for r, _m in _notes(result)] == [4, 5, 6]
    assert "制表单位：鼓楼区市场监督管理局  日期：2026年11月30日" in _notes(result)[1][1]


def test_note_like_rows_between_data_rows_are_still_failed_rows(world, tmp_path):
    # Only the tail of the sheet is left out: a stray line with data rows below it is a bad row.
    rows = [
        good_row(world),
        ["填表人：张三"],
        [None],
        good_row(world, standard="01020000200"),
        good_row(world, standard="99999999999"),  # a real row at the end, with a bad code
        ["审核人：李四"],
    ]
    result = run(tmp_path, rows)
    assert (result.total, result.created, result.failed) == (4, 2, 2)
    assert {e.row for e in result.errors} == {3, 6}
    assert _notes(result) == [(7, "表格下方的说明行已忽略：“审核人：李四”")]


def test_page_shows_lines_under_the_table_as_notices(world, tmp_path, staff_client):
    path = write_xlsx(tmp_path / "清单.xlsx", [good_row(world), [None], ["填表人：张三"]])
    with path.open("rb") as fh:
        html = staff_client.post("/admin/catalog/spreadsheets/", {"file": fh}, follow=True).content.decode()
    assert "共 1 行：成功 1 行，失败 0 行" in html
    assert "表格下方的说明行已忽略：“填表人：张三”" in html and 'id="import-errors"' not in html


# --- f. the progress bar counts the data rows -----------------------------------------------------


def _clerk_file(world, tmp_path):
    """Three data rows, a blank row inside, a signature line under them, and the sheet's declared
    size cut to A1 as some programs write it (the size is not what the total is taken from)."""
    rows = [
        good_row(world),
        [None],
        good_row(world, standard="01020000200"),
        good_row(world, code=world["item"].code, standard="01020000100"),
        ["填表人：张三  审核人：李四"],
    ]
    src = write_xlsx(tmp_path / "src.xlsx", rows)
    out = tmp_path / "清单.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[A-Z0-9:]+"\s*/>', b'<dimension ref="A1"/>', data)
                assert n == 1
            zout.writestr(info, data)
    return out


def test_progress_reports_the_number_of_data_rows(world, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", 2)
    calls = []
    result = import_items(
        _clerk_file(world, tmp_path), progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(0, 3), (2, 3), (3, 3)]
    assert result.expected == result.total == 3 and result.errors == []
    run = ImportRun.objects.get(pk=result.run.pk)
    assert import_progress(run) == (3, 3)


def test_run_page_shows_progress_while_importing(world, tmp_path, monkeypatch, staff_client):
    monkeypatch.setattr(importing, "CHUNK", 2)
    user = get_user_model().objects.get(username="gulou")
    seen = []

    def progress(done, total):
        run = ImportRun.objects.latest("started_at")
        html = staff_client.get(f"/admin/catalog/spreadsheets/runs/{run.pk}/").content.decode()
        seen.append((import_progress(run), html))

    import_items(_clerk_file(world, tmp_path), user=user, progress=progress)
    assert [p for p, _h in seen] == [(0, 3), (2, 3), (3, 3)]
    html = seen[1][1]
    assert "已处理 2 / 3 行" in html
    assert '<progress id="import-progress" max="3" value="2">' in html
    # The list of runs shows the real total, not 0, while the run is going.
    assert "<td>清单.xlsx</td><td>3</td>" in html


def test_cli_progress_bar_has_the_total(world, tmp_path, capsys):
    call_command(
        "import_items", str(_clerk_file(world, tmp_path)), stdout=io.StringIO(), stderr=io.StringIO()
    )
    err = capsys.readouterr().err
    assert "3/3" in err and " 0行" not in err


def test_unfinished_run_without_total_says_wait(world, staff_client):
    run = ImportRun.objects.create(file_name="大.xlsx", user=get_user_model().objects.get(username="gulou"))
    assert import_progress(run) == (0, 0)
    html = staff_client.get(f"/admin/catalog/spreadsheets/runs/{run.pk}/").content.decode()
    assert "正在导入“大.xlsx”，请稍候" in html and 'id="import-progress"' not in html


# --- one transaction per import -------------------------------------------------------------------


def test_an_import_that_cannot_finish_writes_nothing(world, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", 1)
    real = importing._Importer.process
    calls = []

    def process(self, chunk):
        calls.append(chunk[0][0])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        real(self, chunk)

    monkeypatch.setattr(importing._Importer, "process", process)
    path = write_xlsx(tmp_path / "in.xlsx", [good_row(world), good_row(world, standard="01020000200")])
    with pytest.raises(RuntimeError):
        import_items(path)
    assert calls == [2, 3]
    assert not ServiceItem.objects.filter(code__in=[NEW_CODE, NEW_CODE2]).exists()


def test_sheet_damaged_part_way_is_refused_before_any_write(world, tmp_path):
    rows = [good_row(world), good_row(world, standard="01020000200"), good_row(world, standard="01020000100")]
    src = write_xlsx(tmp_path / "src.xlsx", rows)
    out = tmp_path / "in.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="4"') + 40]  # cut inside the last row
            zout.writestr(info, data)
    result = import_items(out)
    assert "整个文件未导入" in result.rejected
    assert (result.total, result.created) == (0, 0)
    assert not ServiceItem.objects.filter(code__in=[NEW_CODE, NEW_CODE2]).exists()
