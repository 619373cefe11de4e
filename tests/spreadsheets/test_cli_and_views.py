from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import load_workbook
from tests.spreadsheets.conftest import HEADERS, good_row, read_sheet, write_xlsx

from yiwang.catalog.models import ImportRun, ServiceItem
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role, StaffRole

pytestmark = pytest.mark.django_db


def test_cli_export_then_import(world, tmp_path):
    out = tmp_path / "list.xlsx"
    stdout = io.StringIO()
    call_command("export_items", str(out), "--region", "350100", stdout=stdout, stderr=io.StringIO())
    assert "导出 2 行" in stdout.getvalue()
    stdout = io.StringIO()
    call_command("import_items", str(out), stdout=stdout, stderr=io.StringIO())
    assert "共 2 行：成功 2 行（新增 0，更新 0，无变化 2），失败 0 行" in stdout.getvalue()
    entry = AuditEntry.objects.filter(action="catalog.import.run").latest("seq")
    assert entry.channel == "cli" and entry.actor_label == "system"


def test_cli_department_filter_and_unknown_region(world, tmp_path):
    out = tmp_path / "d.xlsx"
    call_command(
        "export_items",
        str(out),
        "--department",
        str(world["city_scj"].pk),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert [r[0] for r in read_sheet(out)[1:]] == [world["item2"].code]
    with pytest.raises(CommandError, match="no such region"):
        call_command(
            "export_items", str(out), "--region", "999999", stdout=io.StringIO(), stderr=io.StringIO()
        )


def test_cli_import_with_report_user_and_publish(world, tmp_path):
    user = get_user_model().objects.create_user("gulou", password="x" * 12, is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN, department=world["county_scj"])
    rows = [good_row(world), good_row(world, standard="01020000200", region="350100")]
    path = write_xlsx(tmp_path / "in.xlsx", rows)
    report = tmp_path / "report.xlsx"
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "import_items",
        str(path),
        "--publish",
        "--report",
        str(report),
        "--user",
        "gulou",
        stdout=stdout,
        stderr=stderr,
    )
    assert (
        "成功 1 行" in stdout.getvalue()
        and "失败 1 行" in stdout.getvalue()
        and "发布 1 项" in stdout.getvalue()
    )
    assert "第3行 D列（部门代码）: 您无权管理“福州市市场监督管理局”的实施清单" in stderr.getvalue()
    lines = read_sheet(report, "错误报告")
    assert lines[1][:3] == (3, "D", "部门代码")
    assert ServiceItem.objects.get(code__startswith="01020000300").status == "published"
    entry = AuditEntry.objects.filter(action="catalog.import.run").latest("seq")
    assert entry.actor_label == "gulou" and entry.channel == "cli"


def test_cli_rejected_file_fails(world, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match="PDF"):
        call_command("import_items", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="no such user"):
        call_command("import_items", str(path), "--user", "ghost", stdout=io.StringIO(), stderr=io.StringIO())


# --- the back-office page ----------------------------------------------------------------------

URL = "/admin/catalog/spreadsheets/"


def test_page_requires_staff(client, world):
    assert client.get(URL).status_code == 302


def test_upload_shows_report_and_download(staff_client, world, tmp_path):
    page = staff_client.get(URL)
    assert page.status_code == 200 and "导入实施清单" in page.content.decode()
    rows = [good_row(world), good_row(world, standard="01020000200", region="350100")]
    path = write_xlsx(tmp_path / "上传.xlsx", rows)
    with path.open("rb") as fh:
        resp = staff_client.post(URL, {"file": fh})
    run = ImportRun.objects.latest("started_at")
    assert resp.status_code == 302 and resp["Location"] == f"{URL}runs/{run.pk}/"
    resp = staff_client.get(resp["Location"])
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "共 2 行：成功 1 行" in html and "您无权管理“福州市市场监督管理局”的实施清单" in html
    run.refresh_from_db()
    assert run.file_name == "上传.xlsx" and run.failed_rows == 1 and run.user.username == "gulou"
    report = staff_client.get(f"{URL}runs/{run.pk}/report.xlsx")
    assert report.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(report.streaming_content)), read_only=True)
    assert [tuple(r) for r in wb["错误报告"].iter_rows(values_only=True)][1][:2] == (3, "D")
    entry = AuditEntry.objects.filter(action="catalog.import.run").latest("seq")
    assert entry.channel == "admin" and entry.actor_label == "gulou"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "可执行程序"),
        (b"%PDF-1.5 ...", "PDF 文件"),
        (b"PK\x03\x04broken", "文件已损坏"),
    ],
)
def test_hostile_upload_is_a_message_not_a_500(staff_client, tmp_path, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = staff_client.post(URL, {"file": SimpleUploadedFile("清单.xlsx", content)}, follow=True)
    assert resp.status_code == 200
    assert "文件未导入" in resp.content.decode()
    assert message in resp.content.decode()


def test_oversized_upload(staff_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.YIWANG_MAX_IMPORT_BYTES = 1000
    resp = staff_client.post(URL, {"file": SimpleUploadedFile("big.xlsx", b"PK\x03\x04" + b"0" * 2000)})
    assert resp.status_code == 200 and "超过了导入上限" in resp.content.decode()
    assert not ImportRun.objects.exists()


def test_export_and_template_downloads(staff_client, world):
    resp = staff_client.get(f"{URL}export.xlsx")
    assert resp.status_code == 200
    rows = [
        tuple(r)
        for r in load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active.iter_rows(
            values_only=True
        )
    ]
    assert list(rows[0]) == HEADERS and [r[0] for r in rows[1:]] == [world["item"].code]  # own scope only
    resp = staff_client.get(f"{URL}template.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active
    assert [c.value for c in ws[1]] == HEADERS and ws.max_row == 1


def test_report_of_someone_else_is_hidden(staff_client, world, tmp_path):
    from yiwang.catalog.spreadsheets import import_items

    result = import_items(write_xlsx(tmp_path / "in.xlsx", [good_row(world, region="1")]))  # by the system
    assert staff_client.get(f"{URL}runs/{result.run.pk}/report.xlsx").status_code == 404


def test_export_filters_on_page(staff_client, world):
    resp = staff_client.get(f"{URL}export.xlsx", {"region": "350102"})
    rows = list(
        load_workbook(io.BytesIO(b"".join(resp.streaming_content))).active.iter_rows(values_only=True)
    )
    assert [r[0] for r in rows[1:]] == [world["item"].code]
    resp = staff_client.get(f"{URL}export.xlsx", {"region": "999999"})
    assert resp.status_code == 200 and "区划代码“999999”不存在" in resp.content.decode()
    resp = staff_client.get(f"{URL}export.xlsx", {"department": "abc"})
    assert "部门 ID“abc”不存在" in resp.content.decode()


def test_unfinished_run_page_refreshes(staff_client):
    from django.contrib.auth import get_user_model as gum

    run = ImportRun.objects.create(file_name="大.xlsx", user=gum().objects.get(username="gulou"))
    html = staff_client.get(f"{URL}runs/{run.pk}/").content.decode()
    assert "正在导入“大.xlsx”" in html and 'http-equiv="refresh"' in html


def test_uploaded_file_is_removed_after_import(staff_client, world, tmp_path, settings):
    path = write_xlsx(tmp_path / "a.xlsx", [good_row(world)])
    with path.open("rb") as fh:
        staff_client.post(URL, {"file": fh})
    imports = settings.MEDIA_ROOT / "imports"
    assert not imports.exists() or not any(imports.iterdir())
    assert ServiceItem.objects.filter(code__startswith="01020000300").exists()
