"""``yiwang rating_jobs``: remind finished unrated cases once and escalate overdue rating
follow-ups once (the ``supervision.rating_jobs`` periodic job, for cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.supervision.ratings import escalate_overdue, remind_unrated


class Command(BaseCommand):
    help = "提醒办结 3 天仍未评价的申请人（每件一次），并上报逾期的差评整改（每个期限一次）。"

    def handle(self, *args, **options):
        escalated = escalate_overdue()
        reminded = remind_unrated()
        self.stdout.write(
            f"reminded {reminded}, call escalated {escalated.call}, report escalated {escalated.report}"
        )
