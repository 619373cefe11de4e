"""Bundles (一件事一次办, 多评合一, 单一窗口): several departments' implementations done as one.

A bundle is DEFINED here (members, the combined form and materials, the questionnaire) and
PUBLISHED as an ordinary catalogue item of the lead department (``Bundle.item``), so the guide,
search, case numbers, receipts, my-cases, lookup, notices and delivery all reuse what exists.
An application to the bundle is an ordinary case of that item (the *umbrella* case); unified
acceptance spawns one real case per applicable member (the *branch* cases, ``BundleBranch``),
each at its own department, so per-department figures stay true. See docs/bundles.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BundleKind(models.TextChoices):
    LIFE_EVENT = "life_event", _("一件事一次办")
    COMBINED_ASSESSMENT = "combined_assessment", _("多评合一")
    SINGLE_WINDOW = "single_window", _("单一窗口")


class OutcomeRule(models.TextChoices):
    # Every member must approve; a bundle under this rule has no advisory members.
    ALL_MUST_APPROVE = "all_must_approve", _("全部准予方可准予")
    # Members flagged advisory give an opinion that is shown but cannot deny the whole.
    ADVISORY_ALLOWED = "advisory_allowed", _("参考性事项不否决整体")


class Bundle(models.Model):
    """The definition of a bundle and its link to the catalogue item that represents it."""

    code = models.SlugField(_("一件事代码"), max_length=32, unique=True)
    name = models.CharField(_("一件事名称"), max_length=200)
    kind = models.CharField(
        _("类型"), max_length=24, choices=BundleKind.choices, default=BundleKind.LIFE_EVENT
    )
    description = models.TextField(_("说明"), blank=True)
    audience = models.CharField(
        _("服务对象"),
        max_length=8,
        choices=[("person", _("自然人")), ("company", _("法人")), ("both", _("自然人、法人"))],
        default="both",
    )
    lead_department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_bundles",
    )
    # The catalogue item that represents the bundle (created and kept by bundles.services).
    item = models.OneToOneField(
        "catalog.ServiceItem",
        verbose_name=_("对应事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bundle",
    )
    life_event = models.ForeignKey(
        "catalog.LifeEvent",
        verbose_name=_("主题“一件事”"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bundles",
    )
    overall_limit_days = models.PositiveSmallIntegerField(_("总承诺时限（工作日）"), null=True, blank=True)
    outcome_rule = models.CharField(
        _("结果规则"), max_length=24, choices=OutcomeRule.choices, default=OutcomeRule.ALL_MUST_APPROVE
    )
    # 多评合一: each department reviews and gives its assessment opinion in one step (its head
    # decides on the branch directly), instead of a review step then a decision step.
    one_step_branches = models.BooleanField(
        _("各部门一步出具意见"),
        default=False,
        help_text=_("勾选后，各部门的分支办件不设单独的审查环节，由部门负责人审查并直接作出决定（出具意见）"),
    )
    published = models.BooleanField(_("已发布"), default=False)
    version = models.PositiveIntegerField(_("发布版本"), default=0)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BundleMember(models.Model):
    """One implementation (of any department) in the bundle: one branch when it applies."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="bundle_memberships",
    )
    advisory = models.BooleanField(
        _("参考性事项"), default=False, help_text=_("参考性事项的不予意见予以展示，但不否决整体结果")
    )
    limit_days = models.PositiveSmallIntegerField(
        _("分支时限（工作日）"), null=True, blank=True, help_text=_("留空则为该事项的承诺办结时限")
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    condition = models.CharField(
        _("适用条件"),
        max_length=500,
        blank=True,
        help_text=_('根据导办问卷答案判断是否适用，如 signage == "yes"；留空则总是适用'),
    )

    class Meta:
        verbose_name = _("一件事事项")
        verbose_name_plural = _("一件事事项")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="bundle_member_unique")]

    def __str__(self) -> str:
        return f"{self.bundle.code} / {self.item_id}"


class BundleField(models.Model):
    """One field of the combined form, asked once, mapped to each member item that needs it."""

    bundle = models.ForeignKey(
        Bundle, verbose_name=_("一件事"), on_delete=models.CASCADE, related_name="fields"
    )
    key = models.SlugField(_("字段名"), max_length=64)
    schema = models.JSONField(_("字段结构（JSON Schema）"))
    # {str(member item id): that item's field key}
    mapping = models.JSONField(_("对应事项字段"), default=dict)
    # member item ids whose form requires the field: required when one of them applies
    required_for = models.JSONField(_("必填于"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("合并表单字段")
        verbose_name_plural = _("合并表单字段")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "key"], name="bundle_field_unique")]

    def __str__(self) -> str:
        return self.key


class BundleMaterial(models.Model):
    """One material of the bundle: uploaded once, shared with exactly the members that need it."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=200)
    # The catalogue material element (form, copies, source, certificate_type, notes)
    element = models.JSONField(_("材料要素"), default=dict)
    # {str(member item id): that item's material name}
    mapping = models.JSONField(_("对应事项材料"), default=dict)
    required_for = models.JSONField(_("必要于"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("共享材料")
        verbose_name_plural = _("共享材料")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "name"], name="bundle_material_unique")]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """One question of the 智能导办 questionnaire; member conditions read the answers by key."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(_("问题标识"), max_length=64)
    text = models.CharField(_("问题"), max_length=300)
    help = models.CharField(_("说明"), max_length=500, blank=True)
    # [{"value": "yes", "label": "是"}, ...]
    choices = models.JSONField(_("选项"), default=list)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("导办问题")
        verbose_name_plural = _("导办问题")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["bundle", "key"], name="bundle_question_unique")]

    def __str__(self) -> str:
        return self.text


class BundleApplication(models.Model):
    """Links an umbrella draft (cases.Application of the bundle item) to the bundle, with the
    questionnaire answers and the members they made applicable."""

    application = models.OneToOneField(
        "cases.Application", on_delete=models.CASCADE, related_name="bundle_link"
    )
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="applications")
    bundle_version = models.PositiveIntegerField(default=0)
    answers = models.JSONField(_("问卷答案"), default=dict, blank=True)
    member_ids = models.JSONField(_("适用事项"), default=list)
    # Branches not yet decided, set at unified acceptance: each branch decision decrements it in
    # one statement under the row's lock, and the one that reaches 0 opens the unified decision.
    # NULL for umbrellas accepted before the counter existed (they count their branch rows).
    open_branches = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("一件事申请")
        verbose_name_plural = _("一件事申请")

    def __str__(self) -> str:
        return f"{self.bundle.code} application {self.application_id}"


class BranchState(models.TextChoices):
    OPEN = "open", _("办理中")
    CORRECTION = "correction", _("待补正")
    DECIDED = "decided", _("已决定")
    DELIVERED = "delivered", _("已送达")
    CLOSED = "closed", _("已办结")


class BranchOutcome(models.TextChoices):
    NONE = "", _("—")
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予")


class BundleBranch(models.Model):
    """An umbrella case's branch: a real case of the member's department."""

    umbrella = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="bundle_branches")
    branch = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="bundle_branch")
    member = models.ForeignKey(BundleMember, on_delete=models.PROTECT, related_name="branches")
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="+")
    advisory = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=BranchState.choices, default=BranchState.OPEN)
    outcome = models.CharField(max_length=12, choices=BranchOutcome.choices, default="", blank=True)
    limit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The umbrella process's wait task for this branch (``branch_<member id>``)
    wait_step = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("并联分支")
        verbose_name_plural = _("并联分支")
        ordering = ["umbrella_id", "member__order", "pk"]
        constraints = [models.UniqueConstraint(fields=["umbrella", "member"], name="bundle_branch_unique")]
        indexes = [models.Index(fields=["state", "due_date"], name="bundle_branch_state_due")]

    def __str__(self) -> str:
        return f"{self.umbrella_id} → {self.branch_id}"
