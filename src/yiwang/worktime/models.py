"""The working-day calendar: one row per date, and one row per year saying whether the year's
official holiday arrangement (国务院办公厅 notice, published around November) is known.

A date without a row, or in a year not marked complete, falls back to the weekend rule
(Monday to Friday work) and every deadline that counts such a day is flagged as estimated.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("工作日")
    WEEKEND = "weekend", _("周末")
    HOLIDAY = "holiday", _("法定节假日")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


# A sorted tuple, not a set: the check constraint below must come out in the same order in
# every process, or makemigrations sees a change each time.
WORKING_KINDS: tuple[str, ...] = (DayKind.MAKEUP_WORKDAY.value, DayKind.WORKDAY.value)


class CalendarSource(models.TextChoices):
    PACKAGE = "chinesecalendar", _("chinesecalendar 数据包")
    ADMIN = "admin", _("管理员录入")


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("工作日"))
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    holiday_name = models.CharField(
        _("节日"), max_length=64, blank=True, help_text=_("如 春节、国庆节；调休上班日填所属节日")
    )
    source = models.CharField(_("来源"), max_length=16, choices=CalendarSource.choices)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]
        constraints = [
            # is_working_day is derived from kind; the database keeps them from disagreeing.
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=list(WORKING_KINDS), is_working_day=True)
                    | (~models.Q(kind__in=list(WORKING_KINDS)) & models.Q(is_working_day=False))
                ),
                name="worktime_day_kind_matches_working",
            )
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{self.date:%Y-%m-%d} {label}{(' ' + self.holiday_name) if self.holiday_name else ''}"


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    complete = models.BooleanField(
        _("安排已完整录入"),
        default=False,
        help_text=_("该年度国务院办公厅节假日安排已完整录入；未录入的年份按周末推算并提示"),
    )
    source = models.CharField(_("来源"), max_length=16, choices=CalendarSource.choices)
    note = models.CharField(_("说明"), max_length=500, blank=True, help_text=_("如通知文号"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}"
