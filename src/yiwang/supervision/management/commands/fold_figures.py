"""``yiwang fold_figures``: sum the pending figure deltas into the day rollups (the
``supervision.fold_figures`` periodic job, for cron in the embedded default)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.supervision.figures import fold


class Command(BaseCommand):
    help = "把待汇总的效能增量汇入效能日数据。"

    def handle(self, *args, **options):
        self.stdout.write(f"folded {fold()} deltas")
