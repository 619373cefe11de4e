"""yiwang import_items FILE.xlsx [--publish] [--report out.xlsx] [--user USERNAME]"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.catalog.spreadsheets import import_items, write_report
from yiwang.core.context import ActorContext, reset_actor, set_actor


class Command(BaseCommand):
    help = "Import an implementation list (实施清单) from xlsx; see docs/spreadsheets.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the .xlsx file")
        parser.add_argument("--publish", action="store_true", help="publish every imported row")
        parser.add_argument("--report", metavar="OUT.xlsx", help="write the row-by-row error report here")
        parser.add_argument(
            "--user", metavar="USERNAME", help="act as this staff user (scope checked); default: the system"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no such user: {options['user']}") from None
        token = set_actor(
            ActorContext(
                user_id=user.pk if user else None,
                label=user.get_username() if user else "system",
                channel="cli",
            )
        )
        bars: list[tqdm] = []

        def progress(done: int, total: int | None) -> None:
            # The bar starts at the first call, which brings the number of data rows (0 first).
            if not bars:
                bars.append(tqdm(desc=path.name, unit="行", total=total, disable=options["verbosity"] < 1))
            bar = bars[0]
            if total is not None and bar.total != max(total, done):
                bar.total = max(total, done)
            bar.update(done - bar.n)

        try:
            result = import_items(path, user=user, publish=options["publish"], progress=progress)
        finally:
            for bar in bars:
                bar.close()
            reset_actor(token)
        if options["report"]:
            write_report(result.run, options["report"])
        for n in [] if result.rejected else result.notices[:20]:
            where = f"第{n.row}行" if n.row else "文件"
            col = f" {n.column}列" if n.column else ""
            self.stdout.write(f"提示：{where}{col}: {n.message}")
        shown = [] if result.rejected else result.errors[:20]
        for e in shown:
            where = f"第{e.row}行" if e.row else "文件"
            col = f" {e.column}列（{e.header}）" if e.column else (f"（{e.header}）" if e.header else "")
            self.stderr.write(f"{where}{col}: {e.message}")
        if len(result.errors) > 20:
            more = f"……另有 {len(result.errors) - 20} 条错误"
            self.stderr.write(
                more + (f"，见 {options['report']}" if options["report"] else "，用 --report 导出全部")
            )
        line = f"{result.summary()}（导入记录 #{result.run.pk}）"
        if result.rejected:
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line) if not result.failed else self.style.WARNING(line))
