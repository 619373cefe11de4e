"""Reads for the token-protected account API: the person's own data, masked, their companies
and mandates, their live sessions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from yiwang.identity.models import AssuranceLevel, Mandate
from yiwang.identity.oidc.claims import account_level, companies_for, person_of
from yiwang.identity.sessions import active_sessions


def _iso(dt) -> str | None:
    return dt.isoformat() if dt else None


def mask_ip(ip: str) -> str:
    """203.0.113.7 -> 203.0.*.*: enough to recognise one's own network, not to locate anyone."""
    if "." in ip:
        parts = ip.split(".")
        return ".".join(parts[:2] + ["*"] * (len(parts) - 2))
    if ":" in ip:
        return ":".join(ip.split(":")[:2]) + ":*"
    return ""


def overview(user: User) -> dict[str, Any]:
    person = person_of(user)
    level = account_level(user)
    now = timezone.now()
    received = []
    if person is not None:
        for m in (
            Mandate.objects.filter(agent=person)
            .select_related("company")
            .prefetch_related("standard_items")
            .order_by("-granted_at")
        ):
            status = (
                "revoked"
                if m.revoked_at
                else "expired"
                if m.ends_at <= now
                else "pending"
                if m.starts_at > now
                else "active"
            )
            received.append(
                {
                    "company": m.company.name,
                    "credit_code": m.company.credit_code,
                    "scope": "all" if m.all_items else sorted(si.basic_code for si in m.standard_items.all()),
                    "starts_at": _iso(m.starts_at),
                    "ends_at": _iso(m.ends_at),
                    "status": status,
                }
            )
    return {
        "username": user.get_username(),
        "name": person.name if person else (user.get_full_name() or user.get_username()),  # type: ignore[attr-defined]
        "id_number_masked": person.id_number_masked if person else None,
        "phone_masked": (person.phone_masked or None) if person else None,
        "assurance_level": level,
        "assurance_label": str(AssuranceLevel(level).label),
        "verified_at": _iso(person.verified_at) if person else None,
        "companies": [
            {
                "name": a.company.name,
                "credit_code": a.company.credit_code,
                "role": a.role,
                "scope": a.scope,
                "ends_at": _iso(a.ends_at),
            }
            for a in companies_for(person)
        ],
        "mandates_received": received,
    }


def sessions(user: User) -> list[dict[str, Any]]:
    rows = active_sessions(user)
    return [
        {
            "id": s.pk,
            "created_at": _iso(s.created_at),
            "last_seen_at": _iso(s.last_seen_at),
            "acr": int(s.acr),
            "ip": mask_ip(s.ip),
            "user_agent": s.user_agent,
        }
        for s in rows
    ]
