"""The service catalogue: standard items (基本目录), implementations (实施清单), their materials,
process steps, published versions, themes, life events and search synonyms.

An implementation (``ServiceItem``) is the working copy a department edits. Elements it leaves
blank are inherited from its standard item; ``services.effective_elements`` merges the two.
Publication freezes the merged elements into an immutable ``ServiceItemVersion``; the portal,
the API and search read only published versions, so editing a draft never changes a live guide.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.regions.models import Department, DepartmentKind, Region


class ItemType(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    BENEFIT = "benefit", _("行政给付")
    LEVY = "levy", _("行政征收")
    AWARD = "award", _("行政奖励")
    ADJUDICATION = "adjudication", _("行政裁决")
    INSPECTION = "inspection", _("行政检查")
    PENALTY = "penalty", _("行政处罚")
    ENFORCEMENT = "enforcement", _("行政强制")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


# Two-digit type segment of the basic code (docs/catalogue.md, "Item codes").
ITEM_TYPE_CODES: dict[str, str] = {t.value: f"{i:02d}" for i, t in enumerate(ItemType, start=1)}


class Audience(models.TextChoices):
    PERSON = "person", _("自然人")
    COMPANY = "company", _("法人")
    BOTH = "both", _("自然人、法人")


class ResultKind(models.TextChoices):
    """What approving an item produces (docs/catalogue.md, "Results"). Blank on an implementation
    means "as the standard item"; blank everywhere reads as a decision letter."""

    CERTIFICATE = "certificate", _("证照")
    DECISION = "decision", _("决定文书")
    REVOCATION = "revocation", _("注销证照")
    NONE = "none", _("无")


# The kinds that name a certificate type: the one issued, or the one revoked.
RESULT_KINDS_WITH_CERTIFICATE = frozenset({ResultKind.CERTIFICATE, ResultKind.REVOCATION})


class OnlineDepth(models.IntegerChoices):
    NONE = 0, _("不可网办")
    INFORMATION = 1, _("网上咨询（一级）")
    PRE_REVIEW = 2, _("网上预审（二级）")
    ONLINE_ACCEPTANCE = 3, _("网上受理（三级）")
    FULLY_ONLINE = 4, _("全程网办（四级）")


class Channel(models.TextChoices):
    WEB = "web", _("网上办事大厅")
    MOBILE = "mobile", _("移动端")
    COUNTER = "counter", _("窗口办理")
    SELF_SERVICE = "self_service", _("自助终端")
    MAIL = "mail", _("邮寄申请")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ORIGINAL_AND_COPY = "original_and_copy", _("原件和复印件")
    ELECTRONIC = "electronic", _("电子件")


class MaterialRequirementKind(models.TextChoices):
    REQUIRED = "required", _("必要")
    CONDITIONAL = "conditional", _("容缺/情形必要")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    E_CERTIFICATE = "e_certificate", _("电子证照")
    BASE_REGISTRY = "base_registry", _("基础库共享")
    GOVERNMENT = "government", _("政府部门核发")


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("草稿（未发布）")
    PUBLISHED = "published", _("已发布")
    CHANGED = "changed", _("已发布，有未发布的修改")
    WITHDRAWN = "withdrawn", _("已停用")


class Theme(models.Model):
    """A person theme (生育收养, 社会保障...) or a company theme (设立变更, 准营准办...)."""

    code = models.CharField(_("主题代码"), max_length=16, unique=True)
    name = models.CharField(_("主题名称"), max_length=50)
    audience = models.CharField(
        _("服务对象"), max_length=8, choices=[a for a in Audience.choices if a[0] != "both"]
    )
    icon = models.CharField(_("图标"), max_length=32, blank=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        ordering = ["audience", "sort", "code"]

    def __str__(self) -> str:
        return self.name


class LifeEvent(models.Model):
    """A life-event bundle (一件事一次办): several standard items done together."""

    code = models.CharField(_("一件事代码"), max_length=16, unique=True)
    name = models.CharField(_("一件事名称"), max_length=100)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices)
    description = models.TextField(_("说明"), blank=True)
    standard_items = models.ManyToManyField(
        "StandardItem", verbose_name=_("包含事项"), related_name="life_events"
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class StandardItem(models.Model):
    """基本目录: the provincial definition of an item, shared by every region that implements it."""

    basic_code = models.CharField(
        _("基本编码"), max_length=11, unique=True, help_text=_("类型2位 + 部门类别3位 + 序号4位 + 子项2位")
    )
    name = models.CharField(_("事项名称"), max_length=200)
    aliases = models.CharField(_("别名"), max_length=300, blank=True, help_text=_("以顿号或逗号分隔"))
    item_type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices)
    department_kind = models.CharField(_("部门类别"), max_length=16, choices=DepartmentKind.choices)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices)
    legal_basis = models.TextField(_("设定依据"))
    acceptance_conditions = models.TextField(_("受理条件"), blank=True)
    statutory_limit_days = models.PositiveSmallIntegerField(
        _("法定办结时限（工作日）"), null=True, blank=True
    )
    is_instant = models.BooleanField(_("即办件"), default=False)
    fee_required = models.BooleanField(_("是否收费"), default=False)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    result_kind = models.CharField(
        _("审批结果类型"),
        max_length=12,
        choices=ResultKind.choices,
        blank=True,
        help_text=_("准予后产生什么：证照、决定文书、注销已有证照，或无"),
    )
    result_certificate_type = models.CharField(
        _("结果证照类型"),
        max_length=100,
        blank=True,
        help_text=_("签发或注销的电子证照类型，如“食品经营许可证”"),
    )
    levels = models.CharField(
        _("实施层级"), max_length=16, default="1234", help_text=_("可实施的区划层级，如 234 表示市、县、乡镇")
    )
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="standard_items")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("基本目录事项")
        verbose_name_plural = _("基本目录事项")
        ordering = ["basic_code"]

    def __str__(self) -> str:
        return f"{self.basic_code} {self.name}"


class MaterialFields(models.Model):
    """The elements of a required material, shared by the standard and the implementation."""

    name = models.CharField(_("材料名称"), max_length=200)
    form = models.CharField(
        _("材料形式"), max_length=20, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    requirement = models.CharField(
        _("必要性"),
        max_length=12,
        choices=MaterialRequirementKind.choices,
        default=MaterialRequirementKind.REQUIRED,
    )
    condition = models.CharField(_("适用情形"), max_length=300, blank=True)
    source = models.CharField(
        _("来源渠道"), max_length=16, choices=MaterialSource.choices, default=MaterialSource.APPLICANT
    )
    certificate_type = models.CharField(
        _("电子证照/共享数据类型"), max_length=100, blank=True, help_text=_("来源为电子证照或基础库时填写")
    )
    notes = models.CharField(_("填报说明"), max_length=500, blank=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name

    def as_element(self) -> dict:
        return {
            "name": self.name,
            "form": self.form,
            "copies": self.copies,
            "requirement": self.requirement,
            "condition": self.condition,
            "source": self.source,
            "certificate_type": self.certificate_type,
            "notes": self.notes,
        }


class StandardMaterial(MaterialFields):
    standard = models.ForeignKey(StandardItem, on_delete=models.CASCADE, related_name="materials")

    class Meta(MaterialFields.Meta):
        verbose_name = _("基本目录材料")
        verbose_name_plural = _("基本目录材料")


class ServiceItem(models.Model):
    """实施清单: one department's implementation of a standard item in one region (working copy).

    Blank inherited elements (name, type, audience, legal basis, acceptance conditions, statutory
    limit) take the standard item's value; everything else is the implementing department's own.
    """

    standard = models.ForeignKey(
        StandardItem, verbose_name=_("基本目录事项"), on_delete=models.PROTECT, related_name="implementations"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("实施区划"), on_delete=models.PROTECT, related_name="items"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("实施主体"), on_delete=models.PROTECT, related_name="items"
    )
    code = models.CharField(_("实施编码"), max_length=32, unique=True, editable=False)

    # Inherited when blank.
    name = models.CharField(_("事项名称"), max_length=200, blank=True, help_text=_("留空则沿用基本目录"))
    aliases = models.CharField(_("别名"), max_length=300, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices, blank=True)
    audience = models.CharField(_("服务对象"), max_length=8, choices=Audience.choices, blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    acceptance_conditions = models.TextField(_("受理条件"), blank=True)
    statutory_limit_days = models.PositiveSmallIntegerField(
        _("法定办结时限（工作日）"), null=True, blank=True
    )

    # The department's own.
    is_instant = models.BooleanField(_("即办件"), default=False)
    promised_limit_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"), null=True, blank=True)
    fee_required = models.BooleanField(_("是否收费"), default=False)
    fee_standard = models.TextField(_("收费标准"), blank=True)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    online_payment = models.BooleanField(_("支持网上支付"), default=False)
    where_to_apply = models.TextField(_("办理地点"), blank=True)
    office_hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    halls = models.ManyToManyField(
        "regions.ServiceHall", verbose_name=_("办理大厅"), blank=True, related_name="items"
    )
    onsite_visits = models.PositiveSmallIntegerField(_("到办事现场次数"), default=0)
    onsite_reason = models.CharField(_("必须现场办理原因"), max_length=300, blank=True)
    online_depth = models.PositiveSmallIntegerField(
        _("网办深度"), choices=OnlineDepth.choices, default=OnlineDepth.NONE
    )
    channels = models.JSONField(_("办理渠道"), default=list, blank=True)
    delivery_methods = models.CharField(_("结果送达方式"), max_length=200, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=60, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=60, blank=True)
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    result_kind = models.CharField(
        _("审批结果类型"),
        max_length=12,
        choices=ResultKind.choices,
        blank=True,
        help_text=_("留空则沿用基本目录"),
    )
    result_certificate_type = models.CharField(
        _("结果证照类型"),
        max_length=100,
        blank=True,
        help_text=_("签发或注销的电子证照类型；留空则沿用基本目录"),
    )
    extra_conditions = models.TextField(_("本地补充受理条件"), blank=True)
    min_assurance_level = models.PositiveSmallIntegerField(
        _("最低认证等级"),
        default=1,
        choices=[(1, _("已注册")), (2, _("已实名核验")), (3, _("实名并通过第二因素认证"))],
        help_text=_("申请此事项所需的最低账户认证等级，低于此等级的用户须先提升认证"),
    )
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="items")

    status = models.CharField(
        _("状态"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT, db_index=True
    )
    current_version = models.OneToOneField(
        "ServiceItemVersion",
        verbose_name=_("当前发布版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("实施清单事项")
        verbose_name_plural = _("实施清单事项")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "region", "department"], name="one_implementation_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name or self.standard.name}"


class ItemMaterial(MaterialFields):
    """A material of an implementation; ``standard_material`` links the row it was inherited from."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    standard_material = models.ForeignKey(
        StandardMaterial, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(MaterialFields.Meta):
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")


class ProcessStep(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="steps")
    sort = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("环节名称"), max_length=50)
    is_approval = models.BooleanField(
        _("审批环节"), default=True, help_text=_("受理、审查、决定等审批环节计入审批环节数，送达等不计入")
    )
    handler = models.CharField(_("办理人员"), max_length=100, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("环节时限（工作日）"), null=True, blank=True)
    criteria = models.TextField(_("审查标准"), blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceItemVersion(models.Model):
    """An immutable published version: the full guide as published, and what changed.

    The columns beside ``elements`` repeat the few elements that pages filter on, so browsing
    70,000 items needs no JSON queries.
    """

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    elements = models.JSONField(_("办事指南要素"))
    changes = models.JSONField(_("变更内容"), default=list)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.CharField(_("发布人"), max_length=150)
    is_current = models.BooleanField(_("现行版本"), default=True, db_index=True)

    code = models.CharField(_("实施编码"), max_length=32, db_index=True)
    name = models.CharField(_("事项名称"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_level = models.PositiveSmallIntegerField(_("区划层级"), db_index=True)
    region_path = models.CharField(max_length=64, db_index=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    department_kind = models.CharField(max_length=16, db_index=True)
    item_type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices, db_index=True)
    for_person = models.BooleanField(default=False, db_index=True)
    for_company = models.BooleanField(default=False, db_index=True)
    online_depth = models.PositiveSmallIntegerField(choices=OnlineDepth.choices, default=0)
    themes = models.ManyToManyField(Theme, blank=True, related_name="published_versions")

    class Meta:
        verbose_name = _("发布版本")
        verbose_name_plural = _("发布版本")
        ordering = ["item", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="version_number_unique")]
        # Each filter of the portal and the API, followed by the code they sort on, so counting
        # and paging 70,000 rows reads the index and never the guide JSON (docs/api.md).
        indexes = [
            models.Index(fields=["is_current", "region_level", "code"]),
            models.Index(fields=["is_current", "department_kind"]),
            models.Index(fields=["is_current", "code"], name="version_current_code"),
            models.Index(
                fields=["is_current", "department_kind", "region_level", "code"],
                name="version_kind_level_code",
            ),
            models.Index(fields=["is_current", "item_type", "code"], name="version_type_code"),
            models.Index(fields=["is_current", "for_person", "code"], name="version_person_code"),
            models.Index(fields=["is_current", "for_company", "code"], name="version_company_code"),
            models.Index(fields=["is_current", "region_path", "code"], name="version_path_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.number}"


class Synonym(models.Model):
    """A search synonym group edited by administrators: 身份证 finds 居民身份证."""

    term = models.CharField(_("检索词"), max_length=50, unique=True)
    synonyms = models.CharField(_("同义词"), max_length=500, help_text=_("以逗号分隔，如：居民身份证,二代证"))
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term

    def terms(self) -> list[str]:
        import re

        return [t.strip() for t in re.split(r"[,，、;；\s]+", self.synonyms) if t.strip()]


class ImportRun(models.Model):
    """One spreadsheet import: who, when, how many rows, and the row-by-row report."""

    file_name = models.CharField(_("文件名"), max_length=255)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    imported_rows = models.PositiveIntegerField(_("成功行数"), default=0)
    failed_rows = models.PositiveIntegerField(_("失败行数"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    # What the clerk should know but that failed nothing: columns not in the format, notes under
    # the table. Same shape as ``errors`` (row, column, header, code, message).
    notices = models.JSONField(_("提示"), default=list, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_rows}/{self.total_rows})"


# The many-to-many tables under names, so bulk reads can query them directly.
ItemThemeLink = ServiceItem.themes.through
StandardThemeLink = StandardItem.themes.through
LifeEventLink = LifeEvent.standard_items.through
HallLink = ServiceItem.halls.through
