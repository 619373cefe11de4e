"""Outbound notifications behind one interface (``Notifier.send``). ``ConsoleNotifier`` logs
(masked) for the demo; ``FakeSmsGateway`` and ``FakeEmailGateway`` keep what they were given
so tests can read it. A real SMS or mail gateway implements the same method."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.core.crypto import mask_text

log = logging.getLogger("yiwang.notify")

DEFAULT_NOTIFIERS = {
    "sms": "yiwang.cases.notifiers.ConsoleNotifier",
    "email": "yiwang.cases.notifiers.ConsoleNotifier",
    "console": "yiwang.cases.notifiers.ConsoleNotifier",
}


class Notifier(Protocol):
    def send(self, *, recipient: str, subject: str, text: str) -> None: ...


class ConsoleNotifier:
    def send(self, *, recipient: str, subject: str, text: str) -> None:
        log.info("notify %s: %s — %s", mask_text(recipient), subject, mask_text(text))


class FakeSmsGateway:
    sent: list[dict[str, Any]] = []
    fail_next: int = 0

    def send(self, *, recipient: str, subject: str, text: str) -> None:
        if FakeSmsGateway.fail_next:
            FakeSmsGateway.fail_next -= 1
            raise ConnectionError("fake SMS gateway unavailable")
        self.sent.append({"to": recipient, "text": text})


class FakeEmailGateway:
    sent: list[dict[str, Any]] = []

    def send(self, *, recipient: str, subject: str, text: str) -> None:
        self.sent.append({"to": recipient, "subject": subject, "text": text})


class DjangoMailNotifier:
    """E-mail through Django's mail (``EMAIL_BACKEND``: SMTP in production, the locmem outbox
    in tests)."""

    def send(self, *, recipient: str, subject: str, text: str) -> None:
        from django.core.mail import send_mail

        send_mail(subject, text, None, [recipient])


def notifier(channel: str) -> Notifier:
    paths = {**DEFAULT_NOTIFIERS, **getattr(settings, "YIWANG_NOTIFIERS", {})}
    return import_string(paths[channel])()
