from django.core.management.base import BaseCommand, CommandError

from yiwang.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and name the first broken entry."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} entries"))
            return
        raise CommandError(
            f"audit chain broken at entry #{report.first_broken_seq} ({report.reason}); "
            f"{report.checked} entries before it are intact"
        )
