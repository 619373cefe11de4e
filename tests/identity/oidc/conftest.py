import pytest


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Passwords and client secrets are hashed on save; PBKDF2 would make each test seconds long.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "yiwang.identity.oidc.hashers.ClientSecretHasher",
    ]
