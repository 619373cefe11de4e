"""Materials taken from where they already are instead of uploaded (材料复用).

A required material whose source (``MaterialSource``) is ``base_registry`` or ``e_certificate``
is asked of the registered providers in order; the first that has it returns the record (and,
later, a signed file). ``AccountProvider`` answers from the applicant's verified account (the
population and legal-entity registries it was checked against); an e-certificate provider will
implement the same two methods and be listed in ``YIWANG_MATERIAL_PROVIDERS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

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

    def fetch(self, requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial | None: ...


class AccountProvider:
    """Identity documents from the applicant's verified account."""

    def supports(self, requirement: dict[str, Any]) -> bool:
        if requirement.get("source") not in REGISTRY_SOURCES:
            return False
        text = f"{requirement.get('certificate_type', '')}{requirement.get('name', '')}"
        return any(w in text for w in _PERSON_WORDS + _COMPANY_WORDS)

    def fetch(self, requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial | None:
        text = f"{requirement.get('certificate_type', '')}{requirement.get('name', '')}"
        if any(w in text for w in _COMPANY_WORDS):
            if company is None or company.verified_at is None:
                return None
            return ProvidedMaterial(
                "registry",
                {
                    "name": company.name,
                    "credit_code": company.credit_code,
                    "verified_at": company.verified_at.isoformat(),
                    "registry": "法人库",
                },
            )
        person = getattr(user, "person", None)
        # Real-name level 2 needs the registry match AND the phone proven by a one-time code;
        # an older account verified on name and ID number alone does not vouch for the person.
        if person is None or person.verified_at is None or person.phone_verified_at is None:
            return None
        return ProvidedMaterial(
            "account",
            {
                "name": person.name,
                "id_number": person.id_number_masked,
                "verified_at": person.verified_at.isoformat(),
                "registry": "人口库",
            },
        )


def providers() -> list[MaterialProvider]:
    paths = getattr(settings, "YIWANG_MATERIAL_PROVIDERS", None) or ["yiwang.cases.providers.AccountProvider"]
    return [import_string(p)() for p in paths]


def reusable(requirement: dict[str, Any]) -> bool:
    return any(p.supports(requirement) for p in providers())


def fetch(requirement: dict[str, Any], *, user, company=None) -> ProvidedMaterial | None:
    for p in providers():
        if p.supports(requirement):
            found = p.fetch(requirement, user=user, company=company)
            if found is not None:
                return found
    return None
