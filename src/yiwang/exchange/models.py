"""E-certificates (电子证照): the library of certificates the platform has issued.

A certificate belongs to a holder — a natural person or a company — named by a keyed hash of
their ID number or unified social credit code (``holder_hash``), so a later application finds
the holder's certificates without storing or scanning a plain ID number. What is personal on
the certificate (a person's name and ID number) is in ``data_cipher`` (AES-GCM, context
``exchange.certificate_data``); ``holder_name_masked`` and ``number`` are what lists show.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    COMPANY = "company", _("法人")


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已注销")


class ECertificate(models.Model):
    cert_type = models.CharField(_("证照类型"), max_length=100, db_index=True)
    number = models.CharField(_("证照编号"), max_length=40, unique=True)
    holder_kind = models.CharField(_("持证主体类型"), max_length=8, choices=HolderKind.choices)
    holder_hash = models.CharField(max_length=64, help_text="keyed hash of the ID number / credit code")
    holder_name_masked = models.CharField(_("持证主体"), max_length=200)
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="+"
    )
    issuer_name = models.CharField(_("发证机关"), max_length=200)
    issued_on = models.DateField(_("发证日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    data_cipher = models.TextField(blank=True, help_text="certificate data (personal parts), encrypted")
    data_public = models.JSONField(_("证照信息"), default=dict, blank=True)
    file = models.FileField(_("证照文件"), upload_to="exchange/certificates/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_on = models.DateField(_("注销日期"), null=True, blank=True)
    # The approved deregistration (注销) case that revoked it; empty when staff revoked it by hand.
    revoked_by_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("注销办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revoked_certificates",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-pk"]
        indexes = [
            models.Index(fields=["holder_hash", "cert_type", "status"], name="ecert_holder_type"),
        ]

    def __str__(self) -> str:
        return f"{self.cert_type} {self.number}"

    @property
    def number_masked(self) -> str:
        """What pages show of the number (ZZ35*************0001), as the material checklist does."""
        from .services import mask_number

        return mask_number(self.number)


class AccessKind(models.TextChoices):
    USE = "use", _("用证")
    READ = "read", _("查看")
    REVOKE = "revoke", _("注销")


class CertificateAccess(models.Model):
    """One use or read of a certificate, for the holder's 用证记录 (access log).

    Written by ``services.record_use`` / ``services.read_certificate`` in the transaction of the
    audit entry it mirrors (``audit_seq``): the audit log is one chain for the whole platform,
    keyed by object, so "every use of every certificate of this holder, newest first, page 3"
    would be a scan of it; this table answers it from one index range (``holder_hash``, copied
    from the certificate). What it shows is already masked: no plain name is stored here.
    """

    certificate = models.ForeignKey(
        ECertificate, verbose_name=_("电子证照"), on_delete=models.PROTECT, related_name="accesses"
    )
    holder_hash = models.CharField(max_length=64, help_text="the certificate's holder_hash")
    kind = models.CharField(_("类型"), max_length=8, choices=AccessKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_staff = models.BooleanField(_("工作人员"), default=False)
    actor_masked = models.CharField(_("使用人"), max_length=100, blank=True)
    department = models.ForeignKey(
        "regions.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    office = models.CharField(_("使用单位"), max_length=200, blank=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    case_number = models.CharField(_("办件编号"), max_length=24, blank=True)
    audit_seq = models.BigIntegerField(_("审计序号"), null=True, blank=True)

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["holder_hash", "-id"], name="ecert_access_holder"),
            models.Index(fields=["certificate", "-id"], name="ecert_access_cert"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_id} {self.at:%Y-%m-%d %H:%M}"


class ExchangeOutcome(models.TextChoices):
    ANSWERED = "answered", _("已答复")
    REFUSED = "refused", _("已拒绝")
    FAILED = "failed", _("提供方无响应")


class ExchangeLogSeal(models.Model):
    """A batch of exchange log entries sealed into the seal chain (``exchange.log``).

    Requests append entries without any lock; a periodic job seals what has committed since the
    last seal: each entry gets this seal and its position in it, and the seal's hash covers the
    previous seal's hash and every entry hash of the batch, in position order. Only the sealer
    takes a lock (this chain's last row), so requests are never serialised by the log."""

    seq = models.BigIntegerField(_("序号"), unique=True)
    sealed_at = models.DateTimeField(_("封存时间"))
    entries = models.PositiveIntegerField(_("条数"))
    first_entry_id = models.BigIntegerField()
    last_entry_id = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("交换日志封存批次")
        verbose_name_plural = _("交换日志封存批次")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"seal #{self.seq} ({self.entries})"


class ExchangeLogEntry(models.Model):
    """One request to a registry and its answer: metadata only, never the data exchanged.

    ``entry_hash`` covers every column written at the request (``exchange.log.entry_fields``);
    ``seal``/``seal_pos`` are set once, by the sealer. ``(client_id, request_id)`` is unique: a
    request sent twice is logged once, and its second answer is the first one's."""

    request_id = models.CharField(_("请求编号"), max_length=64)
    client_id = models.CharField(_("调用方"), max_length=100, help_text="OAuth client id, or 'platform'")
    at = models.DateTimeField(_("时间"))
    consumer = models.ForeignKey(
        "regions.Department",
        verbose_name=_("使用部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    registry = models.CharField(_("基础库"), max_length=24)
    resource_code = models.CharField(_("资源代码"), max_length=40, blank=True)
    grant_id = models.BigIntegerField(_("授权"), null=True, blank=True)
    fields = models.JSONField(_("字段"), default=list)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    case_number = models.CharField(_("办件编号"), max_length=24, blank=True)
    subjects = models.PositiveIntegerField(_("查询对象数"), default=1)
    subjects_digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the subjects' keyed hashes, in request order"
    )
    outcome = models.CharField(_("结果"), max_length=12, choices=ExchangeOutcome.choices)
    reason = models.CharField(_("拒绝原因"), max_length=64, blank=True)
    records = models.PositiveIntegerField(_("返回记录数"), default=0)
    entry_hash = models.CharField(max_length=64)
    seal = models.ForeignKey(
        ExchangeLogSeal, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    seal_pos = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("交换日志")
        verbose_name_plural = _("交换日志")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["client_id", "request_id"], name="exchange_log_request"),
        ]
        indexes = [
            # The sealer's scan: what is not sealed yet (a partial index stays small).
            models.Index(fields=["id"], name="exchange_log_unsealed", condition=models.Q(seal__isnull=True)),
            models.Index(fields=["seal", "seal_pos"], name="exchange_log_seal_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.request_id} {self.outcome}"


class ExchangeDailyFigure(models.Model):
    """Per day, registry, consuming department and outcome: requests and records, folded from
    the log by the sealer (each entry is counted once, when it is sealed)."""

    day = models.DateField(_("日期"))
    registry = models.CharField(_("基础库"), max_length=24)
    consumer = models.ForeignKey(
        "regions.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    outcome = models.CharField(_("结果"), max_length=12, choices=ExchangeOutcome.choices)
    requests = models.PositiveBigIntegerField(_("请求数"), default=0)
    records = models.PositiveBigIntegerField(_("交换记录数"), default=0)

    class Meta:
        verbose_name = _("数据交换日统计")
        verbose_name_plural = _("数据交换日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "registry", "consumer", "outcome"],
                name="exchange_figure_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.registry} {self.outcome} {self.requests}"


class RegistryRecord(models.Model):
    """One version of one record of a base registry (人口库, 法人库, 信用/监管库; the field
    table is ``exchange.registries.REGISTRIES``).

    A record is named within its registry by ``record_key`` (a person's or company's subject
    hash, a credit record's decision number); an owner's change adds a version and closes the
    previous one (``valid_until``), so the current record is the one whose ``valid_until`` is
    null. Fields whose sensitivity is 公开 are in ``data_public``; every other field is in
    ``data_cipher`` (AES-GCM, context ``exchange.registry.<code>``): no column holds personal
    data in clear, nor anything it could be rebuilt from. ``change_seq`` orders the change feed:
    assigned under the registry's counter row lock (``RegistryCounter``), so a row with a lower
    number is always committed before one with a higher number is visible."""

    registry = models.CharField(_("基础库"), max_length=16)
    record_key = models.CharField(_("记录标识"), max_length=64)
    subject_hash = models.CharField(max_length=64, help_text="keyed hash of the ID number / credit code")
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("数源部门"), on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )  # fmt: skip
    version = models.PositiveIntegerField(_("版本"), default=1)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    data_cipher = models.TextField(blank=True, help_text="non-public fields, encrypted")
    data_public = models.JSONField(_("公开字段"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("更新时间"))
    change_seq = models.BigIntegerField(_("变更序号"))

    class Meta:
        verbose_name = _("基础库记录")
        verbose_name_plural = _("基础库记录")
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "record_key", "version"], name="registry_record_version"
            ),
            models.UniqueConstraint(fields=["registry", "change_seq"], name="registry_change_seq"),
        ]
        indexes = [
            # Current records of a subject: one index range, closed versions not in it.
            models.Index(
                fields=["registry", "subject_hash"],
                name="registry_current_subject",
                condition=models.Q(valid_until__isnull=True),
            ),
            models.Index(
                fields=["registry", "record_key"],
                name="registry_current_key",
                condition=models.Q(valid_until__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registry} {self.record_key[:12]} v{self.version}"


class RegistryCounter(models.Model):
    """Per registry: the last change number given out and the number of current records.

    Every write to a registry locks this row for its transaction and takes its numbers from it,
    so change numbers commit in order (a feed reader paging by "seq > cursor" never skips a row
    that commits late) and the registry list shows its count without counting 10 million rows."""

    registry = models.CharField(_("基础库"), max_length=16, primary_key=True)
    last_seq = models.BigIntegerField(_("最新变更序号"), default=0)
    records = models.BigIntegerField(_("现行记录数"), default=0)
    updated_at = models.DateTimeField(_("最近更新"), null=True, blank=True)

    class Meta:
        verbose_name = _("基础库计数")
        verbose_name_plural = _("基础库计数")

    def __str__(self) -> str:
        return f"{self.registry} {self.records}"
