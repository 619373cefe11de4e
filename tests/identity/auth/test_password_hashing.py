"""People's passwords are stored with Argon2id at OWASP's parameters, and a hash made before
(PBKDF2, or Argon2 with other parameters) is rewritten at its owner's next sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from .conftest import PASSWORD

OWASP_PREFIX = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture
def production_hashers(settings):
    # The autouse fixture of this folder puts MD5 first for speed; these tests are about the real list.
    from yiwang import settings as yiwang_settings

    settings.PASSWORD_HASHERS = list(yiwang_settings.PASSWORD_HASHERS)


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/auth/login/", {"login": username, "password": password, "next": "/"})


def test_a_new_password_is_argon2id_with_owasp_parameters(db, production_hashers):
    user = get_user_model().objects.create_user("zhaoliu", password=PASSWORD)
    assert user.password.startswith(OWASP_PREFIX)
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


@pytest.mark.parametrize(
    "old",
    ["pbkdf2_sha256", "argon2"],  # Django's own Argon2 parameters: 100 MiB, 8 lanes
)
def test_an_older_hash_signs_in_and_is_rewritten(db, client, production_hashers, old):
    from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher, get_hasher

    user = get_user_model().objects.create_user("zhaoliu")
    # Django's own hashers (ours shares the name "argon2", so make_password would pick ours)
    hasher = PBKDF2PasswordHasher() if old == "pbkdf2_sha256" else Argon2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save()
    assert not user.password.startswith(OWASP_PREFIX)
    assert get_hasher(user.password.split("$")[0]).algorithm == old

    assert sign_in(client, "zhaoliu").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(OWASP_PREFIX)
    client.logout()
    assert sign_in(client, "zhaoliu").status_code == 302  # and the rewritten hash signs in


def test_a_wrong_password_leaves_the_old_hash_alone(db, client, production_hashers):
    user = get_user_model().objects.create_user("zhaoliu")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    before = user.password
    assert sign_in(client, "zhaoliu", PASSWORD + "x").status_code == 400  # the form, with its error
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.password == before


def test_a_province_can_raise_the_cost(db, client, settings, production_hashers):
    settings.YIWANG_ARGON2_MEMORY_KIB = 65536
    settings.YIWANG_ARGON2_TIME_COST = 3
    user = get_user_model().objects.create_user("zhaoliu", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=3,p=1$")
    assert user.check_password(PASSWORD)
    # lowered back: the raised hash still signs in and is rewritten with the current parameters
    settings.YIWANG_ARGON2_MEMORY_KIB, settings.YIWANG_ARGON2_TIME_COST = 19 * 1024, 2
    assert sign_in(client, "zhaoliu").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(OWASP_PREFIX)
