"""``yiwang poll-couriers``: ask the carrier about every courier delivery in transit (the
``cases.poll_couriers`` periodic job, for cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.cases.courier import poll_deliveries


class Command(BaseCommand):
    help = "查询在途快递的物流状态，登记变化；签收后按规则办结。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=100)

    def handle(self, *args, batch_size, **options):
        r = poll_deliveries(batch_size=batch_size)
        self.stdout.write(
            f"查询 {r.asked} 件：状态变化 {r.changed} 件（签收 {r.delivered}，办结 {r.closed}），"
            f"无变化 {r.unchanged} 件，快递接口失败 {r.errors} 件，跳过 {len(r.skipped)} 件"
        )
        for line in r.skipped:
            self.stdout.write(f"  跳过 {line}")
