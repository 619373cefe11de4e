"""``yiwang secure_document_files``: bring generated documents stored before the current rules
up to them. E-certificates are rendered again with the holder's ID number masked and stored
under an unguessable name, and the copies later applications took of them are refreshed;
notices are moved to unguessable names. Idempotent: run it once after upgrading (a second run
changes nothing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.cases import notices
from yiwang.exchange import services


class Command(BaseCommand):
    help = "Render e-certificates again with masked ID numbers; store certificates and notices under unguessable names."

    def handle(self, *args, **options) -> None:
        certificates, copies = services.secure_certificate_files()
        moved = notices.secure_stored_names()
        self.stdout.write(
            f"certificates rendered again: {certificates}; material copies refreshed: {copies}; notices moved: {moved}"
        )
