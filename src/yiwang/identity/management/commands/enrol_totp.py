"""Bind a TOTP authenticator to an account from the command line and print the QR code.

For the first platform administrator (the back office needs a second factor before anyone can
use it) and for demo accounts: ``yiwang enrol_totp admin`` or, with a fixed secret for a demo,
``yiwang enrol_totp admin --secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP --replace``.
"""

from __future__ import annotations

import io

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiwang.core.context import ActorContext, reset_actor, set_actor
from yiwang.identity import mfa


class Command(BaseCommand):
    help = "Bind a TOTP authenticator to a user (prints the otpauth URI, the secret and a QR code)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--secret", help="base32 secret to use (demo accounts); random by default")
        parser.add_argument("--replace", action="store_true", help="replace a device already bound")
        parser.add_argument("--no-qr", action="store_true", help="do not draw the QR code in the terminal")

    def handle(self, *args, username: str, secret: str | None, replace: bool, no_qr: bool, **options) -> None:
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"no such user: {username}")
        token = set_actor(ActorContext(label="enrol_totp", channel="cli"))
        try:
            enrolment = mfa.enrol_by_operator(user, secret, replace=replace)
        except mfa.MfaError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            reset_actor(token)
        self.stdout.write(f"secret: {enrolment.secret_groups}")
        self.stdout.write(f"uri:    {enrolment.uri}")
        if not no_qr:
            out = io.StringIO()
            segno.make(enrolment.uri, error="m").terminal(out=out, compact=True)
            self.stdout.write(out.getvalue())
