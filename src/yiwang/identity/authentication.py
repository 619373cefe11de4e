"""Password login with brute-force protection (per account and per client IP).

Rules (defaults; see docs/identity-security.md and the ``YIWANG_LOGIN_*`` settings):

- an account (or a login name that matches no account: the answer must not tell the two apart)
  is cooled off for 15 minutes after 5 failures within 15 minutes; each further round of 5
  failures doubles the cool-off, up to 1 hour. Quiet for one window after a cool-off ends, the
  count starts over. A success clears the account's count.
- one client IP gets 20 failures within 15 minutes across all accounts, then the same doubling
  cool-off. A success does NOT clear the IP's count (an attacker with one valid account of his
  own would otherwise reset it between guesses); it only takes back its own attempt.

A cool-off ends by itself: an attacker can delay a person, never lock them out for good.

Counters live in ``LoginThrottle`` rows keyed by a keyed hash (never the raw name or IP) and are
updated under a row lock, so every web process sees the same counts. Each attempt is counted
*before* the slow password check and taken back if it succeeds, so a burst of parallel guesses
cannot slip past the limit while the first ones are still being checked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core import audit
from yiwang.core.context import acting_as
from yiwang.core.crypto import blind_index, mask_text

from .models import LoginThrottle, Person

ACCOUNT = "account"
IP = "ip"
OTP = "otp"

logger = logging.getLogger(__name__)

_ID_NUMBER_RE = re.compile(r"^\d{17}[\dXx]$")


@dataclass(frozen=True)
class ThrottleRule:
    threshold: int
    window: timedelta
    cooloff: timedelta
    cap: timedelta

    def cooloff_for(self, level: int) -> timedelta:
        """Cool-off after the ``level``-th round of failures: base, doubled each round, capped."""
        return min(self.cooloff * (2 ** max(level - 1, 0)), self.cap)


def _minutes(name: str, default: int) -> timedelta:
    return timedelta(minutes=int(getattr(settings, name, default)))


def rule(scope: str) -> ThrottleRule:
    if scope == IP:
        return ThrottleRule(
            threshold=int(getattr(settings, "YIWANG_LOGIN_IP_MAX_FAILURES", 20)),
            window=_minutes("YIWANG_LOGIN_WINDOW_MINUTES", 15),
            cooloff=_minutes("YIWANG_LOGIN_COOLOFF_MINUTES", 15),
            cap=_minutes("YIWANG_LOGIN_COOLOFF_CAP_MINUTES", 60),
        )
    # Accounts and second-factor codes share the account rule: 5 wrong codes are as suspicious
    # as 5 wrong passwords, and a 6-digit code must not be guessable by sheer volume.
    return ThrottleRule(
        threshold=int(getattr(settings, "YIWANG_LOGIN_ACCOUNT_MAX_FAILURES", 5)),
        window=_minutes("YIWANG_LOGIN_WINDOW_MINUTES", 15),
        cooloff=_minutes("YIWANG_LOGIN_COOLOFF_MINUTES", 15),
        cap=_minutes("YIWANG_LOGIN_COOLOFF_CAP_MINUTES", 60),
    )


def throttle_key(scope: str, value: str) -> str:
    return blind_index(value, purpose=f"login_throttle:{scope}")


@dataclass
class Attempt:
    """One counted attempt on one throttle row (returned by ``begin_attempt``)."""

    scope: str
    key_hash: str
    locked_now: bool = False  # this attempt reached the threshold and set the cool-off


def _locked_row(scope: str, key_hash: str, now: datetime) -> LoginThrottle:
    """The row for update, created if missing (a concurrent creator wins the unique constraint)."""
    row = LoginThrottle.objects.select_for_update().filter(scope=scope, key_hash=key_hash).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LoginThrottle.objects.create(scope=scope, key_hash=key_hash, window_started_at=now)
    except IntegrityError:
        return LoginThrottle.objects.select_for_update().get(scope=scope, key_hash=key_hash)


def _roll_window(row: LoginThrottle, r: ThrottleRule, now: datetime) -> None:
    # After a cool-off, window_started_at is the end of the cool-off: failures in the window that
    # follows escalate; a quiet window forgets everything.
    if now >= row.window_started_at + r.window and (row.locked_until is None or now >= row.locked_until):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None


def locked_until(scope: str, key_hash: str, now: datetime | None = None) -> datetime | None:
    """When the cool-off of this key ends, or None if it may try now (read only)."""
    now = now or timezone.now()
    row = LoginThrottle.objects.filter(scope=scope, key_hash=key_hash).first()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def begin_attempts(keys: list[tuple[str, str]], now: datetime) -> tuple[list[Attempt], datetime | None]:
    """Count one attempt on every (scope, key hash), all or nothing.

    Returns the attempts, or ([], until) when one of the keys is cooling off (nothing counted).
    """
    with transaction.atomic():
        rows = []
        for scope, key_hash in sorted(keys):  # a fixed order: two requests never deadlock
            row = _locked_row(scope, key_hash, now)
            _roll_window(row, rule(scope), now)
            rows.append(row)
        blocked = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
        if blocked:
            for row in rows:
                row.save(update_fields=["failures", "window_started_at", "locked_until"])
            return [], max(blocked)
        attempts = []
        for row in rows:
            r = rule(row.scope)
            row.failures += 1
            attempt = Attempt(row.scope, row.key_hash)
            if row.failures % r.threshold == 0:
                row.locked_until = now + r.cooloff_for(row.failures // r.threshold)
                row.window_started_at = row.locked_until
                attempt.locked_now = True
            row.save(update_fields=["failures", "window_started_at", "locked_until"])
            attempts.append(attempt)
        return attempts, None


def take_back(attempt: Attempt, *, clear: bool) -> None:
    """A counted attempt succeeded: ``clear`` the row (an account) or just uncount it (an IP)."""
    row = (
        LoginThrottle.objects.select_for_update()
        .filter(scope=attempt.scope, key_hash=attempt.key_hash)
        .first()
    )
    if row is None:
        return
    if clear:
        row.delete()
        return
    row.failures = max(row.failures - 1, 0)
    if attempt.locked_now:
        row.locked_until = None
    row.save(update_fields=["failures", "locked_until"])


def purge_throttles(now: datetime | None = None) -> int:
    """Delete counters that no longer matter: not cooling off and past their window (guessed
    names would otherwise pile up one row each). Run periodically (``yiwang sweep_sessions``)."""
    now = now or timezone.now()
    longest = max(rule(ACCOUNT).window, rule(IP).window)
    deleted, _ = (
        LoginThrottle.objects.filter(window_started_at__lt=now - longest)
        .exclude(locked_until__gt=now)
        .delete()
    )
    return deleted


# --- login -------------------------------------------------------------------------------------


def looks_like_id_number(identifier: str) -> bool:
    return bool(_ID_NUMBER_RE.match(identifier.strip()))


def find_user(identifier: str) -> User | None:
    """The account for a login name: a username, or a resident ID number (via its keyed hash)."""
    identifier = identifier.strip()
    if not identifier:
        return None
    if looks_like_id_number(identifier):
        person = (
            Person.objects.select_related("user")
            .filter(id_number_hash=blind_index(identifier, purpose="id_number"))
            .first()
        )
        if person is not None:
            return person.user
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: identifier}).first()


def masked_login_name(identifier: str) -> str:
    """What the audit log shows of a typed login name: ID and phone numbers masked in whatever
    spelling they were typed (core.crypto.mask_text)."""
    return mask_text(identifier.strip())[:64]


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str = ""
    retry_after: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def cooloff_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return ngettext(
        "登录尝试过于频繁，请 %(minutes)d 分钟后再试。",
        "登录尝试过于频繁，请 %(minutes)d 分钟后再试。",
        minutes,
    ) % {"minutes": minutes}


def password_login(
    request: HttpRequest | None,
    identifier: str,
    password: str,
    *,
    ip: str,
    known_accounts: frozenset[int] = frozenset(),
    now: datetime | None = None,
) -> LoginResult:
    """Check a login name and password under the throttling rules; audit the outcome.

    Does not start a session (the caller decides between a session and a second-factor step).
    The error never says whether the account exists. ``known_accounts``: the accounts that fully
    logged in before from this browser (a signed cookie, ``known_devices``); they are counted
    apart, so that an attacker's failures cannot keep a person out on their own device.
    """
    now = now or timezone.now()
    identifier = (identifier or "").strip()
    user = find_user(identifier)
    # Per account when the name is known; per typed name otherwise, so that an unknown name
    # behaves (and cools off) exactly like a known one.
    if user is None:
        account_value = f"name:{identifier.lower()}"
    elif user.pk in known_accounts:
        account_value = f"user:{user.pk}:known-device"
    else:
        account_value = f"user:{user.pk}"
    keys = [(ACCOUNT, throttle_key(ACCOUNT, account_value)), (IP, throttle_key(IP, ip or "-"))]
    shown = masked_login_name(identifier)

    attempts, until = begin_attempts(keys, now)
    if until is not None:
        # Not audited: nothing was checked, and an attacker hammering a cooled-off key must not
        # be able to flood the (serialised, hash-chained) audit log. The lock itself is audited.
        logger.warning("login refused during cool-off: %s", shown)
        return LoginResult(None, cooloff_message(until, now), until)

    authenticated = None
    if user is not None and password:
        authenticated = authenticate(request, username=user.get_username(), password=password)
    elif password:
        # Spend the same time as a real check so the response time does not reveal the account.
        get_user_model()().set_password(password)

    with transaction.atomic():
        if authenticated is not None:
            for attempt in attempts:
                take_back(attempt, clear=attempt.scope == ACCOUNT)
            # The request came in anonymous; from this entry on it is the account's own action.
            with acting_as(authenticated):
                audit.record(
                    "identity.login.succeeded",
                    authenticated,
                    summary=_("密码验证通过：%(login)s") % {"login": shown},
                    detail={"login": shown, "ip_masked": mask_ip(ip)},
                )
            return LoginResult(authenticated)
        audit.record(
            "identity.login.failed",
            user,
            summary=_("登录失败：%(login)s") % {"login": shown},
            detail={"login": shown, "known_account": user is not None, "ip_masked": mask_ip(ip)},
        )
        for attempt in attempts:
            if attempt.locked_now:
                audit.record(
                    "identity.login.locked",
                    user if attempt.scope == ACCOUNT else None,
                    summary=_("连续登录失败，进入冷却期：%(login)s（%(scope)s）")
                    % {"login": shown if attempt.scope == ACCOUNT else mask_ip(ip), "scope": attempt.scope},
                    detail={"scope": attempt.scope, "login": shown, "ip_masked": mask_ip(ip)},
                )
    locked = [a for a in attempts if a.locked_now]
    if locked:
        until = locked_until(locked[0].scope, locked[0].key_hash, now)
        if until is not None:
            return LoginResult(None, cooloff_message(until, now), until)
    return LoginResult(None, _("账号或密码不正确。"))


# --- known devices ---------------------------------------------------------------------------------
# A browser where an account completed a login (password, and the code if it has a device) gets a
# signed cookie naming that account. Such a browser has its own failure counter for the account:
# someone guessing from elsewhere cools off the account for everybody else, not for its owner.

KNOWN_DEVICE_COOKIE = "yiwang_known"
KNOWN_DEVICE_SALT = "yiwang.identity.known-device"
KNOWN_DEVICE_MAX_AGE = 180 * 24 * 3600
KNOWN_DEVICE_MAX_ACCOUNTS = 5


def known_accounts(request: HttpRequest) -> frozenset[int]:
    raw = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE
    )
    return frozenset(int(p) for p in raw.split(",") if p.isdigit())


def remember_device(request: HttpRequest, response, user: User) -> None:
    """Add ``user`` to the browser's known-device cookie (the most recent few accounts)."""
    previous = [p for p in sorted(known_accounts(request)) if p != user.pk]
    value = ",".join(str(p) for p in [user.pk, *previous][:KNOWN_DEVICE_MAX_ACCOUNTS])
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        value,
        salt=KNOWN_DEVICE_SALT,
        max_age=KNOWN_DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def mask_ip(ip: str) -> str:
    """192.168.*.* / 2001:db8:*: enough to recognise one's own network, not to locate a person."""
    if not ip:
        return ""
    if ":" in ip:
        parts = ip.split(":")
        return ":".join(parts[:2]) + ":*"
    parts = ip.split(".")
    if len(parts) == 4:
        return f"{parts[0]}.{parts[1]}.*.*"
    return "*"
