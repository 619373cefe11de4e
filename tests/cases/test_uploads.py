from __future__ import annotations

import io
import os
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.cases import providers, services
from yiwang.cases.models import CaseMaterial
from yiwang.cases.uploads import UploadRefused, check_stream

from .conftest import PDF, png_bytes


def stored_files(root) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def jpeg_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format="JPEG")
    return buf.getvalue()


def ofd_bytes(with_ofd_xml: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml" if with_ofd_xml else "other.xml", "<ofd:OFD/>")
        z.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("a.pdf", PDF, "pdf"),
        ("照片.JPG", jpeg_bytes(), "jpeg"),
        ("b.png", png_bytes(), "png"),
        ("证照.ofd", ofd_bytes(), "ofd"),
    ],
)
def test_accepted_kinds_are_read_from_the_content(name, content, kind):
    checked = check_stream([content], name)
    try:
        # PDF and images are rewritten (cases.sanitize): the size is the stored copy's.
        assert checked.kind == kind and checked.size == os.path.getsize(checked.temp_path)
        assert kind != "ofd" or checked.size == len(content)
    finally:
        os.unlink(checked.temp_path)


@pytest.mark.parametrize(
    "name, content, code, words",
    [
        ("empty.pdf", b"", "empty", "空文件"),
        ("virus.pdf", b"MZ\x90\x00" + b"\0" * 100, "executable", "可执行"),
        ("a.pdf", b"\x7fELF\x02\x01" + b"\0" * 100, "executable", "可执行"),
        ("run.pdf", b"#!/bin/sh\nrm -rf /\n", "executable", "可执行"),
        ("notes.pdf", "这不是PDF".encode(), "bad_type", "不是 PDF"),
        ("fake.ofd", ofd_bytes(with_ofd_xml=False), "bad_type", "不是 PDF"),
        ("photo.pdf", png_bytes(), "extension_mismatch", "扩展名与内容不符"),
        ("scan.png", PDF, "extension_mismatch", "扩展名与内容不符"),
    ],
)
def test_bad_uploads_are_refused_with_a_chinese_message(name, content, code, words):
    with pytest.raises(UploadRefused, match=words) as exc:
        check_stream([content], name)
    assert exc.value.errors[0].code == code


def test_too_large_is_cut_off_while_streaming(settings):
    settings.YIWANG_MAX_UPLOAD_BYTES = 1024
    read = []

    def chunks():
        for i in range(100):
            read.append(i)
            yield b"%PDF-" + b"x" * 600 if i == 0 else b"x" * 600

    with pytest.raises(UploadRefused, match="1 MB|大小上限") as exc:
        check_stream(chunks(), "big.pdf")
    assert exc.value.errors[0].code == "too_large"
    assert len(read) == 2  # stopped at the limit, not read to the end
    with pytest.raises(UploadRefused, match="大小上限"):
        check_stream([PDF], "big.pdf", declared_size=2048)


def test_refused_upload_leaves_no_file_and_no_row(world, settings):
    app = services.start_application(world.applicant, world.item)
    before = stored_files(settings.MEDIA_ROOT)
    with pytest.raises(UploadRefused):
        services.upload_material(
            app,
            requirement="食品经营许可申请书",
            uploaded=SimpleUploadedFile("x.pdf", b"MZ" + b"\0" * 10),
            user=world.applicant,
        )
    assert stored_files(settings.MEDIA_ROOT) == before
    assert not CaseMaterial.objects.exists()


def test_failed_row_write_deletes_the_stored_file(world, settings, monkeypatch):
    app = services.start_application(world.applicant, world.item)

    def boom(*a, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(CaseMaterial.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.upload_material(
            app,
            requirement="食品经营许可申请书",
            uploaded=SimpleUploadedFile("x.pdf", PDF),
            user=world.applicant,
        )
    assert stored_files(settings.MEDIA_ROOT) == []


def test_upload_is_stored_with_hash_and_type(world):
    app = services.start_application(world.applicant, world.item)
    m = services.upload_material(
        app,
        requirement="食品经营许可申请书",
        uploaded=SimpleUploadedFile("申请书.pdf", PDF),
        user=world.applicant,
    )
    assert m.content_type == "application/pdf" and m.size == m.file.size and len(m.sha256) == 64
    assert m.original_name == "申请书.pdf"
    assert default_storage.exists(m.file.name)
    with pytest.raises(Exception, match="没有名为"):
        services.upload_material(
            app, requirement="不存在的材料", uploaded=SimpleUploadedFile("a.pdf", PDF), user=world.applicant
        )


def test_registry_material_is_taken_from_the_account(world):
    from yiwang.identity import services as identity
    from yiwang.identity.synthetic import demo_companies, register_through_fake_sms

    app = services.start_application(world.applicant, world.item)
    licence = next(m for m in services.required_materials(app) if m["source"] == "e_certificate")
    # A person without a company has no business licence to reuse: not offered, and refused.
    assert not providers.reusable(licence, user=world.applicant, company=None)
    with pytest.raises(Exception, match="请上传"):
        services.provide_from_source(app, requirement=licence["name"], user=world.applicant)

    a = demo_companies()[0]
    from yiwang.identity.synthetic import demo_people

    lin = demo_people()[0]
    rep = register_through_fake_sms(
        username="lin", password="Yiwang-test-2026!", name=lin.name, id_number=lin.id_number, phone=lin.phone
    )
    company = identity.register_company(person=rep, credit_code=a.credit_code, name=a.name)
    app2 = services.start_application(rep.user, world.item, acting_for=company)
    assert providers.reusable(licence, user=rep.user, company=company)
    m = services.provide_from_source(app2, requirement=licence["name"], user=rep.user)
    assert m.origin == "registry" and m.record["credit_code"] == company.credit_code and not m.file
    assert services.missing_materials(app2) == ["食品经营许可申请书"]


def test_identity_material_from_verified_person():
    from types import SimpleNamespace

    person = SimpleNamespace(
        name="陈雅婷", id_number_masked="3****************4", verified_at=None, phone_verified_at=None
    )
    req = {"name": "居民身份证", "source": "base_registry", "certificate_type": "居民身份证"}
    user = SimpleNamespace(person=person)
    assert providers.AccountProvider().find(req, user=user) is None
    import datetime as dt

    # Matched in the registry but the phone never proven (an account from before one-time
    # codes): not real-name level 2, so the account does not vouch for the ID card.
    person.verified_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert providers.AccountProvider().find(req, user=user) is None
    person.phone_verified_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    provider = providers.AccountProvider()
    found = provider.take(provider.find(req, user=user), req, user=user)
    assert found.origin == "account" and found.record["id_number"].count("*") == 16
    assert found.record["name"] == "陈**"  # the record keeps the masked name only
    assert not providers.AccountProvider().supports({"name": "申请书", "source": "applicant"})


def test_material_checklist(world):
    from yiwang.cases import selectors

    app = services.start_application(world.applicant, world.item)
    rows = selectors.material_checklist(app)
    assert [(r.name, r.required, r.reusable, r.provided) for r in rows] == [
        ("食品经营许可申请书", True, False, []),
        # A person applying for themself holds no business licence: nothing to reuse.
        ("营业执照", True, False, []),
    ]
    services.upload_material(
        app, requirement="食品经营许可申请书", uploaded=SimpleUploadedFile("a.pdf", PDF), user=world.applicant
    )
    rows = selectors.material_checklist(app)
    assert len(rows[0].provided) == 1 and not rows[0].faulty


def test_materials_frozen_after_submission_except_as_correction(world):
    from yiwang.cases import actions
    from yiwang.core.errors import DomainError

    from .conftest import submitted_case

    case = submitted_case(world)
    with pytest.raises(DomainError, match="已提交"):
        services.upload_material(
            case.application,
            requirement="营业执照",
            uploaded=SimpleUploadedFile("a.pdf", PDF),
            user=world.applicant,
        )
    with pytest.raises(DomainError, match="不需要补正"):
        services.upload_material(
            case.application,
            requirement="营业执照",
            uploaded=SimpleUploadedFile("a.pdf", PDF),
            user=world.applicant,
            case=case,
        )
    actions.RequestCorrection(case, world.clerk, items=[{"material": "营业执照", "reason": "过期"}]).run()
    case.refresh_from_db()
    m = services.upload_material(
        case.application,
        requirement="营业执照",
        uploaded=SimpleUploadedFile("a.pdf", PDF),
        user=world.applicant,
        case=case,
    )
    assert m.case == case
