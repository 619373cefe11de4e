from django.core.management.base import BaseCommand

from yiwang.exchange.log import seal_all


class Command(BaseCommand):
    help = "Seal the exchange log entries not sealed yet (the periodic job, for cron)."

    def handle(self, *args, **options):
        total, seals = seal_all()
        self.stdout.write(f"sealed {total} entries in {seals} seals")
