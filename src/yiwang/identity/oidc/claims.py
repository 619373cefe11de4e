"""Reads behind the claims: the login context of a browser session, the companies a person may
act for and with what scope, and the claim values themselves (always masked)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone

from yiwang.catalog.models import StandardItem
from yiwang.identity.models import ACR_URIS, AccountSession, AssuranceLevel, Company, Person
from yiwang.identity.selectors import companies_acting_for
from yiwang.identity.services import acting_scope
from yiwang.identity.sessions import account_level as level_of

ACR_PREFIX = "urn:yiwang:acr:"


def acr_uri(level: int) -> str:
    return ACR_URIS.get(AssuranceLevel(level), f"{ACR_PREFIX}{level}")


def acr_level(uri: str) -> int | None:
    """urn:yiwang:acr:2 -> 2; unknown values -> None (ignored, as OIDC Core allows)."""
    if uri.startswith(ACR_PREFIX) and uri[len(ACR_PREFIX) :].isdigit():
        level = int(uri[len(ACR_PREFIX) :])
        if level in AssuranceLevel.values:
            return level
    return None


@dataclass
class LoginContext:
    """How the current browser session logged in; travels from authorize to the tokens."""

    sid: str
    acr: int
    amr: list[str] = field(default_factory=list)
    auth_time: int = 0  # epoch seconds
    act_as: int | None = None  # Company pk chosen at consent

    def as_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "acr": self.acr,
            "amr": self.amr,
            "auth_time": self.auth_time,
            "act_as": self.act_as,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoginContext:
        return cls(
            sid=str(data.get("sid", "")),
            acr=int(data.get("acr", 1)),
            amr=list(data.get("amr") or []),
            auth_time=int(data.get("auth_time") or 0),
            act_as=data.get("act_as"),
        )


def account_level(user: User) -> int:
    return int(level_of(user))


def login_context(request: HttpRequest) -> LoginContext:
    """The session's login facts as ``identity.sessions.start_session`` stored them.

    A session that did not come through ``start_session`` (an admin login, a test client
    force_login) is given a tracked AccountSession here, so it can still be named by ``sid`` and
    ended by back-channel logout; its acr is then what a password login gives.
    """
    session = request.session
    sid = session.get("yiwang_sid")
    # Checked once per request: the authorization view asks for the context more than once.
    if getattr(request, "_yiwang_live_sid", None) != sid:
        if not sid or not AccountSession.objects.filter(sid=sid, ended_at__isnull=True).exists():
            sid = _track_session(request)
        request._yiwang_live_sid = sid  # type: ignore[attr-defined]
    acr = session.get("yiwang_acr")
    if acr is None:
        acr = min(account_level(request.user), int(AssuranceLevel.VERIFIED))
        session["yiwang_acr"] = acr
    amr = session.get("yiwang_amr") or ["pwd"]
    auth_time = session.get("yiwang_auth_time")
    if not auth_time:
        last = request.user.last_login
        auth_time = int(last.timestamp()) if last else int(time.time())
        session["yiwang_auth_time"] = auth_time
    return LoginContext(sid=sid, acr=int(acr), amr=list(amr), auth_time=int(auth_time))


def _track_session(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    now = timezone.now()
    account_session, created = AccountSession.objects.get_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": request.user,
            "sid": secrets.token_urlsafe(24),
            "last_seen_at": now,
            "acr": min(account_level(request.user), int(AssuranceLevel.VERIFIED)),
            "ip": request.META.get("REMOTE_ADDR", "")[:64],
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )
    request.session["yiwang_sid"] = account_session.sid
    return account_session.sid


def epoch(dt: datetime | None) -> int:
    return int(dt.astimezone(UTC).timestamp()) if dt else 0


# --- acting for a company ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActingFor:
    company: Company
    role: str  # "legal_representative" or "agent"
    all_items: bool
    basic_codes: tuple[str, ...]
    ends_at: datetime | None

    @property
    def scope(self) -> str | list[str]:
        return "all" if self.all_items else list(self.basic_codes)


def companies_for(person: Person | None) -> list[ActingFor]:
    """Companies the person may act for now: as legal representative (everything) or through
    live mandates (their items). Revoked, expired and future mandates do not count. The decision
    per company is identity.services.acting_scope's, the one rule for mandates."""
    if person is None:
        return []
    now = timezone.now()
    found: list[ActingFor] = []
    for company in companies_acting_for(person, now=now):
        scope = acting_scope(person, company, now=now)
        if not scope:
            continue
        codes = tuple(
            sorted(
                StandardItem.objects.filter(pk__in=scope.standard_item_ids).values_list(
                    "basic_code", flat=True
                )
            )
        )
        role = "legal_representative" if scope.as_legal_representative else "agent"
        found.append(ActingFor(company, role, scope.all_items, codes, scope.ends_at))
    return found


def acting_for(person: Person | None, company_id: int | None) -> ActingFor | None:
    if person is None or not company_id:
        return None
    for entry in companies_for(person):
        if entry.company.pk == company_id:
            return entry
    return None


def act_as_claim(entry: ActingFor) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "name": entry.company.name,
        "credit_code": entry.company.credit_code,
        "role": entry.role,
        "scope": entry.scope,
    }
    if entry.ends_at:
        claim["ends_at"] = epoch(entry.ends_at)
    return claim


# --- the claims ----------------------------------------------------------------------------------

# Which scope releases which claim; claims of the "openid" scope come with every ID token.
CLAIM_SCOPES: dict[str, str] = {
    "sub": "openid",
    "acr": "openid",
    "amr": "openid",
    "sid": "openid",
    "auth_time": "openid",
    "name": "profile",
    "preferred_username": "profile",
    "id_number_masked": "profile",
    "assurance_level": "profile",
    "phone_number_masked": "phone",
    "act_as": "company",
}


def person_of(user: User) -> Person | None:
    try:
        return user.person  # type: ignore[attr-defined]
    except Person.DoesNotExist:
        return None


def user_claims(user: User, ctx: LoginContext | None) -> dict[str, Any]:
    """Every claim yiwang can release about ``user``; the validator filters them by scope."""
    person = person_of(user)
    claims: dict[str, Any] = {
        "preferred_username": user.get_username(),
        "name": person.name if person else (user.get_full_name() or user.get_username()),  # type: ignore[attr-defined]
        "assurance_level": account_level(user),
    }
    if person:
        claims["id_number_masked"] = person.id_number_masked
        if person.phone_masked:
            claims["phone_number_masked"] = person.phone_masked
    if ctx is not None:
        claims["acr"] = acr_uri(ctx.acr)
        claims["amr"] = ctx.amr
        claims["sid"] = ctx.sid
        if ctx.auth_time:
            claims["auth_time"] = ctx.auth_time
        entry = acting_for(person, ctx.act_as)
        if entry is not None:
            claims["act_as"] = act_as_claim(entry)
    return claims
