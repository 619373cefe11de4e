"""Writes of the exchange app: issue an e-certificate when a case is approved, render its PDF,
record every use and every read in the audit log.

``issue_for_case(case, actor=)`` is the hook of the Decide action: ``receivers.py`` calls it on
``cases.signals.case_decided`` (inside the decision's transaction, so a failure aborts the
decision and nothing is half written). The PDF takes 0.2–0.4 s, so it is rendered after the
commit by the ``exchange.render_certificate`` job (in-process in the embedded default); a
provider that finds a certificate without its file renders it first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.crypto import blind_index, decrypt, encrypt, mask_id_number
from yiwang.core.errors import NotPermitted

from .models import CertificateStatus, ECertificate, HolderKind

DATA_CONTEXT = "exchange.certificate_data"
CREDIT_CODE_PURPOSE = "exchange.credit_code"
# A result whose name ends like this is a certificate or licence (食品经营许可证, 营业执照,
# 出生医学证明, 资格证书); a decision letter (…决定书) is not.
CERTIFICATE_ENDINGS = ("证", "照", "证书", "证明")


def certificate_type_of(elements: dict[str, Any]) -> str:
    """The certificate an item version produces when approved ("" when none)."""
    name = (elements.get("result_name") or "").strip()
    return name if name.endswith(CERTIFICATE_ENDINGS) else ""


def company_hash(credit_code: str) -> str:
    return blind_index(credit_code, purpose=CREDIT_CODE_PURPOSE)


def holder_of(*, user=None, company=None) -> tuple[str, str] | None:
    """(holder kind, keyed hash) of a company or of the user's verified person."""
    if company is not None:
        return HolderKind.COMPANY, company_hash(company.credit_code)
    person = getattr(user, "person", None) if user is not None else None
    if person is None:
        return None
    return HolderKind.PERSON, person.id_number_hash


def mask_number(number: str) -> str:
    return number[:4] + "*" * max(len(number) - 8, 4) + number[-4:] if len(number) > 8 else "****"


def _valid_until(issued: dt.date) -> dt.date | None:
    years = getattr(settings, "YIWANG_ECERT_VALID_YEARS", 5)
    if not years:
        return None  # 长期有效
    try:
        return issued.replace(year=issued.year + years) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return issued.replace(year=issued.year + years, day=28)


def issue_for_case(case, *, actor=None) -> ECertificate | None:
    """Issue the certificate of an approved case whose item produces one; idempotent (one per
    case). None when the case was not approved or its item produces no certificate."""
    if case.outcome != "approved":
        return None
    cert_type = certificate_type_of(case.item_version.elements or {})
    if not cert_type:
        return None
    existing = ECertificate.objects.filter(case=case).first()
    if existing is not None:
        return existing
    if case.company_id is not None:
        company = case.company
        kind, holder_hash = HolderKind.COMPANY, company_hash(company.credit_code)
        name, holder_id = company.name, company.credit_code
        name_masked, id_masked = company.name, company.credit_code  # public registry data
    else:
        from yiwang.identity.services import id_number_of

        person = getattr(case.applicant, "person", None)
        if person is None:
            return None
        kind, holder_hash = HolderKind.PERSON, person.id_number_hash
        name, holder_id = person.name, id_number_of(person)
        name_masked, id_masked = (
            person.name[0] + "*" * max(len(person.name) - 1, 1),
            mask_id_number(holder_id),
        )
    today = timezone.localdate()
    cert = ECertificate.objects.create(
        cert_type=cert_type,
        number=f"ZZ{case.number}",
        holder_kind=kind,
        holder_hash=holder_hash,
        holder_name_masked=name_masked,
        department=case.department,
        issuer_name=case.department.name,
        issued_on=today,
        valid_from=today,
        valid_until=_valid_until(today),
        data_cipher=encrypt(
            json.dumps({"holder_name": name, "holder_id": holder_id}, ensure_ascii=False),
            context=DATA_CONTEXT,
        ),
        data_public={"item": case.item_name, "case_number": case.number, "holder_id_masked": id_masked},
        case=case,
        issued_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(
        "exchange.issue",
        cert,
        summary=_("签发电子证照 %(t)s %(n)s（办件 %(c)s）")
        % {"t": cert_type, "n": cert.number, "c": case.number},
        detail={
            "type": cert_type,
            "number": cert.number,
            "case": case.number,
            "holder_kind": kind,
            "issued_by": getattr(actor, "pk", None),
        },
    )
    cert_id = cert.pk

    def render_later() -> None:
        from .tasks import render_certificate

        render_certificate.delay(cert_id)

    transaction.on_commit(render_later)
    return cert


def certificate_data(cert: ECertificate) -> dict[str, Any]:
    """Public and personal data of a certificate, for its PDF (never for a list)."""
    data = dict(cert.data_public)
    if cert.data_cipher:
        data.update(json.loads(decrypt(cert.data_cipher, context=DATA_CONTEXT)))
    return data


def render_file(cert: ECertificate) -> ECertificate:
    """Render and store the certificate's PDF once (idempotent; the row is locked meanwhile)."""
    from . import pdf

    with transaction.atomic():
        cert = ECertificate.objects.select_for_update().get(pk=cert.pk)
        if cert.file:
            return cert
        data = pdf.render(cert, certificate_data(cert))
        cert.sha256 = hashlib.sha256(data).hexdigest()
        cert.file.save(f"{cert.number}.pdf", ContentFile(data), save=False)
        name = cert.file.name
        try:
            cert.save(update_fields=["file", "sha256"])
        except Exception:
            cert.file.storage.delete(name)
            raise
    return cert


def file_bytes(cert: ECertificate) -> bytes:
    if not cert.file:
        cert = render_file(cert)
    with cert.file.open("rb") as fh:
        return fh.read()


def record_use(cert: ECertificate, *, user, purpose: str) -> None:
    """A certificate offered in place of an upload (``purpose`` names the material)."""
    audit.record(
        "exchange.use",
        cert,
        summary=_("使用电子证照 %(t)s %(n)s：%(p)s")
        % {"t": cert.cert_type, "n": mask_number(cert.number), "p": purpose},
        detail={"number": cert.number, "purpose": purpose, "user": getattr(user, "pk", None)},
    )


def may_read(cert: ECertificate, user) -> bool:
    """The holder (the person, or someone acting for the company), or staff of the issuing
    department (any staff role whose scope covers it)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    person = getattr(user, "person", None)
    if cert.holder_kind == HolderKind.PERSON:
        if person is not None and person.id_number_hash == cert.holder_hash:
            return True
    elif person is not None:
        from django.db.models import Q

        from yiwang.identity.models import Company
        from yiwang.identity.services import acting_scope

        companies = Company.objects.filter(Q(legal_representative=person) | Q(mandates__agent=person))
        for company in companies.distinct():
            if (
                company_hash(company.credit_code) == cert.holder_hash
                and acting_scope(person, company).allowed
            ):
                return True
    from yiwang.cases.actions import has_role_for
    from yiwang.identity.models import Role

    return has_role_for(user, set(Role.values), cert.department)


def read_certificate(cert: ECertificate, *, user) -> bytes:
    """The PDF for someone allowed to read it; every read is audited (who read which)."""
    if not may_read(cert, user):
        raise NotPermitted(_("您无权查看该电子证照。"))
    data = file_bytes(cert)
    audit.record(
        "exchange.read",
        cert,
        summary=_("查看电子证照 %(n)s") % {"n": mask_number(cert.number)},
        detail={"number": cert.number, "user": user.pk},
    )
    return data


def revoke(cert: ECertificate, *, user, reason: str) -> ECertificate:
    """注销: staff of the issuing department only; the certificate is no longer offered."""
    from yiwang.cases.actions import has_role_for
    from yiwang.identity.models import Role

    if not (
        has_role_for(user, Role.DEPARTMENT_HEAD, cert.department)
        or has_role_for(user, Role.APPROVER, cert.department)
    ):
        raise NotPermitted(_("只有发证部门的审批人员可以注销电子证照。"))
    with transaction.atomic():
        cert.status = CertificateStatus.REVOKED
        cert.save(update_fields=["status"])
        audit.record(
            "exchange.revoke",
            cert,
            summary=_("注销电子证照 %(n)s") % {"n": cert.number},
            detail={"number": cert.number, "reason": reason},
        )
    return cert
