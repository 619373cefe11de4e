"""How client secrets are stored.

Django's default password hasher runs PBKDF2 for about a million rounds: right for passwords that
people choose, but the token endpoint checks a client secret on every request, and at ~0.5-1 s a
check it would cap a whole worker at one or two sign-ins per second. Client secrets are long
random strings (at least 32 characters, ``registration.MIN_SECRET_LENGTH``), which no number of
hash rounds makes harder to guess, so one salted HMAC round protects them as well as a million.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class ClientSecretHasher(PBKDF2PasswordHasher):
    algorithm = "client_pbkdf2_sha256"
    iterations = 1
