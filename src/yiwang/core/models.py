"""The append-only, hash-chained audit log.

Each entry stores the hash of the one before it, so changing or deleting any entry breaks every
hash after it; ``yiwang verify-audit`` recomputes the chain and names the first broken entry.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    channel = models.CharField(_("渠道"), max_length=16)
    ip = models.CharField(_("IP 地址"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """One row holding the last seq and hash; locked while appending so the chain stays linear."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class DeferredJob(models.Model):
    """A background job whose publish failed because the broker (Redis) was down.

    ``core.jobs.PublishSafeTask`` writes it instead of losing the job; the periodic job
    ``core.republish_jobs`` publishes it again when the broker is back, and deletes the row.
    """

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list, blank=True)
    kwargs = models.JSONField(_("关键字参数"), default=dict, blank=True)
    eta = models.DateTimeField(_("最早执行时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    error = models.CharField(_("发布失败原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("待重发任务")
        verbose_name_plural = _("待重发任务")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


class RateCounter(models.Model):
    """One fixed-window rate-limit counter (core.ratelimit's database store): every web process
    counts in the same row, incremented by one atomic upsert."""

    bucket = models.CharField(_("计数键"), max_length=200, primary_key=True)
    window_no = models.BigIntegerField(_("时间窗编号"))  # epoch seconds // window length
    hits = models.PositiveIntegerField(_("次数"), default=0)
    expires_at = models.FloatField(_("过期时间"), db_index=True)  # epoch seconds: the window's end

    class Meta:
        verbose_name = _("限流计数")
        verbose_name_plural = _("限流计数")

    def __str__(self) -> str:
        return f"{self.bucket} #{self.window_no}: {self.hits}"
