"""Reads of the exchange app: a holder's valid certificates."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import CertificateStatus, ECertificate
from .services import holder_of


def valid_q(on: dt.date) -> Q:
    return (
        Q(status=CertificateStatus.VALID)
        & Q(valid_from__lte=on)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))
    )


def certificates_of(*, user=None, company=None, on: dt.date | None = None) -> QuerySet[ECertificate]:
    """Valid certificates of a company, or of the user's person, newest first."""
    holder = holder_of(user=user, company=company)
    if holder is None:
        return ECertificate.objects.none()
    kind, holder_hash = holder
    return ECertificate.objects.filter(
        valid_q(on or timezone.localdate()), holder_kind=kind, holder_hash=holder_hash
    ).order_by("-issued_on", "-pk")


def valid_certificate(
    cert_type: str, *, user=None, company=None, on: dt.date | None = None
) -> ECertificate | None:
    """The holder's newest valid certificate of ``cert_type``, if any."""
    return certificates_of(user=user, company=company, on=on).filter(cert_type=cert_type).first()
