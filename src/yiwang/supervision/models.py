"""Supervision's own tables: each open case's warning level, the flagged events of its
processing and the in-app notices of a level's change. Rows refer to cases; the cases app's
tables are only read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("黄色预警")
    RED = "red", _("红色预警")


class CaseWarning(models.Model):
    """The warning level of one running case, as the last sweep (or step) found it."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="warning"
    )
    level = models.CharField(_("预警级别"), max_length=8, choices=Level.choices, default=Level.GREEN)
    changed_at = models.DateTimeField(_("级别变化时间"))
    checked_at = models.DateTimeField(_("最近计算时间"))
    days_left = models.SmallIntegerField(_("剩余工作日"), null=True, blank=True)
    due = models.DateField(_("办理期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("办件预警")
        verbose_name_plural = _("办件预警")
        indexes = [models.Index(fields=["level", "due"], name="sup_warning_level_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


class Rule(models.TextChoices):
    SECOND_CORRECTION = "second_correction", _("二次补正（违反一次性告知）")
    LONG_SUSPENSION = "long_suspension", _("中止超过允许时长")
    UNCHECKED_MATERIALS = "unchecked_materials", _("材料未全部审核即作决定")


class Flag(models.Model):
    """One flagged event of a case's processing, once per case, rule and ``key`` (the pause of a
    long suspension; empty for the rules that fire once per case)."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="flags"
    )
    rule = models.CharField(_("规则"), max_length=24, choices=Rule.choices)
    key = models.CharField(max_length=40, blank=True, default="")
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("异常事件")
        verbose_name_plural = _("异常事件")
        constraints = [models.UniqueConstraint(fields=["case", "rule", "key"], name="sup_flag_once")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.rule}"


class StaffNotice(models.Model):
    """An in-app notice to one staff member: a case turned yellow or red."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="+"
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+")
    level = models.CharField(_("预警级别"), max_length=8, choices=Level.choices)
    text = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警提醒")
        verbose_name_plural = _("预警提醒")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="sup_notice_unread")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.case_id} {self.level}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("待回复")
    REPLIED = "replied", _("已回复")
    ESCALATED = "escalated", _("逾期已上报")
    CLOSED = "closed", _("已办结")


class SupervisoryOrder(models.Model):
    """A supervisor's order (督办) to a department, about one of its cases or about the
    department itself, with a reply due on a working day. Unanswered past that day it is
    escalated to the region above the issuer's (``escalated_to``; empty above the province)."""

    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("办件"),
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("督办部门"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("督办事由"), max_length=500)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.ForeignKey(
        "regions.Region",
        verbose_name=_("督办层级"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    issued_at = models.DateTimeField(_("督办时间"), auto_now_add=True)
    reply_due = models.DateField(_("回复期限"))
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    reply = models.TextField(_("回复内容"), blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    escalated_to = models.ForeignKey(
        "regions.Region",
        verbose_name=_("上报至"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    escalated_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        indexes = [models.Index(fields=["status", "reply_due"], name="sup_order_status_due")]

    def __str__(self) -> str:
        return f"{self.pk} {self.department_id} {self.status}"


# --- ratings (好差评) ---------------------------------------------------------------------------


class RatingStage(models.TextChoices):
    """When a case is rated: online after it is finished; at the counter after acceptance and
    after the decision (cases entered at a counter)."""

    FINISHED = "finished", _("办结后")
    ACCEPTANCE = "acceptance", _("受理环节")
    DECISION = "decision", _("办结环节")


class RatingChannel(models.TextChoices):
    ONLINE = "online", _("网上评价")
    COUNTER = "counter", _("窗口评价")


class Score(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    NEUTRAL = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# One rule for every total of ratings (the guide, the ranking, the figures): 差评 is 不满意 or
# worse and opens a follow-up; 满意 and 非常满意 count as satisfied.
BAD_AT_MOST = Score.DISSATISFIED.value
SATISFIED_AT_LEAST = Score.SATISFIED.value


class Rating(models.Model):
    """One applicant's rating of one case at one stage. ``score`` is the overall satisfaction
    (整体满意度); ``indicators`` the channel's other national indicators, key → 1–5. A
    re-rating (``rerating_of``) replaces its original in every aggregate (``superseded``)."""

    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("评价渠道"), max_length=8, choices=RatingChannel.choices)
    stage = models.CharField(_("评价环节"), max_length=12, choices=RatingStage.choices)
    score = models.PositiveSmallIntegerField(_("整体满意度"), choices=Score.choices)
    indicators = models.JSONField(_("评价指标"), default=dict)
    comment = models.TextField(_("评价内容"), blank=True)
    publish_comment = models.BooleanField(_("公开评价内容"), default=False)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )
    rater_masked = models.CharField(_("评价人（脱敏）"), max_length=40)
    rerating_of = models.OneToOneField(
        "self",
        verbose_name=_("原评价"),
        on_delete=models.PROTECT,
        related_name="rerating",
        null=True,
        blank=True,
    )
    superseded = models.BooleanField(_("已被追评取代"), default=False)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "stage"],
                condition=models.Q(rerating_of__isnull=True),
                name="sup_rating_once_per_stage",
            )
        ]
        indexes = [
            models.Index(fields=["item", "-created_at"], name="sup_rating_item"),
            models.Index(fields=["department", "-created_at"], name="sup_rating_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.score}"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("待回访")
    CALLED = "called", _("已回访，整改中")
    RECTIFIED = "rectified", _("已整改")


class RatingFollowUp(models.Model):
    """The follow-up (整改) a bad rating opens for the case's department: a call back by
    ``call_due`` and a rectification report by ``report_due`` (working days). Each missed day
    escalates once (``call_escalated_at``, ``report_escalated_at``)."""

    rating = models.OneToOneField(
        Rating, verbose_name=_("差评"), on_delete=models.CASCADE, related_name="follow_up"
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("整改部门"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    opened_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    call_due = models.DateField(_("回访期限"))
    report_due = models.DateField(_("整改期限"))
    called_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    call_note = models.TextField(_("回访记录"), blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    report = models.TextField(_("整改报告"), blank=True)
    reported_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("整改人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    call_escalated_at = models.DateTimeField(_("回访逾期上报时间"), null=True, blank=True)
    report_escalated_at = models.DateTimeField(_("整改逾期上报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        indexes = [models.Index(fields=["status", "call_due"], name="sup_followup_status_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"


class RatingReminder(models.Model):
    """The one reminder sent for a finished case left unrated (its existence is the guard)."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价提醒")
        verbose_name_plural = _("评价提醒")

    def __str__(self) -> str:
        return str(self.case_id)


class ItemRatingRollup(models.Model):
    """The ratings of one item as its guide shows them, kept up to date as ratings are saved
    (superseded ratings excluded), so a guide page never counts ratings."""

    item = models.OneToOneField(
        "catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(_("评价数"), default=0)
    satisfied = models.PositiveIntegerField(_("满意及以上"), default=0)
    bad = models.PositiveIntegerField(_("不满意及以下"), default=0)
    score_sum = models.PositiveIntegerField(_("总分"), default=0)

    class Meta:
        verbose_name = _("事项评价汇总")
        verbose_name_plural = _("事项评价汇总")

    def __str__(self) -> str:
        return f"{self.item_id} {self.count}"


class DepartmentRatingRollup(models.Model):
    """The ratings of one department (superseded ratings excluded), for the ranking page."""

    department = models.OneToOneField(
        "regions.Department", verbose_name=_("部门"), on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(_("评价数"), default=0)
    satisfied = models.PositiveIntegerField(_("满意及以上"), default=0)
    bad = models.PositiveIntegerField(_("不满意及以下"), default=0)
    score_sum = models.PositiveIntegerField(_("总分"), default=0)

    class Meta:
        verbose_name = _("部门评价汇总")
        verbose_name_plural = _("部门评价汇总")

    def __str__(self) -> str:
        return f"{self.department_id} {self.count}"


# --- figures (效能): docs/supervision.md "Figures" -------------------------------------------------

# The counted columns, in the order of the figures page. The delta rows and the day rollups carry
# the same columns, so a fold is a sum of one over the other.
FIGURE_COLUMNS = (
    "received",
    "accepted",
    "refused",
    "decided",
    "approved",
    "denied",
    "timed",
    "on_time",
    "overdue",
    "days_used",
    "promised_days",
    "statutory_days",
    "fully_online",
    "one_visit",
    "corrections",
    "cert_reuse",
    "rated",
    "satisfied",
)


class FigureCounts(models.Model):
    """The keys and counted columns shared by a delta and a day's rollup: one day, one item of
    one department in one region (the case's own, as written when the case was made)."""

    day = models.DateField(_("日期"))
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+"
    )
    received = models.IntegerField(_("收件"), default=0)
    accepted = models.IntegerField(_("受理"), default=0)
    refused = models.IntegerField(_("不予受理"), default=0)
    decided = models.IntegerField(_("办结决定"), default=0)
    approved = models.IntegerField(_("准予"), default=0)
    denied = models.IntegerField(_("不予"), default=0)
    timed = models.IntegerField(_("计时办件"), default=0)
    on_time = models.IntegerField(_("按时"), default=0)
    overdue = models.IntegerField(_("超期"), default=0)
    days_used = models.IntegerField(_("实际用时（工作日）"), default=0)
    promised_days = models.IntegerField(_("承诺时限（工作日）"), default=0)
    statutory_days = models.IntegerField(_("法定时限（工作日）"), default=0)
    fully_online = models.IntegerField(_("全程网办"), default=0)
    one_visit = models.IntegerField(_("最多跑一次"), default=0)
    corrections = models.IntegerField(_("补正"), default=0)
    cert_reuse = models.IntegerField(_("电子证照复用"), default=0)
    rated = models.IntegerField(_("评价数"), default=0)
    satisfied = models.IntegerField(_("满意数"), default=0)

    class Meta:
        abstract = True


class FigureDelta(FigureCounts):
    """What one step of one case adds to the figures: inserted (never updated) in the step's
    transaction, folded into ``DailyFigure`` and deleted by ``figures.fold``."""

    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("效能增量")
        verbose_name_plural = _("效能增量")

    def __str__(self) -> str:
        return f"{self.day} {self.item_id} +"


class DailyFigure(FigureCounts):
    """The figures of one item (department, region) on one day, as the folds have summed them."""

    class Meta:
        verbose_name = _("效能日统计")
        verbose_name_plural = _("效能日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "item", "department", "region"], name="sup_figure_day_unique"
            )
        ]
        indexes = [
            models.Index(fields=["day", "department"], name="sup_figure_day_dept"),
            models.Index(fields=["department", "day"], name="sup_figure_dept_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.item_id}"


class FigureFold(models.Model):
    """One row (pk 1): locked by each fold and by the rebuild so that they run one at a time;
    keeps when the last fold ran."""

    folded_at = models.DateTimeField(null=True, blank=True)
    folded = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("效能汇总状态")
        verbose_name_plural = _("效能汇总状态")

    def __str__(self) -> str:
        return f"fold {self.folded_at}"
