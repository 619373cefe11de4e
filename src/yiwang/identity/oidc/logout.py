"""Ending the province session from the OIDC side (RP-initiated logout)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from yiwang.identity.models import AccountSession


def end_current_session(request: HttpRequest, *, reason: str) -> AccountSession | None:
    """End the browser's tracked session through identity.sessions.end_session (which notifies the
    relying parties); without that module yet, do its part here."""
    sid = request.session.get("yiwang_sid")
    key = request.session.session_key
    qs = AccountSession.objects.filter(ended_at__isnull=True)
    account_session = (qs.filter(sid=sid).first() if sid else None) or (
        qs.filter(session_key=key).first() if key else None
    )
    if account_session is None:
        return None
    try:
        from yiwang.identity.sessions import end_session
    except ImportError:
        end_session = None
    if end_session is not None:
        end_session(account_session, reason=reason)
    else:
        from yiwang.identity.oidc.backchannel import notify_logout

        AccountSession.objects.filter(pk=account_session.pk).update(
            ended_at=timezone.now(), end_reason=reason
        )
        notify_logout(account_session)
    return account_session
