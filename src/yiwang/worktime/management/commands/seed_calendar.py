"""``yiwang seed_calendar [--from 2004 --to 2026] [--force]``: (re)load statutory holidays and
make-up working days from the chinesecalendar package. Idempotent; years an administrator
entered are kept unless --force. Run it after upgrading the package to pick up a new year."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from yiwang.core import audit
from yiwang.core.errors import DomainError
from yiwang.worktime import services


class Command(BaseCommand):
    help = "从 chinesecalendar 数据包载入法定节假日和调休上班日（可重复执行；保留管理员录入的年份）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="year_from", type=int, default=None, help="起始年份（默认数据包首年）"
        )
        parser.add_argument("--to", dest="year_to", type=int, default=None, help="结束年份（默认数据包末年）")
        parser.add_argument("--force", action="store_true", help="覆盖管理员录入或修改过的年份")

    def handle(self, *args, year_from, year_to, force, **options):
        started = time.perf_counter()
        try:
            report = services.seed_from_package(year_from, year_to, force=force)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if report.written:
            audit.record(
                "worktime.seed",
                object_type="worktime.calendaryear",
                object_id=f"{min(report.written)}-{max(report.written)}",
                summary=f"从 chinesecalendar 载入 {len(report.written)} 个年度（{report.days} 天）",
                detail={"written": report.written, "kept_admin": report.kept_admin, "force": force},
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"写入 {len(report.written)} 个年度（{report.days} 天），未变 {len(report.unchanged)} 个，"
            f"保留管理员录入 {len(report.kept_admin)} 个"
            + (f"（{'、'.join(map(str, report.kept_admin))}，--force 可覆盖）" if report.kept_admin else "")
            + f"，用时 {elapsed:.2f} 秒。"
        )
