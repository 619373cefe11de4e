"""What approval produces follows the item's result kind (审批结果类型), never the result name:
a certificate item issues one, a deregistration (注销) revokes the holder's certificate and
issues none, a decision-letter item issues none, an item with no result sends no decision letter."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.cases.conftest import PASSWORD
from yiwang.cases.models import Notice
from yiwang.catalog import services as catalog
from yiwang.core.models import AuditEntry
from yiwang.exchange.models import AccessKind, CertificateAccess, ECertificate

from .test_ecertificates import approved_case as _approved_case

CERT_TYPE = "食品小作坊登记证"


def approved_case(world, item, capture, decision="approve"):
    # The test's transaction never commits: an earlier capture block's batch stays among the
    # connection's hooks and would take this case's jobs without running them. Each case's
    # steps get a batch of their own, as each commit would.
    connection._yiwang_after_commit = None
    return _approved_case(world, item, capture, decision=decision)


def published(world, code: str, **kw):
    std = factories.standard_item(code, **kw)
    item = factories.implementation(std, world.dept, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    return item


def deregistration(world):
    return published(
        world,
        "01020000302",
        name="食品小作坊登记（注销）",
        result_name="食品小作坊登记证",  # reads like a certificate: the kind decides, not the name
        result_kind="revocation",
        result_certificate_type=CERT_TYPE,
    )


def someone_elses_certificate(cert: ECertificate) -> ECertificate:
    return ECertificate.objects.create(
        cert_type=cert.cert_type,
        number="ZZ-OTHER-0001",
        holder_kind=cert.holder_kind,
        holder_hash="0" * 64,
        holder_name_masked="王*",
        department=cert.department,
        issuer_name=cert.issuer_name,
        issued_on=cert.issued_on,
        valid_from=cert.valid_from,
    )


def case_page(client, world, case) -> str:
    client.login(username="applicant", password=PASSWORD)
    page = client.get(reverse("portal:my_case", args=[case.number]))
    assert page.status_code == 200
    return page.content.decode()


def test_a_certificate_item_issues_one_and_the_case_page_says_so(
    world, items, client, django_capture_on_commit_callbacks
):
    issuing, _ = items
    assert issuing.current_version.elements["result_kind"] == "certificate"
    case = approved_case(world, issuing, django_capture_on_commit_callbacks)
    cert = ECertificate.objects.get(case=case)
    assert cert.cert_type == CERT_TYPE and cert.status == "valid"
    html = case_page(client, world, case)
    assert 'id="certificate-issued"' in html and CERT_TYPE in html and cert.number_masked in html
    assert 'id="case-outcome">准予许可<' in html


def test_approving_a_deregistration_revokes_the_certificate_and_issues_none(
    world, items, client, django_capture_on_commit_callbacks
):
    issuing, _ = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    other = someone_elses_certificate(cert)
    item = deregistration(world)
    assert item.current_version.elements["result_kind"] == "revocation"

    case = approved_case(world, item, django_capture_on_commit_callbacks)

    assert ECertificate.objects.filter(case=case).count() == 0  # nothing new issued
    assert ECertificate.objects.count() == 2
    cert.refresh_from_db()
    other.refresh_from_db()
    assert cert.status == "revoked" and cert.revoked_by_case_id == case.pk and cert.revoked_on
    assert other.status == "valid"  # another holder's certificate of the same type is untouched
    entry = AuditEntry.objects.get(action="exchange.revoke")
    assert entry.detail["case"] == case.number and entry.detail["user"] == world.head.pk
    access = CertificateAccess.objects.get(certificate=cert, kind=AccessKind.REVOKE)
    assert access.case_number == case.number and access.audit_seq == entry.seq
    assert access.holder_hash == world.person.id_number_hash
    assert access.by_staff and world.dept.name in access.office and access.user_id == world.head.pk
    # The decision letter is still sent; the applicant's page names the revoked certificate.
    assert Notice.objects.filter(case=case, kind="decision").count() == 1
    html = case_page(client, world, case)
    assert "已注销电子证照" in html and CERT_TYPE in html and cert.number_masked in html
    assert 'id="certificate-issued"' not in html
    # The holder's access log lists the revocation.
    log = client.get(reverse("portal:certificate_log")).content.decode()
    assert "注销" in log and case.number in log


def test_a_denied_deregistration_revokes_nothing(world, items, django_capture_on_commit_callbacks):
    issuing, _ = items
    cert = ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))
    approved_case(world, deregistration(world), django_capture_on_commit_callbacks, decision="deny")
    cert.refresh_from_db()
    assert cert.status == "valid" and not AuditEntry.objects.filter(action="exchange.revoke").exists()


def test_a_decision_letter_item_issues_no_certificate(world, items, django_capture_on_commit_callbacks):
    item = published(
        world,
        "01020000305",
        name="食品小作坊登记证明",
        result_name="食品小作坊登记证",  # ends like a certificate; the kind says decision letter
        result_kind="decision",
        result_certificate_type=CERT_TYPE,
    )
    assert item.current_version.elements["result_certificate_type"] == ""
    case = approved_case(world, item, django_capture_on_commit_callbacks)
    assert ECertificate.objects.count() == 0
    assert Notice.objects.filter(case=case, kind="decision").count() == 1


def test_an_item_without_result_sends_no_decision_letter_on_approval(
    world, items, settings, django_capture_on_commit_callbacks
):
    item = published(world, "11020000306", name="政策咨询", item_type="public_service", result_kind="none")
    approved = approved_case(world, item, django_capture_on_commit_callbacks)
    assert ECertificate.objects.count() == 0
    assert not Notice.objects.filter(case=approved, kind="decision").exists()
    # The sweep that makes lost notices does not make one either; a denial still gets its letter.
    from yiwang.cases import notices

    settings.YIWANG_NOTICE_SWEEP_GRACE = 0
    assert notices.issue_missing(now=timezone.now() + dt.timedelta(seconds=5)) == 0
    denied = approved_case(world, item, django_capture_on_commit_callbacks, decision="deny")
    assert Notice.objects.filter(case=denied, kind="decision").count() == 1
