from django.core.management.base import BaseCommand

from yiwang.exchange.log import seal_pending


class Command(BaseCommand):
    help = "Seal the exchange log entries not sealed yet (the periodic job, for cron)."

    def handle(self, *args, **options):
        total = seals = 0
        while (seal := seal_pending()) is not None:
            total += seal.entries
            seals += 1
        self.stdout.write(f"sealed {total} entries in {seals} seals")
