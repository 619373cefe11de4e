"""``yiwang rotate-data-keys``: re-encrypt personal data under the current key.

Put the new key first in YIWANG_DATA_KEYS ("k2:<new>,k1:<old>"), restart, run this command, and
remove the old key once it reports nothing left under it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.crypto import DataKeyError
from yiwang.identity.services import rotate_data_keys

LABELS = {
    "person": "自然人（身份证号、手机号）",
    "totp": "动态口令密钥",
    "cases.application": "申请表单个人信息、收件地址",
    "cases.delivery": "送达地址",
    "cases.outbox": "通知接收人",
}


class Command(BaseCommand):
    help = "用当前密钥（YIWANG_DATA_KEYS 中的第一个）重新加密所有个人数据密文，并报告数量。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        try:
            report = rotate_data_keys(batch_size=batch_size)
        except DataKeyError as exc:
            raise CommandError(f"有密文使用的密钥未配置，无法解密：{exc}") from exc
        self.stdout.write(f"当前密钥：{report.key_id}")
        for kind, n in report.rotated.items():
            self.stdout.write(
                f"{LABELS.get(kind, kind)}：重新加密 {n} 条，原已为当前密钥 {report.current[kind]} 条"
            )
