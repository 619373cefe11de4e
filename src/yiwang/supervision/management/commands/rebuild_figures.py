"""``yiwang rebuild_figures [--since DATE]``: recount the day rollups from the cases."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from yiwang.supervision.figures import rebuild


class Command(BaseCommand):
    help = "根据办件重新统计效能日数据（可重复执行，结果相同）。"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="YYYY-MM-DD：只重算这一天及以后的数据")

    def handle(self, *args, since=None, **options):
        day = None
        if since:
            try:
                day = dt.date.fromisoformat(since)
            except ValueError as e:
                raise CommandError(f"--since: not a date (YYYY-MM-DD): {since}") from e
        rows = rebuild(day)
        self.stdout.write(f"rebuilt {rows} day rows since {day or 'the first case'}")
