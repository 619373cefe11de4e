"""Fixtures for the accounts tests: the demo registries and registered demo people."""

from __future__ import annotations

import pytest

from yiwang.identity import services
from yiwang.identity.synthetic import (
    demo_companies,
    demo_people,
    ensure_demo_registry,
    register_through_fake_sms,
)

PASSWORD = "Yiwang-test-2026!"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at full strength costs ~1 s per registration on a busy machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fake_sms(settings):
    # The pages send codes through the configured gateway: the FAKE one, as in the demo.
    settings.YIWANG_FAKE_SMS = True
    settings.YIWANG_SMS_GATEWAY = ""


@pytest.fixture(autouse=True)
def _clear_cache():
    # Submitted registration nonces live in the cache; tests reuse nonces.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def registry(db):
    ensure_demo_registry()
    return demo_people()


def register(p, username: str | None = None):
    """Register a registry person by the two steps (details, then the code from the fake SMS)."""
    return register_through_fake_sms(
        username=username or f"u{p.id_number[-6:]}",
        password=PASSWORD,
        name=p.name,
        id_number=p.id_number,
        phone=p.phone,
    )


@pytest.fixture
def people(registry):
    """The four demo people, registered: 林晓峰 (legal rep of company A), 陈雅婷, 黄志明 (legal rep
    of company B), 吴建国."""
    return [register(p) for p in registry]


@pytest.fixture
def companies(people):
    lin, _chen, huang, _wu = people
    a, b = demo_companies()
    return [
        services.register_company(person=lin, credit_code=a.credit_code, name=a.name),
        services.register_company(person=huang, credit_code=b.credit_code, name=b.name),
    ]
