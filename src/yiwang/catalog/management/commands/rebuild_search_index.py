import time

from django.core.management.base import BaseCommand

from yiwang.catalog.search import rebuild_index
from yiwang.catalog.search.index import recreate_tables


class Command(BaseCommand):
    help = "Rebuild the catalogue search index from the current published versions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--recreate",
            action="store_true",
            help="drop and re-create the index tables first (tables from an older draft of the migration)",
        )

    def handle(self, *args, **options):
        if options["recreate"]:
            recreate_tables()
        started = time.perf_counter()
        verbosity = options["verbosity"]

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and (done == total or done % 10_000 < 1000):
                self.stdout.write(f"  {done}/{total}")

        count = rebuild_index(progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"search index rebuilt: {count} items in {time.perf_counter() - started:.1f}s")
        )
