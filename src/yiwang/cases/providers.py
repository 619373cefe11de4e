"""Materials taken from where they already are instead of uploaded (材料复用).

A required material whose source (``MaterialSource``) is ``base_registry`` or ``e_certificate``
is asked of the registered providers (``YIWANG_MATERIAL_PROVIDERS``) in order. A provider has
three methods: ``supports`` (can it ever answer this requirement), ``find`` (what it holds for
this person or company now, read only: no audit entry, no log) and ``take`` (turn what ``find``
found into the material's record and file, recording the use). ``available`` is the one rule
that both decides whether the materials page offers reuse (``reusable``) and what the reuse
action takes (``fetch``), so a link is offered only where the action would succeed.
``AccountProvider`` answers from the applicant's verified account (the population and
legal-entity registries it was checked against); the e-certificate provider is in
``yiwang.exchange.providers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .personal import mask as mask_value

REGISTRY_SOURCES = {"base_registry", "e_certificate"}
_PERSON_WORDS = ("身份证", "居民身份", "户口", "户籍")
_COMPANY_WORDS = ("营业执照", "统一社会信用代码", "法人登记", "法人")


@dataclass(frozen=True)
class ProvidedMaterial:
    origin: str  # MaterialOrigin value
    record: dict[str, Any] = field(default_factory=dict)  # masked values only
    file_bytes: bytes | None = None
    file_name: str = ""


class MaterialProvider(Protocol):
    def supports(self, requirement: dict[str, Any]) -> bool: ...

    def find(self, requirement: dict[str, Any], *, user, company=None) -> Any | None: ...

    def take(self, found: Any, requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial: ...


def _is_company_material(requirement: dict[str, Any]) -> bool:
    text = f"{requirement.get('certificate_type', '')}{requirement.get('name', '')}"
    return any(w in text for w in _COMPANY_WORDS)


class AccountProvider:
    """Identity documents from the applicant's verified account."""

    def supports(self, requirement: dict[str, Any]) -> bool:
        if requirement.get("source") not in REGISTRY_SOURCES:
            return False
        text = f"{requirement.get('certificate_type', '')}{requirement.get('name', '')}"
        return any(w in text for w in _PERSON_WORDS + _COMPANY_WORDS)

    def find(self, requirement: dict[str, Any], *, user, company=None) -> Any | None:
        """The verified company (a company's material) or person, None when not verified."""
        if _is_company_material(requirement):
            if company is None or company.verified_at is None:
                return None
            return company
        person = getattr(user, "person", None)
        # Real-name level 2 needs the registry match AND the phone proven by a one-time code;
        # an older account verified on name and ID number alone does not vouch for the person.
        if person is None or person.verified_at is None or person.phone_verified_at is None:
            return None
        return person

    def take(self, found: Any, requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial:
        if _is_company_material(requirement):
            return ProvidedMaterial(
                "registry",
                {
                    "name": found.name,
                    "credit_code": found.credit_code,
                    "verified_at": found.verified_at.isoformat(),
                    "registry": "法人库",
                },
            )
        return ProvidedMaterial(
            "account",
            {
                # Masked like every other record: the case page shows it to staff as it is.
                "name": mask_value("name", found.name),
                "id_number": found.id_number_masked,
                "verified_at": found.verified_at.isoformat(),
                "registry": "人口库",
            },
        )


def providers() -> list[MaterialProvider]:
    paths = getattr(settings, "YIWANG_MATERIAL_PROVIDERS", None) or ["yiwang.cases.providers.AccountProvider"]
    return [import_string(p)() for p in paths]


def available(requirement: dict[str, Any], *, user, company=None) -> tuple[MaterialProvider, Any] | None:
    """The first provider that holds this material for ``user`` (acting for ``company``) now,
    with what it found; None when none does. Read only."""
    for p in providers():
        if p.supports(requirement):
            found = p.find(requirement, user=user, company=company)
            if found is not None:
                return p, found
    return None


def reusable(requirement: dict[str, Any], *, user, company=None) -> bool:
    """Whether the materials page offers to take this material instead of an upload: exactly
    when ``fetch`` would return it."""
    return available(requirement, user=user, company=company) is not None


def fetch(requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial | None:
    hit = available(requirement, user=user, company=company)
    if hit is None:
        return None
    provider, found = hit
    return provider.take(found, requirement, user=user, company=company)
