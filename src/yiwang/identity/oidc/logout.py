"""Ending the province session from the OIDC side (RP-initiated logout)."""

from __future__ import annotations

from django.http import HttpRequest

from yiwang.identity.models import AccountSession
from yiwang.identity.sessions import end_session


def end_current_session(request: HttpRequest, *, reason: str) -> AccountSession | None:
    """End the browser's tracked session through identity.sessions.end_session (which notifies the
    relying parties)."""
    sid = request.session.get("yiwang_sid")
    key = request.session.session_key
    qs = AccountSession.objects.filter(ended_at__isnull=True)
    account_session = (qs.filter(sid=sid).first() if sid else None) or (
        qs.filter(session_key=key).first() if key else None
    )
    if account_session is None:
        return None
    end_session(account_session, reason=reason)
    return account_session
