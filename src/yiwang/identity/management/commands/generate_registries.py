"""``yiwang generate-registries --people 20000 --companies 5000``: synthetic population and
legal-entity registries for real-name verification (demo, tests, benchmarks)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from yiwang.catalog.management.commands.generate_province import tqdm_progress
from yiwang.identity.synthetic import (
    create_demo_accounts,
    demo_companies,
    demo_people,
    demo_registrant,
    generate_registries,
)


class Command(BaseCommand):
    help = "生成合成的人口库和法人库（身份证号、统一社会信用代码均有效；库中只存哈希和脱敏值）。"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=20000, help="人口库人数（默认 20000）")
        parser.add_argument("--companies", type=int, default=5000, help="法人库企业数（默认 5000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同的数据")
        parser.add_argument("--province", default=None, help="省级区划代码（默认 YIWANG_PROVINCE_CODE）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")
        parser.add_argument(
            "--demo-accounts",
            action="store_true",
            help="同时注册演示个人账号、两个演示法人和一项经办人授权（可重复执行）",
        )

    def handle(self, *args, people, companies, seed, province, no_progress, demo_accounts, **options):
        started = time.perf_counter()
        report = generate_registries(
            people=people,
            companies=companies,
            seed=seed,
            province_code=province,
            progress=None if no_progress else tqdm_progress,
        )
        write = self.stdout.write
        write(
            f"人口库：新增 {report.people} 人（其中已注销户籍 {report.deceased}）；"
            f"法人库：新增 {report.companies} 家（其中吊销/注销 {report.inactive_companies}）"
        )
        write(f"用时：{time.perf_counter() - started:.1f} 秒")
        write("演示身份（可用于注册）：")
        for p in [*demo_people(), demo_registrant()]:
            write(f"  {p.name}  身份证号 {p.id_number}  手机 {p.phone}")
        for c in demo_companies():
            write(f"  {c.name}  统一社会信用代码 {c.credit_code}  法定代表人 {c.legal_rep.name}")
        if demo_accounts:
            write("演示个人账号（仅供演示）：登录 /auth/login/")
            for a in create_demo_accounts():
                write(f"  用户名 {a.username:<8} 密码 {a.password}  {a.person.name}  {a.description}")
