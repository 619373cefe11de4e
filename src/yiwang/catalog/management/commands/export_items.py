"""yiwang export_items OUT.xlsx [--region CODE] [--department ID]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.catalog.spreadsheets import export_items
from yiwang.catalog.spreadsheets.exporting import items_for_export
from yiwang.regions.models import Department, Region


class Command(BaseCommand):
    help = "Export implementation lists (working copies) to xlsx in the import format."

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", help="the .xlsx file to write")
        parser.add_argument("--region", metavar="CODE", help="only this region and the regions below it")
        parser.add_argument("--department", metavar="ID", type=int, help="only this department (its id)")

    def handle(self, *args, **options) -> None:
        region = department = None
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"no such region code: {options['region']}")
        if options["department"] is not None:
            department = Department.objects.filter(pk=options["department"]).first()
            if department is None:
                raise CommandError(f"no such department id: {options['department']}")
        total = items_for_export(region=region, department=department).count()
        started = time.monotonic()
        with tqdm(total=total, desc=options["out"], unit="行", disable=options["verbosity"] < 1) as bar:
            rows = export_items(
                options["out"], region=region, department=department, progress=lambda n: bar.update(n - bar.n)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"导出 {rows} 行到 {options['out']}，用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
