"""Tracked login sessions: start, end, the acr of a session, idle and absolute timeouts.

Every login goes through ``start_session``, which pairs the Django session with an
``AccountSession`` row: the person sees it on /auth/sessions/ and can end it, and its ``sid`` is
what OpenID Connect relying parties are told, so back-channel logout can name it.

Timeouts (docs/identity-security.md): a session ends after ``YIWANG_SESSION_IDLE_SECONDS``
(default 30 minutes) without a request and after ``YIWANG_SESSION_ABSOLUTE_SECONDS`` (default
12 hours) in any case. The middleware keeps the times in the session itself and writes
``last_seen_at`` to the database at most once a minute, so an ordinary request costs no query.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core import audit
from yiwang.core.context import acting_as
from yiwang.core.middleware import client_ip
from yiwang.identity.oidc.backchannel import notify_logout

from .models import AccountSession, AssuranceLevel, StaffRole

logger = logging.getLogger(__name__)

SID = "yiwang_sid"
ACR = "yiwang_acr"
AMR = "yiwang_amr"
AUTH_TIME = "yiwang_auth_time"
CREATED = "yiwang_created"  # epoch seconds the session started (absolute timeout)
SEEN = "yiwang_seen"  # epoch seconds of the last request (idle timeout), rounded to a minute's writes

# Why a session ended (AccountSession.end_reason, audit detail).
REASON_LOGOUT = "logout"
REASON_LOGOUT_EVERYWHERE = "logout_everywhere"
REASON_ENDED_BY_USER = "ended_by_user"
REASON_IDLE = "idle_timeout"
REASON_ABSOLUTE = "absolute_timeout"
REASON_REPLACED = "replaced"

SEEN_WRITE_EVERY = 60  # seconds between two writes of last_seen_at


def idle_seconds() -> int:
    return int(getattr(settings, "YIWANG_SESSION_IDLE_SECONDS", 30 * 60))


def absolute_seconds() -> int:
    return int(getattr(settings, "YIWANG_SESSION_ABSOLUTE_SECONDS", 12 * 3600))


# --- assurance ------------------------------------------------------------------------------------


def account_level(user: User) -> int:
    """The account's assurance level: the person's; staff accounts count as verified (they are
    issued by the platform to named civil servants, not self-registered)."""
    person = getattr(user, "person", None) if user is not None else None
    if person is not None:
        return int(person.assurance_level)
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return AssuranceLevel.VERIFIED
    return AssuranceLevel.REGISTERED


def password_acr(user: User) -> int:
    """acr of a password-only session: the account's level, at most 2."""
    return min(account_level(user), AssuranceLevel.VERIFIED)


def second_factor_acr(user: User) -> int:
    """acr after a second factor in this session: 3 if the account is verified."""
    level = account_level(user)
    return AssuranceLevel.TWO_FACTOR if level >= AssuranceLevel.VERIFIED else level


def is_administrator(user: User) -> bool:
    """Administrators must use a second factor (issue 3: mandatory TOTP for administrators)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    from .models import Role

    return StaffRole.objects.filter(
        user=user, role__in=[Role.CATALOGUE_ADMIN, Role.PLATFORM_ADMIN, Role.DATA_ADMIN]
    ).exists()


def current_acr(request: HttpRequest) -> int:
    """The session's acr: 0 when not logged in; 1 for a session not started by ``start_session``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    try:
        return int(request.session.get(ACR) or AssuranceLevel.REGISTERED)
    except (TypeError, ValueError):
        return AssuranceLevel.REGISTERED


def current_account_session(request: HttpRequest) -> AccountSession | None:
    sid = request.session.get(SID) if hasattr(request, "session") else None
    if not sid or not request.user.is_authenticated:
        return None
    return AccountSession.objects.filter(sid=sid, user=request.user, ended_at__isnull=True).first()


# --- start and end --------------------------------------------------------------------------------


def start_session(request: HttpRequest, user: User, *, acr: int, amr: list[str]) -> AccountSession:
    """Log ``user`` in and track the session.

    Raising the acr of a running session (a second factor after a password, a step-up) keeps its
    ``sid``: relying parties already know it. Another user's session is ended first.
    """
    now = timezone.now()
    previous = None
    if request.user.is_authenticated and request.session.get(SID):
        previous = AccountSession.objects.filter(sid=request.session[SID], ended_at__isnull=True).first()
    if previous is not None and previous.user_id != user.pk:
        end_session(previous, reason=REASON_REPLACED)
        previous = None
    created_epoch = request.session.get(CREATED) if previous is not None else None

    # A user loaded for the second-factor step did not come from authenticate(): name the backend.
    backend = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0]
    login(request, user, backend=backend)  # cycles the session key: no session fixation
    if not request.session.session_key:
        request.session.save()
    epoch = int(now.timestamp())
    with transaction.atomic():
        if previous is not None:
            previous.session_key = request.session.session_key
            previous.acr = acr
            previous.last_seen_at = now
            previous.save(update_fields=["session_key", "acr", "last_seen_at"])
            account_session = previous
        else:
            account_session = AccountSession.objects.create(
                user=user,
                session_key=request.session.session_key,
                sid=secrets.token_urlsafe(32),
                last_seen_at=now,
                ip=client_ip(request)[:64],
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                acr=acr,
            )
        with acting_as(user):  # the request that logs in began anonymous
            audit.record(
                "identity.session.started" if previous is None else "identity.session.raised",
                user,
                summary=_("登录成功，认证等级 %(acr)d") % {"acr": acr},
                detail={"acr": acr, "amr": list(amr), "session": account_session.pk},
            )
    request.session[SID] = account_session.sid
    request.session[ACR] = int(acr)
    request.session[AMR] = list(amr)
    request.session[AUTH_TIME] = epoch
    request.session[CREATED] = created_epoch or int(account_session.created_at.timestamp())
    request.session[SEEN] = epoch
    return account_session


def lower_session_acr(request: HttpRequest, acr: int) -> None:
    """After the second factor is removed the session no longer proves it."""
    if current_acr(request) <= acr:
        return
    request.session[ACR] = int(acr)
    request.session[AMR] = [m for m in request.session.get(AMR) or [] if m != "otp"]
    if sid := request.session.get(SID):
        AccountSession.objects.filter(sid=sid).update(acr=acr)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def end_session(account_session: AccountSession, *, reason: str) -> None:
    """End one tracked session: its Django session is deleted (wherever the browser is), the row
    is marked ended, and relying parties are told (back-channel logout) once committed."""
    with transaction.atomic():
        updated = AccountSession.objects.filter(pk=account_session.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason[:32]
        )
        _session_store()(session_key=account_session.session_key).delete()
        if not updated:
            return  # already ended (double submit, two tabs): nothing more to tell anyone
        account_session.refresh_from_db(fields=["ended_at", "end_reason"])
        audit.record(
            "identity.session.ended",
            account_session.user,
            summary=_("会话结束：%(reason)s") % {"reason": reason},
            detail={"reason": reason, "session": account_session.pk},
        )
        transaction.on_commit(lambda: _notify_relying_parties(account_session))


def _notify_relying_parties(account_session: AccountSession) -> None:
    try:
        notify_logout(account_session)
    except Exception:  # a relying party being down must not make logging out fail
        logger.exception("back-channel logout failed for session %s", account_session.pk)


def logout_request(request: HttpRequest, *, reason: str = REASON_LOGOUT) -> None:
    """End the request's own session, tracked or not, and make the request anonymous."""
    account_session = current_account_session(request)
    if account_session is not None:
        end_session(account_session, reason=reason)
    elif request.user.is_authenticated:
        audit.record(
            "identity.session.ended",
            request.user,
            summary=_("会话结束：%(reason)s") % {"reason": reason},
            detail={"reason": reason},
        )
    logout(request)  # flushes the session and rotates the CSRF token


def active_sessions(user: User, now: datetime | None = None) -> QuerySet[AccountSession]:
    """The user's sessions that may still be used: not ended and within both timeouts."""
    now = now or timezone.now()
    return AccountSession.objects.filter(
        user=user,
        ended_at__isnull=True,
        last_seen_at__gt=now - timedelta(seconds=idle_seconds()),
        created_at__gt=now - timedelta(seconds=absolute_seconds()),
    ).order_by("-last_seen_at")


def end_other_session(user: User, session_id: int) -> bool:
    """The sessions page's "log out this one": only the user's own session can be named."""
    account_session = AccountSession.objects.filter(pk=session_id, user=user, ended_at__isnull=True).first()
    if account_session is None:
        return False
    end_session(account_session, reason=REASON_ENDED_BY_USER)
    return True


def end_all_sessions(user: User) -> int:
    """The "log out everywhere" button: every session of the user, this one included."""
    rows = list(AccountSession.objects.filter(user=user, ended_at__isnull=True))
    with transaction.atomic():
        for account_session in rows:
            end_session(account_session, reason=REASON_LOGOUT_EVERYWHERE)
        audit.record(
            "identity.logout_everywhere",
            user,
            summary=ngettext(
                "退出全部登录（%(count)d 个会话）", "退出全部登录（%(count)d 个会话）", len(rows)
            )
            % {"count": len(rows)},
            detail={"sessions": [s.pk for s in rows]},
        )
    return len(rows)


def end_expired_sessions(now: datetime | None = None) -> int:
    """End the sessions that timed out without a further request (the browser was just closed),
    so that their relying parties are told too. Run periodically (``yiwang sweep_sessions``)."""
    now = now or timezone.now()
    idle_before = now - timedelta(seconds=idle_seconds())
    absolute_before = now - timedelta(seconds=absolute_seconds())
    ended = 0
    expired = AccountSession.objects.filter(ended_at__isnull=True).filter(
        models.Q(last_seen_at__lte=idle_before) | models.Q(created_at__lte=absolute_before)
    )
    for account_session in expired.select_related("user").iterator(chunk_size=500):
        reason = REASON_ABSOLUTE if account_session.created_at <= absolute_before else REASON_IDLE
        end_session(account_session, reason=reason)
        ended += 1
    return ended


# --- middleware -------------------------------------------------------------------------------------


class SessionTimeoutMiddleware:
    """Ends sessions idle too long or open too long, and records when a session was last used.

    Put it after AuthenticationMiddleware and AuditContextMiddleware (so the audit entry of a
    timeout names the person).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = self._check(request)
            if reason is not None:
                logout_request(request, reason=reason)
                request.user = AnonymousUser()
                if not request.path.startswith("/api/"):
                    query = urlencode({"next": request.get_full_path(), "timeout": reason})
                    return HttpResponseRedirect(f"{settings.LOGIN_URL}?{query}")
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> str | None:
        session = request.session
        now = int(time.time())
        created = session.get(CREATED)
        seen = session.get(SEEN)
        if created is None or seen is None:
            # A session not started here (force_login in tests, a login path we do not own):
            # start counting now rather than leaving it without limits.
            session.setdefault(CREATED, now)
            session[SEEN] = now
            return None
        if now - int(created) >= absolute_seconds():
            return REASON_ABSOLUTE
        if now - int(seen) >= idle_seconds():
            return REASON_IDLE
        if now - int(seen) >= SEEN_WRITE_EVERY:
            session[SEEN] = now
            sid = session.get(SID)
            if sid:
                alive = AccountSession.objects.filter(sid=sid, ended_at__isnull=True).update(
                    last_seen_at=timezone.now()
                )
                if not alive:
                    return REASON_LOGOUT  # ended elsewhere while this copy of the session lingered
        return None


def login_url_with_next(next_url: str) -> str:
    return f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}"
