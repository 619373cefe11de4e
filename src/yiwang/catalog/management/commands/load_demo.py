"""``yiwang load_demo``: the demo province, synonyms and back-office accounts (used by make demo).

Idempotent: when the demo province is already there it only prints the logins, so a second
``make demo`` starts in seconds.
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.catalog.generator import generate_province, province_exists
from yiwang.catalog.generator.demo import create_demo_users, demo_logins
from yiwang.catalog.generator.standards import load_synonyms
from yiwang.core.errors import DomainError
from yiwang.regions.models import Region

from .generate_province import print_report, tqdm_progress

DEFAULT_ITEMS = 3000
# The demo city portal's port: its redirect URI is registered with it (register_city_portal).
CITY_PORTAL_PORT = 8001


def site_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for a server bound to ``host``:``port``."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "载入演示数据：一个省的区划、部门、事项（默认 3000 项，YIWANG_DEMO_ITEMS 可调）和演示账号。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--items", type=int, default=None, help="事项数（默认 YIWANG_DEMO_ITEMS 或 3000）"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--cities", type=int, default=None, help="只生成前 N 个设区市（快速试用）")
        parser.add_argument("--no-progress", action="store_true")
        # Where `make demo` will serve (its HOST and PORT): the printed addresses use them.
        parser.add_argument("--host", default="127.0.0.1", help="演示站点的主机名（与 serve --host 相同）")
        parser.add_argument("--port", type=int, default=8000, help="演示站点的端口（与 serve --port 相同）")

    def handle(self, *args, items, seed, cities, no_progress, host="127.0.0.1", port=8000, **options):
        self.site = site_url(host, port)
        code = settings.YIWANG_PROVINCE_CODE
        if province_exists(code):
            self.stdout.write("演示数据已存在，跳过生成。")
        else:
            try:
                items = items or int(os.environ.get("YIWANG_DEMO_ITEMS", DEFAULT_ITEMS))
            except ValueError as exc:
                raise CommandError("YIWANG_DEMO_ITEMS 须为正整数") from exc
            started = time.perf_counter()
            self.stdout.write(f"正在生成演示省份（{items} 个事项）……")
            try:
                report = generate_province(
                    items=items,
                    province_code=code,
                    seed=seed,
                    cities=cities,
                    progress=None if no_progress else tqdm_progress,
                )
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            load_synonyms()
            province = Region.objects.get(code=code)
            create_demo_users(province)
            print_report(lambda s: self.stdout.write(s), report, time.perf_counter() - started)
        province = Region.objects.get(code=code)
        from yiwang.core.demo import load_demo_extras

        extras = load_demo_extras()
        self.print_logins(province)
        self.print_extras(extras)

    def print_logins(self, province: Region) -> None:
        line = "=" * 64
        self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(f"演示账号（仅供演示，请勿用于生产环境）  后台：{self.site}/admin/")
        )
        for login in demo_logins(province):
            self.stdout.write(f"  用户名 {login.username:<8} 密码 {login.password:<20} {login.description}")
        self.stdout.write(line)

    def print_extras(self, extras) -> None:
        from yiwang.core.demo import DEMO_TOTP_SECRET

        line = "=" * 64
        w = self.stdout.write
        w(
            f"  以上后台管理员（{'、'.join(extras.admins_with_totp)}）登录须输入动态口令："
            f"在认证器应用中添加密钥 {DEMO_TOTP_SECRET}"
        )
        w(self.style.SUCCESS(f"办事群众（门户 {self.site}/auth/login/，可用用户名或身份证号登录）"))
        for username, password, description in extras.people:
            w(f"  用户名 {username:<8} 密码 {password:<20} {description}")
        from yiwang.identity.synthetic import demo_registrant

        r = demo_registrant()
        w(
            f"  演示注册 {self.site}/account/register/person/：{r.name} 身份证号 {r.id_number} 手机 {r.phone}"
            f"（验证码见 {self.site}/account/demo-sms/ 演示短信（假网关））"
        )
        w(self.style.SUCCESS(f"办件工作人员（工作台 {self.site}/workbench/）"))
        for username, password, description in extras.staff:
            w(f"  用户名 {username:<8} 密码 {password:<20} {description}")
        if extras.cases:
            w("  演示办件：" + "，".join(f"{state} {number}" for state, number in extras.cases.items()))
        w(f"  效能统计：{self.site}/workbench/figures/（部门负责人 dept_head 可见本部门）")
        w(
            f"  实时大屏：{self.site}/dashboard/（公开）；监管实时看板：{self.site}/workbench/dashboard/（supervisor_city）"
        )
        client_id, secret = extras.city_portal
        w(self.style.SUCCESS("单点登录示例（另开终端运行福州市网上办事大厅示例）："))
        w(
            f"  .venv/bin/python examples/city_portal/run.py --port {CITY_PORTAL_PORT} --issuer {self.site}/o"
            f"  （client_id {client_id}，回调地址 http://127.0.0.1:{CITY_PORTAL_PORT}/）"
        )
        ex_id, ex_secret = extras.exchange_client
        if ex_id:
            w(
                self.style.SUCCESS(
                    "数据共享交换接口（部门系统，客户端凭据 scope=exchange，见 docs/exchange.md）："
                )
            )
            w(
                f"  人社厅社保经办系统 client_id {ex_id}  client_secret "
                + (ex_secret or "（仅首次加载时显示；可在工作台“部门系统接入”停用后重新登记）")
            )
            w(f"  交换统计：{self.site}/workbench/exchange/figures/（data_rst、data_gat 等数据管理员）")
        w(line)
