"""Applications and cases: the form of each item, drafts, submitted cases with their materials,
timeline, clock pauses, correction requests, notices, delivery and the notification outbox.

The cases app owns a case's state and its clock (docs/cases.md); the workflow app decides which
step comes next and who may do it. Personal data written here (delivery addresses, notification
recipients) is stored encrypted with ``core.crypto``; pages show the masked form.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import ValuesInsertJSONField
from yiwang.core.labels import ChoiceLabel


class ItemForm(models.Model):
    """The application form of an implementation: a JSON Schema and a layout hint."""

    item = models.OneToOneField(
        "catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.CASCADE, related_name="form"
    )
    schema = models.JSONField(_("表单结构（JSON Schema）"))
    layout = models.JSONField(
        _("布局提示"),
        default=dict,
        blank=True,
        help_text=_('如 {"order": ["name", "phone"], "prefill": {"name": "person.name"}}'),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("申请表单")
        verbose_name_plural = _("申请表单")

    def __str__(self) -> str:
        return f"{self.item}"


class CaseChannel(models.TextChoices):
    WEB = "web", _("网上申请")
    COUNTER = "counter", _("窗口代录")


class DeliveryMethod(models.TextChoices):
    COUNTER = "counter", _("窗口领取")
    COURIER = "courier", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")


class Application(models.Model):
    """A draft application (申请) before it becomes a case; one case at most per application."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    acting_for = models.ForeignKey(
        "identity.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    item_version = models.ForeignKey(
        "catalog.ServiceItemVersion", on_delete=models.PROTECT, related_name="applications"
    )
    form_schema = ValuesInsertJSONField(_("表单结构快照"))
    form_layout = ValuesInsertJSONField(_("布局提示快照"), default=dict)
    data = ValuesInsertJSONField(_("表单数据"), default=dict)  # personal values masked (cases.personal)
    personal_cipher = models.TextField(blank=True, help_text="personal form values, encrypted")
    idempotency_key = models.CharField(max_length=64, unique=True)
    channel = models.CharField(
        _("申请渠道"), max_length=8, choices=CaseChannel.choices, default=CaseChannel.WEB
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, default=DeliveryMethod.ELECTRONIC
    )
    delivery_address_cipher = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("申请草稿")
        verbose_name_plural = _("申请草稿")
        indexes = [models.Index(fields=["applicant", "submitted_at"], name="application_applicant")]

    def __str__(self) -> str:
        return f"application {self.pk}"


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    CORRECTION_REQUESTED = "correction_requested", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    UNDER_REVIEW = "under_review", _("审查中")
    SUSPENDED = "suspended", _("已中止")
    APPROVED = "approved", _("准予许可")
    DENIED = "denied", _("不予许可")
    REFUSED = "refused", _("不予受理")
    DELIVERED = "delivered", _("已送达")
    CLOSED = "closed", _("已办结")


class Outcome(models.TextChoices):
    NONE = "", _("—")
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予")
    REFUSED = "refused", _("不予受理")


class BundleRole(models.TextChoices):
    NONE = "", _("—")
    UMBRELLA = "umbrella", _("一件事总件")
    BRANCH = "branch", _("一件事分件")


class Case(models.Model):
    """办件: one submitted application as it is processed."""

    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    check_code = models.CharField(_("查询码"), max_length=8)
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="case")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="cases")
    # A case row changes state at every step, and a state change is not a HOT update: each index
    # is written again. So no single-column index where a composite one leads with the column
    # (department: case_dept_state_due; applicant: case_applicant), and none for the version and
    # the entering clerk, which are only ever read from the case.
    item_version = models.ForeignKey(
        "catalog.ServiceItemVersion", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    item_name = models.CharField(_("事项名称"), max_length=200)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="cases")
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    company = models.ForeignKey(
        "identity.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    applicant_name = models.CharField(_("申请人"), max_length=200)
    state = models.CharField(
        _("状态"), max_length=24, choices=CaseState.choices, default=CaseState.SUBMITTED, db_index=True
    )
    channel = models.CharField(
        _("申请渠道"), max_length=8, choices=CaseChannel.choices, default=CaseChannel.WEB
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    limit_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), null=True, blank=True)
    due_date = models.DateField(_("办理期限"), null=True, blank=True, db_index=True)
    due_estimated = models.BooleanField(_("期限为推算"), default=False)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, default="", blank=True)
    reasons = models.TextField(_("理由"), blank=True)
    appeal_rights = models.TextField(_("救济途径"), blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, default=DeliveryMethod.ELECTRONIC
    )
    # Labels for pages that list many cases (core.labels).
    state_label = ChoiceLabel("state", CaseState)
    channel_label = ChoiceLabel("channel", CaseChannel)
    outcome_label = ChoiceLabel("outcome", Outcome)
    delivery_method_label = ChoiceLabel("delivery_method", DeliveryMethod)
    # Part of a life-event bundle (docs/bundles.md)? Read by the bundles app's receivers on every
    # step, so that an ordinary case (nearly all of them) costs them no query.
    bundle_role = models.CharField(
        _("一件事"), max_length=8, choices=BundleRole.choices, default="", blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant"),
            models.Index(fields=["department", "state", "due_date"], name="case_dept_state_due"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseNumberSequence(models.Model):
    """The last case number given per region code and day (see ``numbering``)."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "day"], name="case_number_seq_unique")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day:%Y%m%d} {self.last}"


class MaterialOrigin(models.TextChoices):
    UPLOAD = "upload", _("上传")
    ACCOUNT = "account", _("账户信息")
    REGISTRY = "registry", _("基础库共享")
    E_CERTIFICATE = "e_certificate", _("电子证照")


class MaterialStatus(models.TextChoices):
    PENDING = "pending", _("待审")
    OK = "ok", _("合格")
    FAULTY = "faulty", _("有误")


class CaseMaterial(models.Model):
    """One provided material: a stored file or a record taken from the account or a registry."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="materials")
    requirement = models.CharField(_("材料名称"), max_length=200)
    origin = models.CharField(_("来源"), max_length=16, choices=MaterialOrigin.choices)
    file = models.FileField(_("文件"), upload_to="cases/materials/%Y/%m/", blank=True)
    content_type = models.CharField(_("文件类型"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("大小"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    record = models.JSONField(_("共享数据"), default=dict, blank=True)
    status = models.CharField(
        _("审核状态"), max_length=8, choices=MaterialStatus.choices, default=MaterialStatus.PENDING
    )
    note = models.CharField(_("审核意见"), max_length=300, blank=True)
    origin_label = ChoiceLabel("origin", MaterialOrigin)
    status_label = ChoiceLabel("status", MaterialStatus)
    replaced = models.BooleanField(default=False, help_text="superseded by a corrected upload")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.requirement


class CaseEvent(models.Model):
    """One line of a case's timeline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    label = models.CharField(_("事件"), max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(_("说明"), blank=True)
    visible_to_applicant = models.BooleanField(default=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class PauseKind(models.TextChoices):
    CORRECTION = "correction", _("补正")
    SUSPENSION = "suspension", _("中止")
    INSPECTION = "inspection", _("现场核查/专家评审")


class ClockPause(models.Model):
    """A period whose working days do not count against the time limit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField(max_length=12, choices=PauseKind.choices)
    reason = models.TextField(_("原因"), blank=True)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["start", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.start}–{self.end or ''}"


class CorrectionRequest(models.Model):
    """一次性告知: every missing or faulty item at once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    items = models.JSONField(_("补正内容"))  # [{"material": name} or {"field": key}, "reason": text]
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"correction {self.pk} of case {self.case_id}"


class NoticeKind(models.TextChoices):
    RECEIPT = "receipt", _("收件回执")
    ACCEPTANCE = "acceptance", _("受理通知书")
    REFUSAL = "refusal", _("不予受理通知书")
    CORRECTION = "correction", _("补正材料通知书")
    DECISION = "decision", _("决定书")


class Notice(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    kind_label = ChoiceLabel("kind", NoticeKind)
    number = models.CharField(_("文书编号"), max_length=40, unique=True)
    file = models.FileField(upload_to="cases/notices/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["issued_at", "pk"]

    def __str__(self) -> str:
        return self.number


class CourierStatus(models.TextChoices):
    NONE = "", _("—")
    CREATED = "created", _("已下单")
    IN_TRANSIT = "in_transit", _("运输中")
    DELIVERED = "delivered", _("已签收")
    FAILED = "failed", _("投递失败")


class Delivery(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="delivery")
    method = models.CharField(_("送达方式"), max_length=12, choices=DeliveryMethod.choices)
    address_cipher = models.TextField(blank=True)
    address_masked = models.CharField(_("地址"), max_length=200, blank=True)
    carrier = models.CharField(_("快递公司"), max_length=50, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=50, blank=True)
    courier_status = models.CharField(max_length=12, choices=CourierStatus.choices, default="", blank=True)
    method_label = ChoiceLabel("method", DeliveryMethod)
    courier_status_label = ChoiceLabel("courier_status", CourierStatus)
    delivered_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("送达")
        verbose_name_plural = _("送达")

    def __str__(self) -> str:
        return f"{self.method} {self.tracking_number}"


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("邮件")
    CONSOLE = "console", _("控制台")


class OutboxMessage(models.Model):
    """A notification written in the transaction of the change it reports, sent afterwards."""

    channel = models.CharField(_("渠道"), max_length=8, choices=OutboxChannel.choices)
    recipient_cipher = models.TextField()
    recipient_masked = models.CharField(_("收件人"), max_length=100)
    template = models.CharField(_("通知模板"), max_length=50)
    payload = models.JSONField(default=dict)
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.CharField(_("错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("待发通知")
        verbose_name_plural = _("待发通知")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} → {self.recipient_masked}"
