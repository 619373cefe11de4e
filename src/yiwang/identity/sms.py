"""Sending text messages (one-time codes, notices) through an SMS provider.

Services call ``sms_gateway().send(phone, text)``. A province names its provider's adapter, a
class with the same method, in ``YIWANG_SMS_GATEWAY`` (a dotted path). With none named:

- ``YIWANG_FAKE_SMS`` on (the demo, DEBUG): ``FakeSmsGateway``, a FAKE that sends nothing and
  keeps each message (phone hashed and masked, text encrypted) so the page "演示短信（假网关）"
  can show the codes sent to the demo's own phones, and tests can read them;
- otherwise ``UnconfiguredSmsGateway``, which refuses: a production deployment without a
  provider cannot send codes, and never falls back to the fake.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from yiwang.core.crypto import decrypt, encrypt, mask_phone

from .models import FakeSmsMessage
from .registries import phone_hash

log = logging.getLogger("yiwang.identity.sms")

FAKE_TEXT_CONTEXT = "fake_sms.text"
FAKE_KEEP = dt.timedelta(days=1)  # the fake's messages are wiped after a day


class SmsUnavailable(Exception):
    """No SMS provider is configured, or it refused the message."""


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class UnconfiguredSmsGateway:
    def send(self, phone: str, text: str) -> None:
        raise SmsUnavailable("no SMS provider configured (YIWANG_SMS_GATEWAY)")


def fake_sms_enabled() -> bool:
    return bool(getattr(settings, "YIWANG_FAKE_SMS", False)) and not getattr(
        settings, "YIWANG_SMS_GATEWAY", ""
    )


def code_in(text: str) -> str | None:
    """The 6-digit one-time code in a message's text, if it carries one."""
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", text)
    return found.group(1) if found else None


class FakeSmsGateway:
    """FAKE gateway for the demo and tests: keeps the message instead of sending it.

    ``sent`` lists this instance's messages as (phone, code or None), for the caller that
    made it (the demo's own registrations); the table keeps them for the demo page."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, code_in(text)))
        now = timezone.now()
        FakeSmsMessage.objects.filter(sent_at__lt=now - FAKE_KEEP).delete()
        FakeSmsMessage.objects.create(
            phone_hash=phone_hash(phone),
            phone_masked=mask_phone(phone),
            text_cipher=encrypt(text, context=FAKE_TEXT_CONTEXT),
        )

    @staticmethod
    def messages_to(phones: list[str], limit: int = 20) -> list[tuple[FakeSmsMessage, str]]:
        """[(message, text)], newest first, of the messages sent to ``phones`` only."""
        rows = FakeSmsMessage.objects.filter(phone_hash__in=[phone_hash(p) for p in phones])[:limit]
        return [(m, decrypt(m.text_cipher, context=FAKE_TEXT_CONTEXT)) for m in rows]

    @classmethod
    def last_code_to(cls, phone: str) -> str | None:
        """The code of the newest message to ``phone`` that carries one (6 digits)."""
        for _m, text in cls.messages_to([phone], limit=5):
            if code := code_in(text):
                return code
        return None


def sms_gateway() -> SmsGateway:
    path = getattr(settings, "YIWANG_SMS_GATEWAY", "")
    if path:
        return import_string(path)()
    if fake_sms_enabled():
        return FakeSmsGateway()
    return UnconfiguredSmsGateway()
