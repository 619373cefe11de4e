"""Writes of the exchange app: issue an e-certificate when a case is approved, render its PDF,
record every use and every read in the audit log.

``apply_result(case, actor=)`` is the hook of the Decide action: ``receivers.py`` calls it on
``cases.signals.case_decided`` (inside the decision's transaction, so a failure aborts the
decision and nothing is half written). It reads the item's result kind (``result_kind``): a
certificate is issued (``issue_for_case``), a revocation revokes the holder's certificate of the
type (``revoke_for_case``), a decision letter or nothing leaves certificates alone. The PDF parses and subsets the font, work the decision
must not wait for, so it is rendered after the commit by the ``exchange.render_certificate`` job (in-process in the embedded default); a
provider that finds a certificate without its file renders it first.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import after_commit
from yiwang.catalog.models import ResultKind
from yiwang.core import audit
from yiwang.core.crypto import blind_index, decrypt, encrypt, mask_id_number
from yiwang.core.errors import NotPermitted
from yiwang.core.files import is_unguessable, unguessable_name

from .models import AccessKind, CertificateAccess, CertificateStatus, ECertificate, HolderKind

if TYPE_CHECKING:
    from yiwang.cases.models import Case, CaseMaterial
    from yiwang.core.models import AuditEntry
    from yiwang.identity.models import Company, Person
    from yiwang.regions.models import Department

    # Who asks: an account, the anonymous visitor of a request, or nobody (the system).
    AnyUser = User | AnonymousUser | None

DATA_CONTEXT = "exchange.certificate_data"
CREDIT_CODE_PURPOSE = "exchange.credit_code"


def certificate_type_of(elements: dict[str, Any]) -> str:
    """The certificate an item version issues when approved ("" when none): its result kind
    (审批结果类型, ``result_kind``) says whether, ``result_certificate_type`` which."""
    if elements.get("result_kind") != ResultKind.CERTIFICATE:
        return ""
    return (elements.get("result_certificate_type") or "").strip()


def revoked_type_of(elements: dict[str, Any]) -> str:
    """The certificate type an item version revokes when approved (a 注销 item), "" when none."""
    if elements.get("result_kind") != ResultKind.REVOCATION:
        return ""
    return (elements.get("result_certificate_type") or "").strip()


def apply_result(case: Case, *, actor: User | None = None) -> list[ECertificate]:
    """What an approved case's item produces (the hook of the Decide action): a certificate is
    issued, a revocation revokes the holder's valid certificates of the type, a decision letter
    or nothing touches no certificate. Returns the certificates issued or revoked."""
    if case.outcome != "approved":
        return []
    elements = case.item_version.elements or {}
    if revoked_type_of(elements):
        return revoke_for_case(case, actor=actor)
    cert = issue_for_case(case, actor=actor)
    return [cert] if cert is not None else []


def company_hash(credit_code: str) -> str:
    return blind_index(credit_code, purpose=CREDIT_CODE_PURPOSE)


def holder_of(*, user: AnyUser = None, company: Company | None = None) -> tuple[str, str] | None:
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


def issue_for_case(case: Case, *, actor: User | None = None) -> ECertificate | None:
    """Issue the certificate of an approved case whose item produces one; idempotent (one per
    case). None when the case was not approved or its item produces no certificate."""
    if case.outcome != "approved":
        return None
    cert_type = certificate_type_of(case.item_version.elements or {})
    if not cert_type:
        return None
    # A case that has its certificate already (a decision run again) keeps it. The step holds
    # the case's row lock, so no other step issues one for this case meanwhile.
    existing = ECertificate.objects.filter(case=case).first()
    if existing is not None:
        return existing
    company = case.company if case.company_id is not None else None
    if company is not None:
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
    cert = ECertificate(
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
    cert.save(force_insert=True)
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
    # Rendered after the commit, in the approval step's one after-commit job.
    from .tasks import render_certificate

    after_commit.also_after_commit(render_certificate, cert.pk)
    return cert


def certificate_data(cert: ECertificate) -> dict[str, Any]:
    """Public and personal data of a certificate, for its PDF (never for a list)."""
    data = dict(cert.data_public)
    if cert.data_cipher:
        data.update(json.loads(decrypt(cert.data_cipher, context=DATA_CONTEXT)))
    return data


def render_file(cert: ECertificate, *, replace: bool = False) -> ECertificate:
    """Render and store the certificate's PDF once (idempotent; the row is locked meanwhile).

    The PDF shows the holder's name and the **masked** ID number (``holder_id_masked``, as a
    printed e-licence does; a company's credit code is public and shown whole), so the file at
    rest holds no full ID number; staff who need it read ``data_cipher``. It is stored under an
    unguessable name (``core.files``), never one made of the certificate or case number.
    ``replace=True`` renders it again and deletes the former file (``secure_document_files``)."""
    from . import pdf

    with transaction.atomic():
        cert = ECertificate.objects.select_for_update().get(pk=cert.pk)
        if cert.file and not replace:
            return cert
        former = cert.file.name if cert.file else ""
        data = pdf.render(cert, certificate_data(cert))
        cert.sha256 = hashlib.sha256(data).hexdigest()
        cert.file.save(unguessable_name(".pdf"), ContentFile(data), save=False)
        name = cert.file.name
        try:
            cert.save(update_fields=["file", "sha256"])
        except Exception:
            cert.file.storage.delete(name)
            raise
    if former and former != name:
        cert.file.storage.delete(former)  # after the commit: the row no longer points at it
    return cert


def secure_certificate_files() -> tuple[int, int]:
    """Render again, with the masked ID number and under an unguessable name, every certificate
    stored under a name of its own making (a file made before either rule: its number as the
    name, the full ID number inside), and refresh the copies later applications took of it
    (``cases.services.replace_certificate_copies``). Idempotent. Returns (certificates,
    material copies) changed; ``secure_document_files`` runs it."""
    from yiwang.cases import services as case_services

    certificates = copies = 0
    for cert in ECertificate.objects.exclude(file="").order_by("pk").iterator():
        if not is_unguessable(cert.file.name):
            cert = render_file(cert, replace=True)
            certificates += 1
        copies += case_services.replace_certificate_copies(cert.pk, functools.partial(file_bytes, cert))
    return certificates, copies


def file_bytes(cert: ECertificate) -> bytes:
    if not cert.file:
        cert = render_file(cert)
    with cert.file.open("rb") as fh:
        return fh.read()


def mask_person_name(name: str) -> str:
    """林晓峰 → 林**: the first character only, as the public lookup shows a name."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _actor_masked(user: AnyUser) -> str:
    person = getattr(user, "person", None)
    if person is not None:
        return mask_person_name(person.name)
    # Staff accounts need not be real-name registered: their account's name, masked alike.
    full = f"{getattr(user, 'last_name', '')}{getattr(user, 'first_name', '')}".strip()
    return mask_person_name(full or getattr(user, "username", ""))


def _office_of(user: User, department: Department) -> tuple[Department | None, str]:
    """The department (or region scope) and role under which a staff account may read a
    certificate of ``department``, as the holder's log names it (鼓楼区市场监督管理局 审批人员)."""
    from yiwang.identity.models import Role, StaffRole

    if getattr(user, "is_superuser", False):
        return None, _("平台管理员")
    path = department.region.path
    rows = StaffRole.objects.filter(user_id=user.pk).select_related("department", "region")
    for row in sorted(rows, key=lambda r: (r.department_id != department.pk, r.department_id is None)):
        label = Role(row.role).label
        if row.department_id == department.pk:
            return department, f"{department.name} {label}"
        if row.role == Role.PLATFORM_ADMIN:
            return None, str(label)
        if row.department_id is None and (row.region is None or path.startswith(row.region.path)):
            return None, f"{row.region.name if row.region else _('全省')} {label}"
    return None, ""


def _log_access(
    cert: ECertificate, entry: AuditEntry, *, kind: str, user: User | None, **fields: Any
) -> CertificateAccess:
    # Inserted after the audit entry, inside its transaction: the two commit together, and the
    # row points at the entry (audit_seq) so the holder's log can be checked against the chain.
    # Inside a staff action on PostgreSQL the entry is appended with the action's others when
    # the action ends (``audit.batched``): the row learns its seq then.
    access = CertificateAccess.objects.create(
        certificate=cert,
        holder_hash=cert.holder_hash,
        kind=kind,
        at=entry.at,
        user=user if getattr(user, "pk", None) else None,
        audit_seq=entry.seq,
        **fields,
    )
    if entry.seq is None:

        def point_at(appended: AuditEntry) -> None:
            access.audit_seq = appended.seq
            CertificateAccess.objects.filter(pk=access.pk).update(audit_seq=appended.seq)

        audit.when_appended(entry, point_at)
    return access


def record_use(
    cert: ECertificate, *, user: User, purpose: str, company: Company | None = None
) -> CertificateAccess:
    """A certificate offered in place of an upload (``purpose`` names the material), by the
    applicant (``user``, acting for ``company`` when given). Audited and logged for the holder
    in one transaction; the provider stores the log row's id with the material so the holder's
    log can name the case and department once the application is submitted."""
    with transaction.atomic():
        entry = audit.record(
            "exchange.use",
            cert,
            summary=_("使用电子证照 %(t)s %(n)s：%(p)s")
            % {"t": cert.cert_type, "n": mask_number(cert.number), "p": purpose},
            detail={"number": cert.number, "purpose": purpose, "user": getattr(user, "pk", None)},
        )
        return _log_access(
            cert,
            entry,
            kind=AccessKind.USE,
            user=user,
            actor_masked=_actor_masked(user),
            office=company.name if company is not None else "",
            purpose=purpose[:200],
        )


def is_holder(cert: ECertificate, user: AnyUser) -> bool:
    """The person holding it, or someone who may act for the company holding it: its legal
    representative, or an agent whose current mandate covers the item of the certificate's case
    (the rule of the company's cases, ``cases.selectors.can_view_case``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    person = getattr(user, "person", None)
    if person is None:
        return False
    if cert.holder_kind == HolderKind.PERSON:
        return person.id_number_hash == cert.holder_hash
    from yiwang.identity.services import acting_scope

    item = cert.case.item if cert.case is not None else None
    return any(
        company_hash(company.credit_code) == cert.holder_hash and acting_scope(person, company, item).allowed
        for company in companies_of(person)
    )


def companies_of(person: Person | None) -> list[Company]:
    """Companies ``person`` represents or holds a mandate of (current or not: ``acting_scope``
    decides what they may do for each)."""
    from django.db.models import Q

    from yiwang.identity.models import Company

    if person is None:
        return []
    return list(Company.objects.filter(Q(legal_representative=person) | Q(mandates__agent=person)).distinct())


def may_read(cert: ECertificate, user: AnyUser) -> bool:
    """The holder (``is_holder``), or staff of the issuing department (any staff role whose
    scope covers it)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_holder(cert, user):
        return True
    from yiwang.cases.actions import has_role_for
    from yiwang.identity.models import Role

    return has_role_for(user, set(Role.values), cert.department)


def read_certificate(
    cert: ECertificate, *, user: User | AnonymousUser, purpose: str = "", case: Case | None = None
) -> bytes:
    """The PDF for someone allowed to read it; every read is audited (who read which) and
    logged for the holder (by staff: their department or scope and role, masked name; the case
    and ``purpose`` when the caller names them)."""
    # may_read refuses the anonymous visitor; isinstance tells the type checker so.
    if not isinstance(user, User) or not may_read(cert, user):
        raise NotPermitted(_("您无权查看该电子证照。"))
    data = file_bytes(cert)
    _record_read(cert, user=user, purpose=purpose, case=case, department=cert.department)
    return data


def record_copy_read(material: CaseMaterial, *, user: User | AnonymousUser) -> CertificateAccess | None:
    """Staff opened the copy of a certificate that an application took as a material (the
    workbench's materials viewer calls it after checking that ``user`` may see the case): a
    read for the holder's log, under the case's department. None when the material is not a
    certificate's copy; NotPermitted for the anonymous visitor, who sees no case."""
    if not isinstance(user, User):
        raise NotPermitted(_("您无权查看该电子证照。"))
    if material.origin != "e_certificate":
        return None
    cert_id = (material.record or {}).get("certificate_id")
    cert = ECertificate.objects.filter(pk=cert_id).first() if cert_id else None
    if cert is None:
        return None
    case = material.case
    return _record_read(
        cert,
        user=user,
        purpose=_("审查申请材料“%(m)s”") % {"m": material.requirement},
        case=case,
        department=case.department if case is not None else cert.department,
    )


def _record_read(
    cert: ECertificate, *, user: User, purpose: str, case: Case | None, department: Department
) -> CertificateAccess:
    holder = is_holder(cert, user)
    # Staff are named by the department (or scope) and role under which they may see it.
    office_department, office = (None, "") if holder else _office_of(user, department)
    case_number = getattr(case, "number", "") or ""
    with transaction.atomic():
        entry = audit.record(
            "exchange.read",
            cert,
            summary=_("查看电子证照 %(n)s") % {"n": mask_number(cert.number)},
            detail={"number": cert.number, "user": user.pk, "case": case_number, "purpose": purpose},
        )
        return _log_access(
            cert,
            entry,
            kind=AccessKind.READ,
            user=user,
            by_staff=not holder,
            actor_masked=_actor_masked(user),
            department=office_department,
            office=office,
            purpose=purpose[:200],
            case_number=case_number,
        )


def case_holder(case: Case) -> tuple[str, str] | None:
    """(holder kind, keyed hash) of the holder a case's result belongs to: the company it was
    made for, else the applicant's verified person."""
    company = case.company if case.company_id is not None else None
    if company is not None:
        return HolderKind.COMPANY, company_hash(company.credit_code)
    person = getattr(case.applicant, "person", None)
    if person is None:
        return None
    return HolderKind.PERSON, person.id_number_hash


def _revoke(cert: ECertificate, *, user: User | None, reason: str, case: Case | None = None) -> ECertificate:
    """Mark one certificate revoked, audited and logged for its holder (in the caller's
    transaction)."""
    cert.status = CertificateStatus.REVOKED
    cert.revoked_on = timezone.localdate()
    cert.revoked_by_case = case
    cert.save(update_fields=["status", "revoked_on", "revoked_by_case"])
    case_number = getattr(case, "number", "") or ""
    entry = audit.record(
        "exchange.revoke",
        cert,
        summary=_("注销电子证照 %(n)s") % {"n": cert.number},
        detail={
            "number": cert.number,
            "reason": reason,
            "case": case_number,
            "user": getattr(user, "pk", None),
        },
    )
    # Named as staff are in the holder's log: by the department (or scope) and role they acted
    # under, in the department that decided (the case's, else the issuer); with no account (a
    # system step), by that department.
    staff = user if user is not None and user.pk else None
    deciding = case.department if case is not None else cert.department
    office_department, office = _office_of(staff, deciding) if staff else (deciding, "")
    _log_access(
        cert,
        entry,
        kind=AccessKind.REVOKE,
        user=staff,
        by_staff=True,
        actor_masked=_actor_masked(staff) if staff else "",
        department=office_department or deciding,
        office=office or deciding.name,
        purpose=reason[:200],
        case_number=case_number,
    )
    return cert


def revoke_for_case(case: Case, *, actor: User | None = None) -> list[ECertificate]:
    """Approving a deregistration (注销) revokes the holder's valid certificates of the type the
    item names; it never issues one. Runs in the decision's transaction (rows locked); a
    decision run again finds them revoked already and returns those."""
    cert_type = revoked_type_of(case.item_version.elements or {})
    holder = case_holder(case)
    if not cert_type or holder is None:
        return []
    kind, holder_hash = holder
    done = list(ECertificate.objects.filter(revoked_by_case=case))
    if done:
        return done
    valid = ECertificate.objects.select_for_update().filter(
        holder_kind=kind, holder_hash=holder_hash, cert_type=cert_type, status=CertificateStatus.VALID
    )
    reason = _("办件 %(c)s（%(i)s）准予注销") % {"c": case.number, "i": case.item_name}
    return [_revoke(cert, user=actor, reason=reason, case=case) for cert in valid.order_by("pk")]


def revoke(cert: ECertificate, *, user: User, reason: str) -> ECertificate:
    """注销: staff of the issuing department only; the certificate is no longer offered."""
    from yiwang.cases.actions import has_role_for
    from yiwang.identity.models import Role

    if not (
        has_role_for(user, Role.DEPARTMENT_HEAD, cert.department)
        or has_role_for(user, Role.APPROVER, cert.department)
    ):
        raise NotPermitted(_("只有发证部门的审批人员可以注销电子证照。"))
    with transaction.atomic():
        return _revoke(cert, user=user, reason=reason)
