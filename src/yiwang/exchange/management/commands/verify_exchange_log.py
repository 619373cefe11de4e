from django.core.management.base import BaseCommand, CommandError

from yiwang.exchange.log import verify_log


class Command(BaseCommand):
    help = "Verify the exchange log's entries and seal chain and name the first broken entry or seal."

    def handle(self, *args, **options):
        report = verify_log()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"exchange log intact: {report.entries} sealed entries in {report.seals} seals, "
                    f"{report.unsealed} not sealed yet"
                )
            )
            return
        where = (
            f"entry id {report.broken_entry_id}"
            if report.broken_entry_id is not None
            else f"seal #{report.broken_seal_seq}"
        )
        raise CommandError(
            f"exchange log broken at {where} ({report.reason}); "
            f"{report.entries} entries in {report.seals} seals before it are intact"
        )
