"""``yiwang generate-registries``: synthetic base registries for the demo, tests and benchmarks.

First the real-name tables of ``identity`` (``identity.synthetic.generate_registries``: hashes
and masks only), then, with the same seed, the exchange's base registries (人口库, 法人库,
信用/监管库, 电子证照库; ``exchange.synthetic.generate``) with the same people and companies.
The exchange part needs the owner departments (load the regions first); without them it is
skipped with a notice. Province scale on PostgreSQL::

    yiwang generate-registries --people 10000000 --companies 1000000 --certificates 2000000 --credit 2000000
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from yiwang.catalog.management.commands.generate_province import tqdm_progress
from yiwang.exchange import synthetic
from yiwang.identity.synthetic import (
    create_demo_accounts,
    demo_companies,
    demo_people,
    demo_registrant,
    generate_registries,
)

REGISTRY_NAMES = {
    "population": "人口库",
    "legal_entity": "法人库",
    "credit": "信用/监管库",
    "e_certificate": "电子证照库",
}


class Command(BaseCommand):
    help = "生成合成的基础库（人口库、法人库、信用/监管库、电子证照库；身份证号、统一社会信用代码均有效）。"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=20000, help="人口库人数（默认 20000）")
        parser.add_argument("--companies", type=int, default=5000, help="法人库企业数（默认 5000）")
        parser.add_argument("--certificates", type=int, default=None, help="电子证照数（默认为企业数）")
        parser.add_argument("--credit", type=int, default=None, help="信用/监管记录数（默认为企业数的 2 倍）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同的数据")
        parser.add_argument("--province", default=None, help="省级区划代码（默认 YIWANG_PROVINCE_CODE）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")
        parser.add_argument(
            "--identity-only",
            action="store_true",
            help="只生成实名核验用的人口库、法人库（不生成交换基础库）",
        )
        parser.add_argument(
            "--demo-accounts",
            action="store_true",
            help="同时注册演示个人账号、两个演示法人和一项经办人授权（可重复执行）",
        )

    def handle(
        self,
        *args,
        people,
        companies,
        certificates,
        credit,
        seed,
        province,
        no_progress,
        identity_only,
        demo_accounts,
        **options,
    ):
        started = time.perf_counter()
        progress = None if no_progress else tqdm_progress
        report = generate_registries(
            people=people, companies=companies, seed=seed, province_code=province, progress=progress
        )
        write = self.stdout.write
        write(
            f"人口库：新增 {report.people} 人（其中已注销户籍 {report.deceased}）；"
            f"法人库：新增 {report.companies} 家（其中吊销/注销 {report.inactive_companies}）"
        )
        if not identity_only:
            try:
                exchange = synthetic.generate(
                    people=people,
                    companies=companies,
                    certificates=companies if certificates is None else certificates,
                    credit=2 * companies if credit is None else credit,
                    seed=seed,
                    province_code=province,
                    progress=progress,
                )
            except synthetic.NoOwnerDepartment as exc:
                write(f"交换基础库：未找到数源部门（{exc}），已跳过；请先加载区划和部门（make demo）")
            else:
                write(
                    "交换基础库：新增 "
                    + "，".join(
                        f"{REGISTRY_NAMES[k]} {v} 条（{exchange.seconds.get(k, 0):.1f} 秒）"
                        for k, v in exchange.inserted.items()
                    )
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
