"""Generated documents at rest: an e-certificate's PDF holds the holder's name and the masked ID
number, never the full one; certificates, their copies in later applications and notices are
stored under names nobody can derive from a case or certificate; the files reach people only
through the permission-checked views. Files made before these rules are brought up to them by
``yiwang secure-document-files``."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from fpdf import FPDF

from tests.cases.conftest import PASSWORD
from tests.exchange.test_ecertificates import apply, approved_case, text_of
from yiwang.cases import services
from yiwang.cases.models import CaseMaterial, Notice
from yiwang.core.crypto import mask_id_number
from yiwang.core.files import is_unguessable
from yiwang.exchange.models import CertificateAccess, ECertificate
from yiwang.identity.services import id_number_of
from yiwang.identity.synthetic import demo_people, register_through_fake_sms


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def assert_unguessable(name: str, *derivable: str) -> None:
    assert is_unguessable(name), name
    base = name.rsplit("/", 1)[-1]
    for value in derivable:
        assert value not in base, (value, name)


def test_the_certificate_file_holds_the_masked_number_under_an_unguessable_name(
    world, items, django_capture_on_commit_callbacks
):
    issuing, using = items
    case = approved_case(world, issuing, django_capture_on_commit_callbacks)
    cert = ECertificate.objects.get(case=case)
    full = id_number_of(world.person)
    data = stored_bytes(cert.file.name)
    text = text_of(data)
    assert full not in text and full.encode() not in data
    assert mask_id_number(full) in text and world.person.name in text  # staff still know who holds it
    # Not "<pk>.pdf" either: is_unguessable requires the 32 hex digits (a one-digit pk followed by
    # "." can end 1 random name in 16, so it is not looked for as a substring).
    assert_unguessable(cert.file.name, cert.number, case.number, case.number[-6:])
    # The notices of the case: no notice or case number in their names either.
    notices = list(Notice.objects.filter(case=case))
    assert len(notices) >= 3
    for notice in notices:
        assert_unguessable(notice.file.name, notice.number, case.number)
    # A later application's copy of the certificate: the same masked PDF, an unguessable name.
    app = apply(world, using)
    copy = services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    assert_unguessable(copy.file.name, cert.cert_type, cert.number)
    assert copy.original_name == "食品小作坊登记证.pdf"  # what the page shows and downloads as
    assert full not in text_of(stored_bytes(copy.file.name))


def _other_applicant():
    p = demo_people()[2]
    person = register_through_fake_sms(
        username="other", password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )
    return person.user


def test_only_the_holder_gets_the_file_through_the_view(
    world, items, client, django_capture_on_commit_callbacks
):
    issuing, _ = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    url = reverse("portal:certificate_file", args=[cert.pk])
    # Storage is not served: not under MEDIA_URL, whatever the name.
    assert client.get(settings.MEDIA_URL + cert.file.name).status_code == 404
    # Anonymous: sent to log in, no file.
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    # Another applicant, a user without a person record, staff: a 404 as for someone else's case.
    _other_applicant()
    for username in ("other", "outsider", "clerk"):
        client.logout()
        client.login(username=username, password=PASSWORD)
        assert client.get(url).status_code == 404, username
    assert client.get(reverse("portal:certificate_file", args=[cert.pk + 1000])).status_code == 404
    # The holder: the PDF, not cached, and the read is in their log.
    client.logout()
    client.login(username="applicant", password=PASSWORD)
    before = CertificateAccess.objects.filter(certificate=cert, kind="read").count()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == stored_bytes(cert.file.name)
    assert (
        response["Cache-Control"] == "private, no-store" and response["X-Content-Type-Options"] == "nosniff"
    )
    assert CertificateAccess.objects.filter(certificate=cert, kind="read").count() == before + 1
    # The holder's list links to it.
    assert url in client.get(reverse("portal:my_certificates")).content.decode()


def _legacy_pdf(text: str) -> bytes:
    """What the former renderer stored: the full ID number in the text (a core font, ASCII)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def test_the_command_brings_former_files_up_to_the_rules(world, items, django_capture_on_commit_callbacks):
    """A certificate, its copy and a notice stored the former way (full ID number, names from
    the numbers): the command renders the certificate again, refreshes the copy, moves the
    notice, deletes the former files; a second run changes nothing."""
    issuing, using = items
    case = approved_case(world, issuing, django_capture_on_commit_callbacks)
    cert = ECertificate.objects.get(case=case)
    full = id_number_of(world.person)
    legacy = _legacy_pdf(f"ID {full}")
    old_cert = default_storage.save(f"exchange/certificates/2026/01/{cert.number}.pdf", ContentFile(legacy))
    default_storage.delete(cert.file.name)
    ECertificate.objects.filter(pk=cert.pk).update(file=old_cert)
    app = apply(world, using)
    copy = services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    old_copy = default_storage.save("cases/materials/2026/01/食品小作坊登记证.pdf", ContentFile(legacy))
    default_storage.delete(copy.file.name)
    CaseMaterial.objects.filter(pk=copy.pk).update(file=old_copy)
    notice = Notice.objects.filter(case=case).first()
    old_notice = default_storage.save(
        f"cases/notices/2026/01/{notice.number}.pdf", ContentFile(stored_bytes(notice.file.name))
    )
    default_storage.delete(notice.file.name)
    Notice.objects.filter(pk=notice.pk).update(file=old_notice)

    out = io.StringIO()
    call_command("secure_document_files", stdout=out)
    assert "certificates rendered again: 1; material copies refreshed: 1; notices moved: 1" in out.getvalue()
    cert.refresh_from_db()
    copy.refresh_from_db()
    notice.refresh_from_db()
    for name in (cert.file.name, copy.file.name, notice.file.name):
        assert is_unguessable(name), name
    for former in (old_cert, old_copy, old_notice):
        assert not default_storage.exists(former), former
    for name in (cert.file.name, copy.file.name):
        text = text_of(stored_bytes(name))
        assert full not in text and mask_id_number(full) in text
    assert copy.sha256 == cert.sha256 and copy.size == len(stored_bytes(copy.file.name))
    assert text_of(stored_bytes(notice.file.name)).count(case.number) >= 1

    out = io.StringIO()
    call_command("secure_document_files", stdout=out)
    assert "certificates rendered again: 0; material copies refreshed: 0; notices moved: 0" in out.getvalue()
