"""TOTP second factor (RFC 6238: 30-second steps, 6 digits, SHA-1, as every authenticator app
expects).

- The secret is encrypted at rest (``core.crypto.encrypt``, context "totp").
- A code is accepted for the current step and one step either side (clock drift), and only for a
  step later than the last one accepted: a code seen over a shoulder or in a proxy log cannot be
  replayed, not even within its own 30 seconds.
- Wrong codes are throttled per account like wrong passwords (``authentication`` rules).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.crypto import current_key_id, decrypt, encrypt

from . import authentication
from .models import TotpDevice
from .services import refresh_assurance

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now
CONTEXT = "totp"


class MfaError(Exception):
    """A second-factor action refused; the message is for the person (Chinese)."""


def issuer() -> str:
    return str(
        getattr(settings, "YIWANG_TOTP_ISSUER", "") or getattr(settings, "YIWANG_PLATFORM_NAME", "yiwang")
    )


def confirmed_device(user: User) -> TotpDevice | None:
    if user is None or not user.is_authenticated:
        return None
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def has_confirmed_device(user: User) -> bool:
    return confirmed_device(user) is not None


def secret_of(device: TotpDevice) -> str:
    return decrypt(device.secret_cipher, context=CONTEXT)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator shows at ``now`` (tests, and nothing else, need this)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)


# --- enrolment -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    device: TotpDevice
    secret: str
    uri: str

    @property
    def secret_groups(self) -> str:
        """The secret in groups of four, for typing it by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    @property
    def qr_svg(self) -> str:
        return qr_svg(self.uri)


def qr_svg(uri: str) -> str:
    # Inline SVG: no image request, no third-party QR service ever sees the secret.
    return segno.make(uri, error="m").svg_inline(border=2, omitsize=True, title=_("动态口令绑定二维码"))


def _label(user: User) -> str:
    # The account label in the authenticator app: the username, never a personal number.
    return user.get_username()


def begin_enrolment(user: User) -> Enrolment:
    """A new secret for ``user`` (replacing an unconfirmed one). Refused if a device is confirmed."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            raise MfaError(_("您已绑定动态口令，如需更换请先解除绑定。"))
        secret = pyotp.random_base32(length=32)
        cipher = encrypt(secret, context=CONTEXT)
        if device is None:
            device = TotpDevice.objects.create(user=user, secret_cipher=cipher, key_id=current_key_id())
        else:
            device.secret_cipher, device.key_id, device.last_step = cipher, current_key_id(), 0
            device.save(update_fields=["secret_cipher", "key_id", "last_step"])
    return enrolment_of(device)


def pending_enrolment(user: User) -> Enrolment | None:
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return enrolment_of(device) if device is not None else None


def enrolment_of(device: TotpDevice) -> Enrolment:
    secret = secret_of(device)
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=_label(device.user), issuer_name=issuer()
    )
    return Enrolment(device, secret, uri)


def enrol_by_operator(user: User, secret: str | None = None, *, replace: bool = False) -> Enrolment:
    """A confirmed device set up from the server's command line (``yiwang enrol_totp``): for
    the first platform administrator and for demo accounts, which would otherwise have to
    enrol through a back office they cannot enter yet. ``secret`` fixes the secret (demo)."""
    secret = (secret or pyotp.random_base32(length=32)).replace(" ", "").upper()
    # 160 bits, as RFC 4226 recommends and as begin_enrolment generates.
    if not re.fullmatch(r"[A-Z2-7]{32,}", secret):
        raise MfaError(_("密钥必须是至少 32 位的 Base32 编码（A–Z、2–7）。"))
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None and not replace:
            raise MfaError(_("该账号已绑定动态口令。"))
        if device is not None:
            device.delete()
        device = TotpDevice.objects.create(
            user=user,
            secret_cipher=encrypt(secret, context=CONTEXT),
            key_id=current_key_id(),
            confirmed_at=timezone.now(),
        )
        audit.record(
            "identity.mfa.enrolled",
            user,
            summary=_("由运维人员绑定动态口令"),
            detail={"device": device.pk, "by": "cli"},
        )
        _refresh_assurance(user)
    return enrolment_of(device)


def _match(device: TotpDevice, code: str, now: datetime) -> int | None:
    """The step ``code`` belongs to, if it is valid and later than the last accepted step."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret_of(device), digits=DIGITS, interval=STEP_SECONDS)
    now_step = _step(now)
    found = None
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        # Compare every candidate (no early exit) so timing does not tell which step matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and step > device.last_step:
            found = step if found is None else found
    return found


def _check_code(user: User, device_qs, code: str, now: datetime) -> TotpDevice:
    """Verify under the throttle and the device's row lock; raise MfaError with the reason.

    Must not run inside an outer transaction: the counted attempt has to survive the refusal.
    """
    key = (authentication.OTP, authentication.throttle_key(authentication.OTP, f"user:{user.pk}"))
    attempts, until = authentication.begin_attempts([key], now)
    if until is not None:
        raise MfaError(authentication.cooloff_message(until, now))
    with transaction.atomic():
        device = device_qs.select_for_update().first()
        step = _match(device, code, now) if device is not None else None
        if step is not None:
            device.last_step = step
            device.save(update_fields=["last_step"])
            authentication.take_back(attempts[0], clear=True)
    if step is None:
        # Recorded in its own transaction: the refusal below must not roll the record back.
        with transaction.atomic():
            audit.record(
                "identity.mfa.failed",
                user,
                summary=_("动态口令错误"),
                detail={"device": getattr(device, "pk", None)},
            )
            if attempts[0].locked_now:
                audit.record(
                    "identity.login.locked",
                    user,
                    summary=_("动态口令连续错误，进入冷却期"),
                    detail={"scope": authentication.OTP},
                )
        if attempts[0].locked_now and (until := authentication.locked_until(*key, now)) is not None:
            raise MfaError(authentication.cooloff_message(until, now))
        raise MfaError(_("动态口令不正确或已使用，请等待下一个口令后重试。"))
    return device


def confirm_enrolment(user: User, code: str, *, now: datetime | None = None) -> TotpDevice:
    """Confirm the pending device with a code from the app; raises the account's assurance."""
    now = now or timezone.now()
    qs = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True)
    if not qs.exists():
        raise MfaError(_("没有待确认的动态口令，请重新开始绑定。"))
    # The code check commits on its own (a wrong code must stay counted); then the confirmation.
    device = _check_code(user, qs, code, now)
    with transaction.atomic():
        device.confirmed_at = now
        device.save(update_fields=["confirmed_at"])
        audit.record("identity.mfa.enrolled", user, summary=_("绑定动态口令"), detail={"device": device.pk})
        _refresh_assurance(user)
    return device


def verify(user: User, code: str, *, now: datetime | None = None) -> TotpDevice:
    """Check a code against the confirmed device (login, step-up). Raises MfaError."""
    now = now or timezone.now()
    qs = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False)
    if not qs.exists():
        raise MfaError(_("您尚未绑定动态口令。"))
    return _check_code(user, qs, code, now)


def disable(user: User, code: str, *, now: datetime | None = None) -> None:
    """Remove the device; a current code is required, so a borrowed session cannot do it."""
    now = now or timezone.now()
    device = verify(user, code, now=now)
    with transaction.atomic():
        device.delete()
        audit.record("identity.mfa.disabled", user, summary=_("解除动态口令绑定"), detail={})
        _refresh_assurance(user)


def _refresh_assurance(user: User) -> None:
    person = getattr(user, "person", None)
    if person is None:
        return
    refresh_assurance(person)
