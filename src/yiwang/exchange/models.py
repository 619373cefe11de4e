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
    first_entry_id = models.BigIntegerField(_("首条日志编号"))
    last_entry_id = models.BigIntegerField(_("末条日志编号"))
    prev_hash = models.CharField(_("上一批哈希值"), max_length=64)
    hash = models.CharField(_("哈希值"), max_length=64)

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
    entry_hash = models.CharField(_("哈希值"), max_length=64)
    seal = models.ForeignKey(
        ExchangeLogSeal,
        verbose_name=_("封存批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    seal_pos = models.PositiveIntegerField(_("批内位置"), null=True, blank=True)

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


# --- the sharing catalogue (政务信息资源目录) and its grants --------------------------------------


class Registry(models.TextChoices):
    """The base registry a catalogue resource exposes (issue 18: the four base registries)."""

    POPULATION = "population", _("人口库")
    LEGAL_ENTITY = "legal_entity", _("法人库")
    E_CERTIFICATE = "e_certificate", _("电子证照库")
    CREDIT = "credit", _("信用库")
    OTHER = "other", _("其他")


class UpdateCycle(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    YEARLY = "yearly", _("每年")


class SharingType(models.TextChoices):
    """GB/T 21063 / 《政务信息资源共享管理暂行办法》 sharing types."""

    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NOT_SHARED = "not_shared", _("不予共享")


class ResourceStatus(models.TextChoices):
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class DataType(models.TextChoices):
    STRING = "string", _("字符")
    INTEGER = "integer", _("整数")
    DECIMAL = "decimal", _("数值")
    DATE = "date", _("日期")
    DATETIME = "datetime", _("日期时间")
    BOOLEAN = "boolean", _("布尔")
    FILE = "file", _("文件")


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")
    SENSITIVE = "sensitive", _("敏感")
    PERSONAL_SENSITIVE = "personal_sensitive", _("个人敏感")


class DataResource(models.Model):
    """One entry of the sharing catalogue: a department's data resource, its fields and the
    terms on which other departments may read it. Written only by ``exchange.catalogue``."""

    code = models.CharField(
        _("资源代码"), max_length=32, unique=True, help_text=_("区划代码+部门代码-顺序号，如 350000001-00001")
    )
    name = models.CharField(_("资源名称"), max_length=200)
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("提供部门"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("资源摘要"), blank=True)
    registry = models.CharField(_("所属基础库"), max_length=16, choices=Registry.choices)
    update_cycle = models.CharField(_("更新周期"), max_length=12, choices=UpdateCycle.choices)
    legal_basis = models.TextField(_("法律依据"), blank=True)
    sharing_type = models.CharField(_("共享类型"), max_length=16, choices=SharingType.choices)
    # The condition of 有条件共享 or the reason of 不予共享 (required for both).
    sharing_reason = models.TextField(_("共享条件或不予共享理由"), blank=True)
    open_data = models.BooleanField(_("向社会开放"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=ResourceStatus.choices, default=ResourceStatus.PUBLISHED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("共享资源")
        verbose_name_plural = _("共享资源")
        ordering = ["code"]
        indexes = [models.Index(fields=["department", "status"], name="xres_dept_status")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ResourceField(models.Model):
    resource = models.ForeignKey(
        DataResource, verbose_name=_("共享资源"), on_delete=models.CASCADE, related_name="fields"
    )
    code = models.CharField(_("字段代码"), max_length=64)
    name = models.CharField(_("字段名称"), max_length=100)
    data_type = models.CharField(_("数据类型"), max_length=12, choices=DataType.choices)
    sensitivity = models.CharField(_("敏感级别"), max_length=20, choices=Sensitivity.choices)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("资源字段")
        verbose_name_plural = _("资源字段")
        ordering = ["resource", "sort", "pk"]
        constraints = [models.UniqueConstraint(fields=["resource", "code"], name="xres_field_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    GRANTED = "granted", _("已授权")
    REFUSED = "refused", _("未同意")


class ShareRequest(models.Model):
    """A department's request (共享申请) for fields of a resource, for a purpose and a period."""

    resource = models.ForeignKey(
        DataResource, verbose_name=_("共享资源"), on_delete=models.PROTECT, related_name="requests"
    )
    consumer = models.ForeignKey(
        "regions.Department", verbose_name=_("申请部门"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    fields = models.JSONField(_("申请字段"), default=list)  # field codes, catalogue order
    purpose = models.CharField(_("使用用途"), max_length=200)
    legal_basis = models.TextField(_("申请依据"))
    items = models.JSONField(_("支撑事项"), default=list, blank=True)  # implementation item codes
    starts_on = models.DateField(_("使用期限起"))
    ends_on = models.DateField(_("使用期限至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    refusal_reason = models.TextField(_("不同意理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["consumer", "-id"], name="xreq_consumer"),
            models.Index(fields=["resource", "status"], name="xreq_resource_status"),
        ]

    def __str__(self) -> str:
        return f"{self.resource.code} → {self.consumer_id} ({self.status})"


class GrantStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已撤销")


class Grant(models.Model):
    """What a consumer department may read of a resource: the granted fields, for the request's
    purpose, from ``starts_on`` to ``ends_on`` inclusive, unless revoked. Read only through
    ``exchange.grant_selectors.live_grant`` / ``granted_fields``."""

    request = models.OneToOneField(
        ShareRequest, verbose_name=_("共享申请"), on_delete=models.PROTECT, related_name="grant"
    )
    resource = models.ForeignKey(
        DataResource, verbose_name=_("共享资源"), on_delete=models.PROTECT, related_name="grants"
    )
    consumer = models.ForeignKey(
        "regions.Department", verbose_name=_("使用部门"), on_delete=models.PROTECT, related_name="+"
    )
    fields = models.JSONField(_("授权字段"), default=list)
    purpose = models.CharField(_("使用用途"), max_length=200)
    starts_on = models.DateField(_("有效期起"))
    ends_on = models.DateField(_("有效期至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.ACTIVE
    )
    granted_by = models.ForeignKey(  # empty: granted at once (无条件共享)
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["consumer", "resource", "status"], name="xgrant_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} → {self.consumer_id} {self.starts_on}–{self.ends_on}"


# --- base registries (基础库): docs/exchange.md "Base registries" ---------------------------------


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


# --- the exchange API: department systems and their kept answers --------------------------------


class ExchangeClient(models.Model):
    """A department's system calling the exchange API: an OAuth 2.0 confidential client
    (client credentials grant) acting for one consuming department. The department's grants
    decide what it may read (``grant_selectors.live_grant`` on every call), not the token."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="exchange_client"
    )
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("使用部门"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("系统名称"), max_length=100)
    rate_limit = models.CharField(
        _("调用频率上限"), max_length=20, blank=True, help_text=_("如 600/m；留空使用平台默认值")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("部门系统接入")
        verbose_name_plural = _("部门系统接入")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ExchangeAnswer(models.Model):
    """The answer given to one logged request, kept for a day so that the same request id sent
    again gets the same answer without a second read or a second log entry. Written in the
    transaction of its log entry (a cache could hold an answer whose entry rolled back, or lose
    one whose entry stands). The body holds registry data: AES-GCM (``exchange.answer``)."""

    entry = models.OneToOneField(ExchangeLogEntry, on_delete=models.CASCADE, related_name="+")
    status = models.PositiveSmallIntegerField()
    body_cipher = models.TextField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("交换应答")
        verbose_name_plural = _("交换应答")

    def __str__(self) -> str:
        return f"{self.entry_id} {self.status}"
