"""Real-name verification against the base registries (人口库, 法人库).

Services call ``population_registry().verify_person(...)`` and
``legal_entity_registry().verify_company(...)`` and never read the registry tables themselves, so
a province can point ``YIWANG_POPULATION_REGISTRY`` / ``YIWANG_LEGAL_ENTITY_REGISTRY`` (dotted
paths of classes with the same methods) at a client of its real registry service. The default
implementation reads ``PopulationRecord`` / ``LegalEntityRecord`` in yiwang's own database,
filled with synthetic data by ``yiwang generate-registries``.

Registries answer with an outcome, not with the record: a caller learns whether the name
matches (and, when it asks, whether a phone is the person's real-name phone), never the name
or the phone held for an ID number it typed.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.core.crypto import blind_index

from .models import LegalEntityRecord, PopulationRecord

ID_NUMBER_PURPOSE = "id_number"  # blind_index purpose shared by Person, the registries and login
PHONE_PURPOSE = "phone"


def id_number_hash(id_number: str) -> str:
    return blind_index(id_number, purpose=ID_NUMBER_PURPOSE)


def phone_hash(phone: str) -> str:
    return blind_index(phone, purpose=PHONE_PURPOSE)


class PersonOutcome(enum.StrEnum):
    MATCH = "match"
    NOT_FOUND = "not_found"
    NAME_MISMATCH = "name_mismatch"
    DECEASED = "deceased"


class CompanyOutcome(enum.StrEnum):
    MATCH = "match"
    NOT_FOUND = "not_found"
    NAME_MISMATCH = "name_mismatch"
    LEGAL_REP_MISMATCH = "legal_rep_mismatch"
    INACTIVE = "inactive"  # revoked (吊销) or cancelled (注销)


@dataclass(frozen=True)
class PersonCheck:
    outcome: PersonOutcome
    # When a phone was given: does the registry hold it as the person's real-name phone?
    # None when no phone was asked about or the person did not match.
    phone_match: bool | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is PersonOutcome.MATCH


@dataclass(frozen=True)
class CompanyCheck:
    outcome: CompanyOutcome
    region_code: str = ""
    registered_on: dt.date | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is CompanyOutcome.MATCH


@runtime_checkable
class PopulationRegistry(Protocol):
    def verify_person(self, name: str, id_number: str, phone: str | None = None) -> PersonCheck: ...


@runtime_checkable
class LegalEntityRegistry(Protocol):
    def verify_company(
        self, credit_code: str, name: str, legal_rep_name: str, legal_rep_id_number: str
    ) -> CompanyCheck: ...


def _same_name(a: str, b: str) -> bool:
    # Names are compared as written, ignoring surrounding and inner spaces (typed "张 三") and
    # the middle dot of minority names written with a full-width or ASCII variant.
    def norm(s: str) -> str:
        return "".join(s.split()).replace("•", "·").replace("．", "·").replace(".", "·")

    return norm(a) == norm(b)


class DatabasePopulationRegistry:
    """The population registry held in yiwang's database (synthetic in the demo)."""

    def verify_person(self, name: str, id_number: str, phone: str | None = None) -> PersonCheck:
        record = PopulationRecord.objects.filter(id_number_hash=id_number_hash(id_number)).first()
        if record is None:
            return PersonCheck(PersonOutcome.NOT_FOUND)
        if record.deceased:
            return PersonCheck(PersonOutcome.DECEASED)
        if not _same_name(record.name, name):
            return PersonCheck(PersonOutcome.NAME_MISMATCH)
        phone_match = None
        if phone is not None:
            phone_match = bool(record.phone_hash) and record.phone_hash == phone_hash(phone)
        return PersonCheck(PersonOutcome.MATCH, phone_match=phone_match)


class DatabaseLegalEntityRegistry:
    """The legal-entity registry held in yiwang's database (synthetic in the demo)."""

    def verify_company(
        self, credit_code: str, name: str, legal_rep_name: str, legal_rep_id_number: str
    ) -> CompanyCheck:
        record = LegalEntityRecord.objects.filter(credit_code=credit_code.strip().upper()).first()
        if record is None:
            return CompanyCheck(CompanyOutcome.NOT_FOUND)
        if record.status != "active":
            return CompanyCheck(CompanyOutcome.INACTIVE)
        if not _same_name(record.name, name):
            return CompanyCheck(CompanyOutcome.NAME_MISMATCH)
        if not (
            _same_name(record.legal_representative_name, legal_rep_name)
            and record.legal_representative_id_hash == id_number_hash(legal_rep_id_number)
        ):
            return CompanyCheck(CompanyOutcome.LEGAL_REP_MISMATCH)
        return CompanyCheck(
            CompanyOutcome.MATCH, region_code=record.region_code, registered_on=record.registered_on
        )


@functools.cache
def _load(path: str):
    return import_string(path)()


def population_registry() -> PopulationRegistry:
    return _load(
        getattr(
            settings, "YIWANG_POPULATION_REGISTRY", "yiwang.identity.registries.DatabasePopulationRegistry"
        )
    )


def legal_entity_registry() -> LegalEntityRegistry:
    return _load(
        getattr(
            settings,
            "YIWANG_LEGAL_ENTITY_REGISTRY",
            "yiwang.identity.registries.DatabaseLegalEntityRegistry",
        )
    )
