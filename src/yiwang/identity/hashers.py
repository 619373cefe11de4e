"""How people's passwords are stored: Argon2id with the OWASP Password Storage Cheat Sheet's
parameters (19 MiB of memory, 2 passes, 1 lane).

Django's default, PBKDF2-SHA256 at a million rounds, is slow only in CPU time: it costs the
server a great deal per sign-in, and an attacker with graphics cards pays almost nothing per guess
in memory. Argon2id makes every guess fill 19 MiB, which is what slows guessing on such hardware,
for a fraction of PBKDF2's CPU time on the server, so a province's morning of sign-ins does not
crowd out the pages (docs/identity-security.md).

``YIWANG_ARGON2_MEMORY_KIB`` and ``YIWANG_ARGON2_TIME_COST`` raise the cost where a province's
policy asks for more. A stored hash made with other parameters, or with PBKDF2 by an earlier
version, is checked with its own and rewritten with these at the person's next sign-in
(Django's ``must_update``); PBKDF2 stays in ``PASSWORD_HASHERS`` to read those.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    # Same algorithm name as Django's hasher: the parameters live in each encoded hash, so a hash
    # made by either is read by either, and a change of parameters is an upgrade at sign-in.
    parallelism = 1

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.YIWANG_ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.YIWANG_ARGON2_MEMORY_KIB
