"""``yiwang sweep_warnings``: recompute every running case's warning level (the
``supervision.sweep_warnings`` periodic job, for cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.supervision.services import sweep


class Command(BaseCommand):
    help = "重新计算在办办件的预警级别，级别变为黄色或红色时通知经办人员和部门负责人。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        r = sweep(batch_size=batch_size)
        self.stdout.write(
            f"checked {r.checked}, changed {r.changed}, notified {r.notified}, "
            f"cleared {r.cleared}, flagged {r.flagged}"
        )
