"""``yiwang check-consistency``: every process agrees with its inbox rows (workflow.consistency).

Exit status 0 when all agree, 1 with one line per problem otherwise: usable after a crash, a
restore from backup or an upgrade, and by the crash test (``make crashtest``).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from yiwang.workflow import consistency


class Command(BaseCommand):
    help = "检查每个流程实例与其待办任务是否一致（只读，不修复）。"

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", dest="cases", help="只检查这些办件 id")

    def handle(self, *args, cases=None, **options):
        checked = len(consistency.instance_ids(case_ids=cases))
        problems = 0
        for problem in consistency.check(case_ids=cases):
            problems += 1
            self.stdout.write(str(problem))
        summary = f"{checked} workflow instances checked, {problems} problems"
        if problems:
            self.stderr.write(summary)
            sys.exit(1)
        self.stdout.write(summary)
