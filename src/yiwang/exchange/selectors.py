"""Reads of the exchange app: a holder's valid certificates, and the holder's 我的证照 and
用证记录 (who used or read their certificates) with the per-object check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from .models import AccessKind, CertificateAccess, CertificateStatus, ECertificate, HolderKind
from .services import companies_of, company_hash, holder_of, is_holder

if TYPE_CHECKING:
    from yiwang.cases.models import CaseMaterial
    from yiwang.identity.models import Company

    from .services import AnyUser


def verify_certificate(number: str, signature: str) -> ECertificate | None:
    """The certificate a QR code names, if the signature its address carries is its own
    (``exchange.pdf.verify_signature``); None otherwise, without saying which is wrong."""
    from .pdf import signature_matches

    number, signature = (number or "").strip(), (signature or "").strip()
    if not number or not signature or not signature_matches(number, signature):
        return None
    return ECertificate.objects.filter(number=number).first()


def is_valid_on(cert: ECertificate, on: dt.date) -> bool:
    """Not revoked, and ``on`` within its period of validity."""
    return (
        cert.status == CertificateStatus.VALID
        and cert.valid_from <= on
        and (cert.valid_until is None or cert.valid_until >= on)
    )


def valid_q(on: dt.date) -> Q:
    return (
        Q(status=CertificateStatus.VALID)
        & Q(valid_from__lte=on)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))
    )


def certificates_of(
    *, user: AnyUser = None, company: Company | None = None, on: dt.date | None = None
) -> QuerySet[ECertificate]:
    """Valid certificates of a company, or of the user's person, newest first."""
    holder = holder_of(user=user, company=company)
    if holder is None:
        return ECertificate.objects.none()
    kind, holder_hash = holder
    return ECertificate.objects.filter(
        valid_q(on or timezone.localdate()), holder_kind=kind, holder_hash=holder_hash
    ).order_by("-issued_on", "-pk")


def valid_certificate(
    cert_type: str, *, user: AnyUser = None, company: Company | None = None, on: dt.date | None = None
) -> ECertificate | None:
    """The holder's newest valid certificate of ``cert_type``, if any."""
    return certificates_of(user=user, company=company, on=on).filter(cert_type=cert_type).first()


# --- the holder's certificates and their access log (我的证照 → 用证记录) ---------------------------


@dataclass(frozen=True)
class Holding:
    """Certificates the user sees as their holder: their own, or one company's."""

    label: str  # 本人 or the company's name
    company: Company | None
    certificates: list[ECertificate]


@dataclass(frozen=True)
class _Holdings:
    full_hashes: frozenset[str]  # every certificate of these holders is the user's to see
    certificate_ids: frozenset[int]  # and these, of companies whose mandate covers some items only
    holdings: list[Holding] = field(default_factory=list)


def _holdings(user: AnyUser) -> _Holdings:
    """What ``user`` sees as a holder: the person's certificates, and each company's they may act
    for now (legal representative or current mandate; an agent whose mandate names some items sees
    the certificates of those items' cases only, as with the company's cases)."""
    from yiwang.identity.services import acting_scope

    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    if person is None:
        return _Holdings(frozenset(), frozenset())
    full = {person.id_number_hash}
    some: set[int] = set()
    by_hash: dict[str, tuple[str, Company | None]] = {person.id_number_hash: (HolderKind.PERSON, None)}
    partial: dict[str, Any] = {}
    for company in companies_of(person):
        scope = acting_scope(person, company)
        if not scope.allowed:
            continue
        h = company_hash(company.credit_code)
        by_hash[h] = (HolderKind.COMPANY, company)
        if scope.as_legal_representative or scope.all_items:
            full.add(h)
        else:
            partial[h] = scope
    certs = list(
        ECertificate.objects.filter(holder_hash__in=[*full, *partial])
        .select_related("case__item")
        .order_by("-issued_on", "-pk")
    )
    grouped: dict[str, list[ECertificate]] = {}
    for cert in certs:
        if by_hash.get(cert.holder_hash, (None,))[0] != cert.holder_kind:
            continue  # a person's hash never equals a company's; the kind guards it all the same
        if cert.holder_hash in partial:
            if not (cert.case is not None and partial[cert.holder_hash].covers(cert.case.item.standard_id)):
                continue
            some.add(cert.pk)
        grouped.setdefault(cert.holder_hash, []).append(cert)
    holdings = [
        Holding(str(company.name) if company is not None else "", company, grouped.get(h, []))
        for h, (_kind, company) in by_hash.items()
        if company is None or h in grouped or h in full
    ]
    return _Holdings(frozenset(full), frozenset(some), holdings)


def held_certificates(user: AnyUser) -> list[Holding]:
    """我的证照: the user's own certificates first, then each company's (valid, expired and
    revoked alike: the log of a revoked certificate is still the holder's to see)."""
    return _holdings(user).holdings


def holder_certificate(user: AnyUser, certificate_id: int) -> ECertificate | None:
    """The certificate with this id if ``user`` is its holder (the person, or someone who may
    act for the company holding it: ``services.is_holder``); None otherwise, so an id
    reveals nothing. Staff of the issuing department may read a certificate but not its log."""
    cert = ECertificate.objects.select_related("case__item").filter(pk=certificate_id).first()
    return cert if cert is not None and is_holder(cert, user) else None


@dataclass(frozen=True)
class AccessRow:
    access: CertificateAccess
    certificate: ECertificate
    case_number: str  # the case the use or read was for ("" when none or not yet submitted)
    office: str  # who: a department and role, or the company acted for
    item_name: str  # the item applied for (uses)

    @property
    def kind(self) -> str:
        return self.access.kind


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    page: int
    more: bool
    certificate: ECertificate | None


def _use_targets(rows: list[CertificateAccess]) -> dict[int, CaseMaterial]:
    """The material each use became (by the ``access_id`` the provider stored in it), with its
    application, item and case: the provider is asked before the application's department and
    case are known to it. Read per page; restricted to the applicants' own applications so the
    query stays on their index."""
    from yiwang.cases.models import CaseMaterial  # a read of the cases app's rows, no write

    uses = [r for r in rows if r.kind == AccessKind.USE]
    if not uses:
        return {}
    materials = CaseMaterial.objects.filter(
        origin="e_certificate",
        application__applicant_id__in={r.user_id for r in uses if r.user_id},
        record__access_id__in=[r.pk for r in uses],
    ).select_related("case", "application__item_version__item__department")
    return {m.record.get("access_id"): m for m in materials}


def access_log(
    user: AnyUser, *, certificate_id: int | None = None, page: int = 1, per_page: int = 20
) -> AccessPage | None:
    """用证记录: every use and read of the certificates ``user`` holds (or of the one
    ``certificate_id``), newest first, ``per_page`` a page. None when that one is not the
    user's."""
    page = max(1, page)
    if certificate_id is not None:
        cert = holder_certificate(user, certificate_id)
        if cert is None:
            return None
        qs = CertificateAccess.objects.filter(certificate=cert)
    else:
        cert = None
        h = _holdings(user)
        if not h.full_hashes and not h.certificate_ids:
            return AccessPage([], page, False, None)
        qs = CertificateAccess.objects.filter(
            Q(holder_hash__in=h.full_hashes) | Q(certificate_id__in=h.certificate_ids)
        )
    start = (page - 1) * per_page
    accesses = list(qs.select_related("certificate").order_by("-pk")[start : start + per_page + 1])
    more = len(accesses) > per_page
    accesses = accesses[:per_page]
    targets = _use_targets(accesses)
    rows: list[AccessRow] = []
    for a in accesses:
        case_number, office, item_name = a.case_number, a.office, ""
        m = targets.get(a.pk)
        if m is not None:
            version = m.application.item_version
            item_name = m.case.item_name if m.case is not None else version.name
            case_number = m.case.number if m.case is not None else ""
            office = version.item.department.name
        rows.append(AccessRow(a, a.certificate, case_number, office, item_name))
    return AccessPage(rows, page, more, cert)


@dataclass
class CaseResult:
    """What a case's approval did to certificates: the one it issued, those it revoked."""

    issued: ECertificate | None = None
    revoked: list[ECertificate] = field(default_factory=list)


def case_result(case_id: int) -> CaseResult:
    """The certificates a case issued or revoked (its applicant's case page shows them)."""
    issued = ECertificate.objects.filter(case_id=case_id).first()
    revoked = list(ECertificate.objects.filter(revoked_by_case_id=case_id).order_by("pk"))
    return CaseResult(issued=issued, revoked=revoked)


@dataclass(frozen=True)
class RegistryRow:
    code: str
    name: str
    owner: str  # the owner department's name ("" when the region tree has none)
    records: int
    estimated: bool  # the count is the planner's estimate (e-certificates on PostgreSQL)
    updated_at: Any
    may_write: bool


def _certificate_count() -> tuple[int, bool]:
    """The library's size without counting it row by row: PostgreSQL's planner estimate (kept by
    autovacuum), else a count (SQLite, small)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [ECertificate._meta.db_table]
            )
            row = cursor.fetchone()
        if row and row[0] is not None and row[0] >= 0:
            return int(row[0]), True
    return ECertificate.objects.count(), False


def registry_overview(user: Any) -> list[RegistryRow]:
    """Each base registry with its owner, current records (the kept counter) and last update."""
    from . import registries
    from .models import RegistryCounter

    counters = {c.registry: c for c in RegistryCounter.objects.all()}
    out = []
    for reg in registries.REGISTRIES.values():
        if reg.writable:
            owner = registries.owner_department(reg)
            counter = counters.get(reg.code)
            out.append(
                RegistryRow(
                    reg.code,
                    str(reg.name),
                    owner.name if owner else "",
                    counter.records if counter else 0,
                    False,
                    counter.updated_at if counter else None,
                    registries.may_write(user, reg),
                )
            )
        else:
            records, estimated = _certificate_count()
            latest = ECertificate.objects.order_by("-pk").values_list("created_at", flat=True).first()
            out.append(
                RegistryRow(reg.code, str(reg.name), gettext("各发证部门"), records, estimated, latest, False)
            )
    return out
