"""Fixtures for the login-security tests: accounts with known passwords, a verified person
(logging in by ID number), a catalogue administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.core.crypto import blind_index, current_key_id, encrypt, mask_id_number
from yiwang.identity.models import AssuranceLevel, Person, Role, StaffRole

PASSWORD = "Lx-8842-hidden"
ID_NUMBER = "11010519491231002X"  # the GB 11643 example number


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("zhangsan", password=PASSWORD)


def make_person(username: str, id_number: str, level: int = AssuranceLevel.VERIFIED) -> Person:
    u = get_user_model().objects.create_user(username, password=PASSWORD)
    return Person.objects.create(
        user=u,
        name="张三",
        id_number_cipher=encrypt(id_number, context="person.id_number"),
        id_number_hash=blind_index(id_number, purpose="id_number"),
        id_number_masked=mask_id_number(id_number),
        key_id=current_key_id(),
        assurance_level=level,
        verified_at=timezone.now() if level >= AssuranceLevel.VERIFIED else None,
        phone_verified_at=timezone.now() if level >= AssuranceLevel.VERIFIED else None,
    )


@pytest.fixture
def person(db) -> Person:
    return make_person("lisi", ID_NUMBER)


@pytest.fixture
def unverified_person(db) -> Person:
    return make_person("wangwu", "110105194912310037", AssuranceLevel.REGISTERED)


@pytest.fixture
def catalogue_admin(db):
    u = get_user_model().objects.create_user("gl_admin", password=PASSWORD, is_staff=True)
    StaffRole.objects.create(user=u, role=Role.CATALOGUE_ADMIN)
    return u


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # PBKDF2 at production strength costs ~0.5 s per check; the rules under test do not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
