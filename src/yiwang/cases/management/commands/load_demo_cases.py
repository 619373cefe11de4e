"""``yiwang load_demo_cases``: demo staff and the demo applicant's cases in every state."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiwang.cases.demo import create_demo_cases


class Command(BaseCommand):
    help = "载入演示办件：一个县级部门的窗口、审批、负责人账号，以及演示申请人各状态的办件。"

    def handle(self, *args, **options):
        try:
            report = create_demo_cases()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("演示办件：" + ("已创建" if report.created else "已存在"))
        for state, number in report.cases.items():
            self.stdout.write(f"  {state:22} {number}")
        for username, password, label in report.logins:
            self.stdout.write(f"  {username} / {password}  {label}")
