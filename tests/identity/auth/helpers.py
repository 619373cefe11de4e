"""Test helpers for pages behind the second factor (the back office for administrators)."""

from __future__ import annotations

import secrets
import time

from django.utils import timezone

from yiwang.identity import sessions
from yiwang.identity.models import AccountSession, AssuranceLevel


def login_with_second_factor(client, user) -> AccountSession:
    """``client.force_login`` plus what ``start_session`` records after a password and a TOTP
    code (acr 3, amr pwd+otp), for tests of pages that administrators reach only that way.
    The real flow (password, code) is tested in tests/identity/auth/."""
    client.force_login(user)
    session = client.session  # a new SessionStore each access: keep this one and save it
    now = int(time.time())
    account_session = AccountSession.objects.create(
        user=user,
        session_key=session.session_key,
        sid=secrets.token_urlsafe(32),
        last_seen_at=timezone.now(),
        acr=AssuranceLevel.TWO_FACTOR,
    )
    session[sessions.SID] = account_session.sid
    session[sessions.ACR] = int(AssuranceLevel.TWO_FACTOR)
    session[sessions.AMR] = ["pwd", "otp"]
    session[sessions.AUTH_TIME] = now
    session[sessions.CREATED] = now
    session[sessions.SEEN] = now
    session.save()
    return account_session
