"""The applicant's steps as a person uses them: files chosen on the materials page go up with
下一步, reuse is offered only where it works, the review shows the owner what they typed, the
receipt says what the 查询码 is for; the clerk's case page shows registry materials as cards."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from tests import factories
from tests.cases.conftest import PDF, _fast, png_bytes, world  # noqa: F401  (fixtures reused)
from tests.workbench.helpers import client_for
from yiwang.cases import services
from yiwang.cases.models import Application, Case, CaseMaterial, Notice
from yiwang.catalog import services as catalog
from yiwang.catalog.models import StandardMaterial

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
ADDRESS = "福州市鼓楼区五四路 158 号环球广场 2 座 1203 室"


def _start(client, item, key: str = "k1") -> Application:
    r = client.post(reverse("portal:apply", args=[item.code]), {"acting_for": "self", "idempotency_key": key})
    assert r.status_code == 302, r.content.decode()[:1000]
    app = Application.objects.get(idempotency_key=key)
    form = client.post(
        reverse("portal:apply_form", args=[app.pk]),
        {**app.data, "phone": PHONE, "reason": "开办餐饮店", "go": "next"},
    )
    assert form["Location"] == reverse("portal:apply_materials", args=[app.pk])
    return app


def _row(html: str, index: int) -> str:
    """The materials page's row ``index`` (li#m<index>), to look for what stands next to it."""
    m = re.search(rf'<li class="material[^"]*" id="m{index}"[^>]*>(.*?)</li>', html, re.S)
    assert m, html[:3000]
    return m.group(1)


def _stored_files() -> set[str]:
    out: set[str] = set()

    def walk(path: str) -> None:
        dirs, files = default_storage.listdir(path)
        out.update(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    if default_storage.exists("cases/materials"):
        walk("cases/materials")
    return out


def test_next_uploads_the_files_chosen_without_pressing_upload(world):  # noqa: F811
    client = client_for(world.applicant)
    app = _start(client, world.item)
    url = reverse("portal:apply_materials", args=[app.pk])
    page = client.get(url).content.decode()
    # One form holds the file inputs and 下一步, so a browser sends the files with it.
    form = re.search(r'<form method="post" enctype="multipart/form-data"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'name="file0"' in form.group(1) and 'id="materials-next"' in form.group(1)
    r = client.post(
        url,
        {
            "file0": SimpleUploadedFile("申请书.pdf", PDF),
            "file1": SimpleUploadedFile("执照.png", png_bytes()),
            "go": "next",
        },
    )
    assert r.status_code == 302 and r["Location"] == reverse("portal:apply_delivery", args=[app.pk])
    rows = {m.requirement: m for m in CaseMaterial.objects.filter(application=app)}
    assert set(rows) == {"食品经营许可申请书", "营业执照"}
    for m in rows.values():
        assert m.origin == "upload" and m.status == "pending" and default_storage.exists(m.file.name)
    assert rows["食品经营许可申请书"].original_name == "申请书.pdf"
    assert rows["营业执照"].content_type == "image/png"
    assert services.missing_materials(app) == []


def test_a_bad_file_is_refused_next_to_its_material_and_the_others_are_kept(world):  # noqa: F811
    client = client_for(world.applicant)
    app = _start(client, world.item)
    url = reverse("portal:apply_materials", args=[app.pk])
    before = _stored_files()
    r = client.post(
        url,
        {
            "file0": SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00 not a pdf"),
            "file1": SimpleUploadedFile("执照.png", png_bytes()),
            "go": "next",
        },
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "可执行程序" in _row(html, 0) and 'aria-invalid="true"' in _row(html, 0)
    assert "可执行程序" not in _row(html, 1) and "执照.png" in _row(html, 1)
    kept = CaseMaterial.objects.get(application=app)
    assert kept.requirement == "营业执照" and default_storage.exists(kept.file.name)
    # The refused file left nothing behind; the kept one is the only new file.
    assert _stored_files() - before == {kept.file.name}
    # A row's 上传 pressed with no file chosen says so next to that row.
    r = client.post(url, {"upload": "0"})
    assert r.status_code == 400 and "请选择要上传的文件" in _row(r.content.decode(), 0)


@pytest.fixture
def reuse_item(world):  # noqa: F811
    """An item asking for a former licence (an e-certificate nobody holds here) and the
    applicant's ID card (from the population registry the account was verified against)."""
    std = factories.standard_item("01020000500", name="食品经营许可延续", audience="person")
    StandardMaterial.objects.create(
        standard=std,
        name="原许可证件正、副本",
        form="original",
        source="e_certificate",
        certificate_type="原许可证件",
        sort=3,
    )
    StandardMaterial.objects.create(
        standard=std, name="居民身份证", form="electronic", source="base_registry", sort=4
    )
    item = factories.implementation(std, world.dept, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    return item


def test_reuse_is_offered_only_where_it_works(world, reuse_item):  # noqa: F811
    client = client_for(world.applicant)
    app = _start(client, reuse_item)
    url = reverse("portal:apply_materials", args=[app.pk])
    html = client.get(url).content.decode()
    names = [m["name"] for m in services.required_materials(app)]
    index = {n: i for i, n in enumerate(names)}
    # No former licence and no company: no link for them; the verified ID card has one.
    assert 'name="reuse"' not in _row(html, index["原许可证件正、副本"])
    assert 'name="reuse"' not in _row(html, index["营业执照"])
    assert f'name="reuse" value="{index["居民身份证"]}"' in _row(html, index["居民身份证"])

    r = client.post(url, {"reuse": str(index["居民身份证"])})
    assert r.status_code == 302
    taken = CaseMaterial.objects.get(application=app, requirement="居民身份证")
    assert taken.origin == "account" and taken.record["registry"] == "人口库"
    assert world.person.name not in str(taken.record)  # the record keeps masks only
    assert "（人口库）" in _row(client.get(url).content.decode(), index["居民身份证"])
    client.cookies["django_language"] = "en"
    assert "Population registry" in _row(client.get(url).content.decode(), index["居民身份证"])
    del client.cookies["django_language"]
    # The same rule refuses a forged press of the link that is not offered, next to its row.
    r = client.post(url, {"reuse": str(index["原许可证件正、副本"])})
    assert r.status_code == 400 and "请上传" in _row(r.content.decode(), index["原许可证件正、副本"])


def _to_review(client, app) -> str:
    murl = reverse("portal:apply_materials", args=[app.pk])
    files = {f"file{i}": SimpleUploadedFile(f"m{i}.pdf", PDF) for i in range(2)}
    assert client.post(murl, {**files, "go": "next"}).status_code == 302
    r = client.post(
        reverse("portal:apply_delivery", args=[app.pk]),
        {"delivery_method": "courier", "delivery_address": ADDRESS},
    )
    assert r["Location"] == reverse("portal:apply_review", args=[app.pk])
    return r["Location"]


def test_review_shows_the_owner_their_own_data_in_full(world):  # noqa: F811
    client = client_for(world.applicant)
    app = _start(client, world.item)
    html = client.get(_to_review(client, app)).content.decode()
    assert world.person.name in html and PHONE in html and ADDRESS in html
    app.refresh_from_db()
    assert PHONE not in str(app.data) and ADDRESS not in str(app.data)  # stored as before


def test_counter_review_keeps_the_masks(world):  # noqa: F811
    from yiwang.identity.services import id_number_of

    clerk = client_for(world.clerk)
    r = clerk.post(
        reverse("workbench:counter"),
        {"id_number": id_number_of(world.person), "item": world.item.code, "idempotency_key": "c1"},
    )
    app = Application.objects.get(idempotency_key="c1")
    data = {"applicant_name": world.person.name, "phone": PHONE, "reason": "窗口申请", "go": "next"}
    assert clerk.post(r["Location"], data).status_code == 302
    murl = reverse("workbench:counter_materials", args=[app.pk])
    files = {f"file{i}": SimpleUploadedFile(f"m{i}.pdf", PDF) for i in range(2)}
    assert clerk.post(murl, {**files, "go": "next"}).status_code == 302
    durl = reverse("workbench:counter_delivery", args=[app.pk])
    assert clerk.post(durl, {"delivery_method": "courier", "delivery_address": ADDRESS}).status_code == 302
    page = clerk.get(reverse("workbench:counter_review", args=[app.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert PHONE not in html and "138****8000" in html
    assert ADDRESS not in html and "福州市鼓楼区****" in html
    assert f"<dd>{world.person.name}</dd>" not in html


def test_receipt_says_what_the_check_code_is_for(world, django_capture_on_commit_callbacks):  # noqa: F811
    client = client_for(world.applicant)
    app = _start(client, world.item)
    review = _to_review(client, app)
    app.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(review, {"idempotency_key": app.idempotency_key})
    case = Case.objects.get(application=app)
    assert r["Location"] == reverse("portal:case_receipt", args=[case.number])
    html = client.get(r["Location"]).content.decode()
    note = re.search(r'<p class="note" id="check-code-note">(.*?)</p>', html, re.S)
    assert note and "不要告诉他人" in note.group(1)
    assert f'href="{reverse("portal:case_lookup")}"' in note.group(1)
    english = client_for(world.applicant)
    english.cookies["django_language"] = "en"
    html_en = english.get(r["Location"]).content.decode()
    assert "Keep it secret" in html_en
    receipt = Notice.objects.get(case=case, kind="receipt")
    with receipt.file.open("rb") as fh:
        text = re.sub(
            r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(fh.read())).pages)
        )
    assert "查询码是您查询本办件的凭证" in text and "/cases/lookup/" in text and "不要告诉他人" in text


def test_clerk_sees_registry_and_certificate_materials_as_cards(world, reuse_item):  # noqa: F811
    applicant = client_for(world.applicant)
    app = _start(applicant, reuse_item)
    services.provide_from_source(app, requirement="居民身份证", user=world.applicant)
    for name in services.missing_materials(app):
        services.upload_material(
            app, requirement=name, uploaded=SimpleUploadedFile("m.pdf", PDF), user=world.applicant
        )
    case = services.submit(app, user=world.applicant)
    # An e-certificate's record as the exchange app writes it (exchange/providers.py).
    CaseMaterial.objects.create(
        application=app,
        case=case,
        requirement="原许可证件正、副本",
        origin="e_certificate",
        record={
            "certificate_id": 1,
            "type": "食品经营许可证",
            "number": "ZZ35************0001",
            "holder": "陈**",
            "issuer": world.dept.name,
            "issued_on": "2026-01-05",
            "valid_until": "长期",
            "registry": "电子证照库",
            "access_id": 7,
        },
    )
    html = client_for(world.clerk).get(reverse("workbench:case", args=[case.pk])).content.decode()
    cards = re.findall(r'<dl class="record-card[^>]*>(.*?)</dl>', html, re.S)
    assert len(cards) == 2, html[:3000]
    person, cert = sorted(cards, key=lambda c: "电子证照库" in c)
    for key in ("id_number", "verified_at", "registry", "certificate_id", "access_id", "issued_on"):
        assert key not in re.sub(r"<[^>]+>", " ", html), key  # no raw key anywhere on the page
    assert "居民身份信息" in person and "人口库" in person and world.person.id_number_masked in person
    assert world.person.name[0] + "*" in person and world.person.name not in person
    assert "食品经营许可证" in cert and "ZZ35************0001" in cert and world.dept.name in cert
    assert "2026-01-05" in cert and "长期" in cert and "电子证照库" in cert
    english = client_for(world.clerk)
    english.cookies["django_language"] = "en"
    html_en = english.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert "E-certificate library" in html_en and "Population registry" in html_en
