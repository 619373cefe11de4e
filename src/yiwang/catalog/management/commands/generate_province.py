"""``yiwang generate-province --items 70000``: build a realistic province to demo and benchmark on."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.catalog.generator import generate_province
from yiwang.core.errors import DomainError

LEVEL_NAMES = {1: "省级", 2: "市级", 3: "县级", 4: "乡镇（街道）级"}


def tqdm_progress(phase: str, total: int):
    bar = tqdm(total=total, desc=phase, unit="项", dynamic_ncols=True, mininterval=0.5)

    class _Bar:
        def __call__(self, n: int) -> None:
            bar.update(n)

        def close(self) -> None:
            bar.close()

    return _Bar()


# The generator's phases (GenerationReport.seconds keys) as the printout names them.
PHASE_NAMES = {
    "regions": "区划",
    "catalogue": "基本目录",
    "items": "实施清单",
    "publish": "发布",
    "bundles": "一件事",
    "top-up": "补足事项",
}


def print_report(write, report, elapsed: float) -> None:
    levels = "，".join(f"{LEVEL_NAMES[lv]} {n}" for lv, n in sorted(report.regions.items()))
    write(f"区划：{levels}")
    write(f"部门：{report.departments}，政务服务大厅：{report.halls}，基本目录事项：{report.standard_items}")
    by_level = "，".join(f"{LEVEL_NAMES[lv]} {n}" for lv, n in sorted(report.items_by_level.items()))
    write(f"实施清单事项：{report.items}（{by_level}），已发布：{report.published}")
    phases = "，".join(f"{PHASE_NAMES.get(k, k)} {v} 秒" for k, v in report.seconds.items())
    write(f"用时：{elapsed:.1f} 秒（{phases}）")


class Command(BaseCommand):
    help = "生成一个完整的省：区划、部门、大厅、基本目录和已发布的实施清单事项。"

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=70000, help="实施清单事项总数（默认 70000）")
        parser.add_argument("--province", default=None, help="省级区划代码（默认 YIWANG_PROVINCE_CODE）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同的数据")
        parser.add_argument("--cities", type=int, default=None, help="只生成前 N 个设区市（小规模试运行）")
        parser.add_argument("--townships", default="5-15", help="每个县（区）的乡镇（街道）数量范围，如 5-15")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")
        parser.add_argument("--no-bundles", action="store_true", help="不生成各设区市的“一件事”")

    def handle(
        self, *args, items, province, seed, cities, townships, no_progress, no_bundles=False, **options
    ):
        try:
            low, high = (int(x) for x in townships.split("-"))
        except ValueError as exc:
            raise CommandError(f"--townships 格式应为“最小-最大”，如 5-15（当前为 {townships}）") from exc
        started = time.perf_counter()
        try:
            report = generate_province(
                items=items,
                province_code=province or settings.YIWANG_PROVINCE_CODE,
                seed=seed,
                cities=cities,
                townships=(low, high),
                progress=None if no_progress else tqdm_progress,
                bundles=not no_bundles,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        print_report(lambda s: self.stdout.write(s), report, time.perf_counter() - started)
