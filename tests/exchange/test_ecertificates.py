"""E-certificates: issued when a case is approved, a real PDF, offered as a later material,
every issue, use and read audited, personal data encrypted, rotated with the data keys."""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from tests.cases.conftest import PASSWORD, pdf_upload
from yiwang.cases import actions, selectors, services
from yiwang.cases.models import CaseMaterial
from yiwang.core import crypto
from yiwang.core.errors import NotPermitted
from yiwang.core.models import AuditEntry
from yiwang.exchange import selectors as ex_selectors
from yiwang.exchange import services as ex_services
from yiwang.exchange.models import ECertificate
from yiwang.identity.services import id_number_of


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))


def apply(world, item):
    app = services.start_application(world.applicant, item)
    services.save_draft(app, user=world.applicant, data={**app.data, "reason": "小作坊"})
    return app


def approved_case(world, item, capture, decision="approve"):
    # The test's transaction never commits, so the steps share one after-commit batch
    # (cases/after_commit.py): run what the whole lifecycle left, as its commits would.
    with capture(execute=True):
        app = apply(world, item)
        for m in services.required_materials(app):
            services.upload_material(app, requirement=m["name"], uploaded=pdf_upload(), user=world.applicant)
        case = services.submit(app, user=world.applicant)
        case = actions.Accept(case, world.clerk).run()
        case = actions.Review(case, world.approver, decision="pass").run()
        kw = {"reasons": "场所不符合要求"} if decision == "deny" else {}
        case = actions.Decide(case, world.head, decision=decision, **kw).run()
    return case


def test_approval_issues_a_certificate_with_a_real_pdf(
    world, items, django_capture_on_commit_callbacks, caplog
):
    issuing, _ = items
    with caplog.at_level(logging.WARNING, logger="yiwang.core.pdf_page"):
        case = approved_case(world, issuing, django_capture_on_commit_callbacks)
    # every character a notice or the certificate sets was declared: none drawn a second time
    assert not [r for r in caplog.records if r.name == "yiwang.core.pdf_page"]
    cert = ECertificate.objects.get(case=case)
    assert cert.cert_type == "食品小作坊登记证" and cert.number == f"ZZ{case.number}"
    assert cert.holder_kind == "person" and cert.holder_hash == world.person.id_number_hash
    assert cert.department == world.dept and cert.valid_until == cert.issued_on.replace(
        year=cert.issued_on.year + 5
    ) - dt.timedelta(days=1)
    # Personal data only encrypted in the row.
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM exchange_ecertificate WHERE id = %s", [cert.pk])
        row = " ".join(str(v) for v in cur.fetchone())
    id_number = id_number_of(world.person)
    assert id_number not in row and world.person.name not in row
    assert cert.holder_name_masked == world.person.name[0] + "**"
    # The PDF was rendered after the commit: real, with Chinese text and the holder.
    with cert.file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    for expected in (
        "食品小作坊登记证",
        cert.number,
        world.person.name,
        crypto.mask_id_number(id_number),  # masked, as printed e-licences show it
        world.dept.name,
        case.number,
    ):
        assert expected in text, expected
    assert id_number not in text
    entry = AuditEntry.objects.get(action="exchange.issue")
    assert entry.detail["case"] == case.number and entry.detail["issued_by"] == world.head.pk
    # Idempotent: a second call gives the same certificate.
    assert ex_services.issue_for_case(case, actor=world.head).pk == cert.pk
    assert ECertificate.objects.count() == 1


def test_no_certificate_for_a_denial_or_an_item_without_one(world, items, django_capture_on_commit_callbacks):
    issuing, _ = items
    approved_case(world, issuing, django_capture_on_commit_callbacks, decision="deny")
    approved_case(world, world.item, django_capture_on_commit_callbacks)  # result is not a certificate
    assert ECertificate.objects.count() == 0
    # The element decides, never the result name's last character.
    assert ex_services.certificate_type_of({"result_name": "营业执照", "result_kind": "decision"}) == ""
    assert (
        ex_services.certificate_type_of(
            {"result_name": "准予决定书", "result_kind": "certificate", "result_certificate_type": "营业执照"}
        )
        == "营业执照"
    )


def test_a_later_application_uses_the_certificate_instead_of_an_upload(
    world, items, client, django_capture_on_commit_callbacks
):
    issuing, using = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    app = apply(world, using)
    row = next(r for r in selectors.material_checklist(app) if r.name == "食品小作坊登记证")
    assert row.source == "e_certificate" and row.reusable and not row.provided

    material = services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    assert material.origin == "e_certificate"
    assert material.record["number"] == ex_services.mask_number(cert.number) != cert.number
    assert material.record["type"] == "食品小作坊登记证" and material.record["issuer"] == world.dept.name
    assert material.content_type == "application/pdf" and material.sha256 == cert.sha256
    use = AuditEntry.objects.get(action="exchange.use")
    assert use.detail["number"] == cert.number and use.detail["user"] == world.applicant.pk

    # The applicant's checklist shows it as 电子证照 with the masked number.
    client.login(username="applicant", password=PASSWORD)
    page = client.get(reverse("portal:apply_materials", args=[app.pk]))
    html = page.content.decode()
    assert page.status_code == 200, html[:500]
    assert "电子证照" in html and ex_services.mask_number(cert.number) in html and cert.number not in html

    # The rest uploaded, the application goes through with the certificate as its material.
    for m in services.missing_materials(app):
        services.upload_material(app, requirement=m, uploaded=pdf_upload(), user=world.applicant)
    case = services.submit(app, user=world.applicant)
    assert CaseMaterial.objects.get(case=case, requirement="食品小作坊登记证").origin == "e_certificate"


def test_revoked_or_expired_certificates_are_not_offered(world, items, django_capture_on_commit_callbacks):
    issuing, using = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    assert ex_selectors.valid_certificate("食品小作坊登记证", user=world.applicant) == cert
    assert (
        ex_selectors.valid_certificate("食品小作坊登记证", user=world.applicant, on=cert.valid_until) == cert
    )
    later = cert.valid_until + dt.timedelta(days=1)
    assert ex_selectors.valid_certificate("食品小作坊登记证", user=world.applicant, on=later) is None
    assert ex_selectors.valid_certificate("食品小作坊登记证", user=world.outsider) is None
    with pytest.raises(NotPermitted):
        ex_services.revoke(cert, user=world.clerk, reason="x")
    ex_services.revoke(cert, user=world.head, reason="申请人申请注销")
    app = apply(world, using)
    from yiwang.core.errors import DomainError

    with pytest.raises(DomainError):
        services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    assert AuditEntry.objects.filter(action="exchange.revoke").count() == 1


def test_reading_is_for_the_holder_and_the_issuing_department_and_audited(
    world, items, django_capture_on_commit_callbacks
):
    issuing, _ = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    assert ex_services.read_certificate(cert, user=world.applicant).startswith(b"%PDF-")
    assert ex_services.read_certificate(cert, user=world.clerk).startswith(b"%PDF-")
    for stranger in (world.outsider, world.far_clerk, world.other_dept_approver):
        with pytest.raises(NotPermitted):
            ex_services.read_certificate(cert, user=stranger)
    readers = list(
        AuditEntry.objects.filter(action="exchange.read").order_by("seq").values_list("detail", flat=True)
    )
    assert [d["user"] for d in readers] == [world.applicant.pk, world.clerk.pk]


def test_rotation_covers_certificate_data(world, items, monkeypatch, django_capture_on_commit_callbacks):
    issuing, _ = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    old = ",".join(f"{kid}:{base64.urlsafe_b64encode(k).decode()}" for kid, k in crypto._data_keys())
    new = "x9:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        monkeypatch.setenv("YIWANG_DATA_KEYS", f"{new},{old}")
        crypto.reset_key_cache()
        call_command("rotate_data_keys", stdout=io.StringIO())
        monkeypatch.setenv("YIWANG_DATA_KEYS", new)
        crypto.reset_key_cache()
        cert.refresh_from_db()
        assert cert.data_cipher.startswith("x9:")
        assert ex_services.certificate_data(cert)["holder_name"] == world.person.name
    finally:
        monkeypatch.undo()
        crypto.reset_key_cache()


def test_a_company_holds_the_certificate_of_its_case(world, items, django_capture_on_commit_callbacks):
    from yiwang.identity import services as identity
    from yiwang.identity.synthetic import demo_companies, demo_people, register_through_fake_sms

    issuing, using = items
    lin, firm = demo_people()[0], demo_companies()[0]
    rep = register_through_fake_sms(
        username="lin", password=PASSWORD, name=lin.name, id_number=lin.id_number, phone=lin.phone
    )
    company = identity.register_company(person=rep, credit_code=firm.credit_code, name=firm.name)
    app = services.start_application(rep.user, issuing, acting_for=company)
    for m in services.required_materials(app):
        services.upload_material(app, requirement=m["name"], uploaded=pdf_upload(), user=rep.user)
    case = services.submit(app, user=rep.user)
    case = actions.Accept(case, world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    with django_capture_on_commit_callbacks(execute=True):
        case = actions.Decide(case, world.head, decision="approve").run()
    cert = ECertificate.objects.get(case=case)
    assert cert.holder_kind == "company" and cert.holder_name_masked == company.name
    assert cert.holder_hash == ex_services.company_hash(company.credit_code) != rep.id_number_hash
    assert company.credit_code in text_of(ex_services.read_certificate(cert, user=rep.user))

    # Offered when applying for the company, not to the representative as a person.
    assert ex_selectors.valid_certificate(cert.cert_type, user=rep.user, company=company) == cert
    assert ex_selectors.valid_certificate(cert.cert_type, user=rep.user) is None
    with pytest.raises(NotPermitted):
        ex_services.read_certificate(cert, user=world.applicant)
    later = services.start_application(rep.user, using, acting_for=company)
    m = services.provide_from_source(later, requirement="食品小作坊登记证", user=rep.user)
    assert m.origin == "e_certificate" and m.record["holder"] == company.name
