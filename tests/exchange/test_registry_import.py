"""The owner's xlsx update of a base registry on the workbench: template, upload, errors per row
(nothing written), owner only, a second factor; the registry list with its counts."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.exchange.test_registries import PERSON, PERSON2, data_admin, owners  # noqa: F401
from tests.identity.auth.helpers import login_with_second_factor
from yiwang.exchange import registries
from yiwang.exchange.models import RegistryRecord

HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户籍状态", "操作"]


def sheet(*rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["人口库更新"])  # a title row above the header is allowed
    ws.append(HEADER)
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "people.xlsx"
    return out


@pytest.fixture
def admin_client(client, owners):  # noqa: F811
    admin = data_admin("gaj", owners["population"])
    login_with_second_factor(client, admin)
    return client


def url(name: str, code: str = "population") -> str:
    return reverse(f"workbench:{name}", args=[code])


def test_template_names_the_fields(admin_client):
    response = admin_client.get(url("registry_template"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header[:3] == ["公民身份号码", "姓名", "性别"] and header[-1] == "操作"
    assert wb.worksheets[1]["E2"].value == "个人敏感"


def test_a_bad_row_writes_nothing_and_is_named(admin_client):
    bad = PERSON2[:17] + ("0" if PERSON2[17] != "0" else "1")
    response = admin_client.post(
        url("registry_import"),
        {
            "file": sheet(
                (PERSON, "陈小明", "男", "1990-01-02", "正常", ""),
                (bad, "林芳", "女", "1985-06-07", "正常", ""),
            )
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="row-4"' in page and "第 4 行" in page and "身份证号校验位错误" in page
    assert bad not in page  # the row's subject is shown masked
    assert not RegistryRecord.objects.exists()


def test_a_good_sheet_is_written_once(admin_client):
    f = sheet(
        (PERSON, "陈小明", "男", "1990-01-02", "正常", ""), (PERSON2, "林芳", "女", "1985-06-07", "正常", "")
    )
    response = admin_client.post(url("registry_import"), {"file": f})
    assert response.status_code == 200 and "新增 2" in response.content.decode()
    assert registries.lookup("population", [PERSON2], ["name"])[PERSON2][0]["name"] == "林芳"
    f = sheet((PERSON2, "", "", "", "", "注销"))
    response = admin_client.post(url("registry_import"), {"file": f})
    assert response.status_code == 200 and "注销 1" in response.content.decode()
    assert PERSON2 not in registries.lookup("population", [PERSON2], ["name"])
    listing = admin_client.get(reverse("workbench:registries")).content.decode()
    assert "福建省公安厅" in listing and 'href="/workbench/exchange/registries/population/import/"' in listing


def test_files_that_are_not_sheets_are_refused(admin_client):
    pdf = io.BytesIO(b"%PDF-1.4 nothing")
    pdf.name = "x.xlsx"
    response = admin_client.post(url("registry_import"), {"file": pdf})
    assert response.status_code == 400 and "不是 Excel" in response.content.decode()
    wb = Workbook()
    wb.active.append(["姓名", "电话", "公民身份号码"])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "x.xlsx"
    response = admin_client.post(url("registry_import"), {"file": out})
    assert response.status_code == 400 and "电话" in response.content.decode()
    assert admin_client.get(url("registry_import", "nowhere")).status_code == 404


def test_only_the_owners_data_admins_with_a_second_factor(client, owners):  # noqa: F811
    other = data_admin("scj", owners["legal_entity"])
    login_with_second_factor(client, other)
    assert client.get(url("registry_import")).status_code == 403
    assert client.post(url("registry_import"), {"file": sheet()}).status_code == 403
    assert client.get(url("registry_template")).status_code == 403
    assert client.get(url("registry_import", "legal_entity")).status_code == 200
    client.logout()
    owner = data_admin("gaj", owners["population"])
    client.force_login(owner)  # password only
    response = client.get(url("registry_import"))
    assert response.status_code == 302 and "/mfa" in response["Location"]
    assert not RegistryRecord.objects.exists()
