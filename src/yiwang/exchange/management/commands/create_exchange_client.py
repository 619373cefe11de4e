"""yiwang create-exchange-client: register a department system as an exchange API client and
print its client id and secret (once: only the secret's hash is kept)."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.errors import DomainError
from yiwang.exchange import clients
from yiwang.regions.models import Department


class Command(BaseCommand):
    help = "Register a department system (client credentials, scope exchange); prints the secret once."

    def add_arguments(self, parser):
        parser.add_argument("--department", required=True, type=int, help="consuming department id")
        parser.add_argument("--name", required=True, help="the system's name")
        parser.add_argument("--rate-limit", default="", help="e.g. 600/m (default: YIWANG_EXCHANGE_RATE)")

    def handle(self, *args, **options):
        department = Department.objects.select_related("region").filter(pk=options["department"]).first()
        if department is None:
            raise CommandError(f"no department {options['department']}")
        try:
            new = clients.create_client(
                None, department, name=options["name"], rate_limit=options["rate_limit"]
            )
        except DomainError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"client_id {new.client_id}\nclient_secret {new.client_secret}")
        self.stdout.write(
            "The secret is shown once; store it now. Token: POST /o/token/ grant_type=client_credentials scope=exchange"
        )
