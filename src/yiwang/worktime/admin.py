"""Back office for the working-day calendar: years, days, and the "import a year's arrangement"
form. Platform administrators only; every save goes through ``worktime.services`` (which checks
the role again, audits, and refreshes the cached calendar)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.errors import DomainError
from yiwang.core.params import int_param

from . import selectors, services
from .arrangement import arrangement_text
from .models import CalendarDay, CalendarYear

_WEEKDAYS = "一二三四五六日"


class CalendarAdminMixin:
    def has_module_permission(self, request):
        return services.can_edit_calendar(request.user)

    def has_view_permission(self, request, obj=None):
        return services.can_edit_calendar(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_edit_calendar(request.user)

    def has_add_permission(self, request, *args):
        return services.can_edit_calendar(request.user)

    def has_delete_permission(self, request, obj=None):
        # Deleting days would silently turn holidays into working days: edit them instead.
        return False


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "holiday_name"]

    def clean(self):
        data = super().clean()
        day = data.get("date") or (self.instance.date if self.instance.pk else None)
        if day and data.get("kind"):
            for error in services.check_day(day, data["kind"], data.get("holiday_name", "")):
                self.add_error(error.field or None, error.message)
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdminMixin, admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "holiday_name", "is_working_day", "source", "updated_at"]
    list_filter = ["kind", "source", "is_working_day"]
    search_fields = ["holiday_name"]
    date_hierarchy = "date"
    list_per_page = 62

    @admin.display(description=gettext_lazy("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return _("星期") + _WEEKDAYS[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        return ["date"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        # The service writes the row (and its year, and the audit entry); the admin's own
        # save would bypass those.
        saved = services.edit_day(
            obj.date, form.cleaned_data["kind"], form.cleaned_data.get("holiday_name", ""), user=request.user
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ["year", "complete", "note"]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdminMixin, admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ["year", "complete", "source", "note", "days_link", "updated_at"]
    list_filter = ["complete", "source"]
    change_list_template = "admin/worktime/calendaryear/change_list.html"

    @admin.display(description=gettext_lazy("日历"))
    def days_link(self, obj: CalendarYear) -> str:
        from django.utils.html import format_html

        url = reverse("admin:worktime_calendarday_changelist") + f"?date__year={obj.year}"
        return format_html('<a href="{}">{}</a>', url, _("查看全年"))

    def get_readonly_fields(self, request, obj=None):
        return ["year"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        try:
            saved = services.set_year(
                obj.year,
                complete=form.cleaned_data["complete"],
                note=form.cleaned_data.get("note", ""),
                user=request.user,
            )
        except DomainError as exc:
            # Reaching here means the form passed but the rule did not: say so, save nothing.
            self.message_user(request, "；".join(exc.messages), messages.ERROR)
            return
        obj.pk = saved.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class Checked(form_class):  # the "complete" rule next to its checkbox, before saving
            def clean(self):
                data = super().clean()
                year = data.get("year") or (obj.year if obj else None)
                if year and data.get("complete"):
                    import calendar

                    have = CalendarDay.objects.filter(date__year=year).count()
                    if have != (366 if calendar.isleap(year) else 365):
                        self.add_error(
                            "complete",
                            _(
                                "%(year)s 年只有 %(n)s 天有记录，请先用“导入年度安排”录入全年的放假和补班安排。"
                            )
                            % {"year": year, "n": have},
                        )
                return data

        return Checked

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="worktime_import_year"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not services.can_edit_calendar(request.user):
            return HttpResponse(status=403)
        if request.method == "POST":
            form = ImportYearForm(request.POST)
            if form.is_valid():
                try:
                    report = services.import_year(
                        form.cleaned_data["year"],
                        form.cleaned_data["text"],
                        complete=form.cleaned_data["complete"],
                        note=form.cleaned_data["note"],
                        user=request.user,
                    )
                except DomainError as exc:
                    for error in exc.errors:
                        form.add_error(error.field if error.field in form.fields else None, error.message)
                else:
                    self.message_user(
                        request,
                        _("已导入%(year)s年节假日安排：%(h)s，%(m)s。")
                        % {
                            "year": report.year.year,
                            **services.holiday_counts(report.holiday_days, report.makeup_days),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:worktime_calendaryear_changelist"))
        else:
            year = int_param(request.GET.get("year"), min_value=1900, max_value=2999) or date.today().year + 1
            days = selectors.year_days(year)
            status = selectors.year_status(year)
            form = ImportYearForm(
                initial={
                    "year": year,
                    "text": arrangement_text(year, days) if days else IMPORT_EXAMPLE.format(y=year),
                    "complete": True,
                    "note": status.note if status else "",
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入年度节假日安排"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/worktime/import_year.html", context)


IMPORT_EXAMPLE = """# {y} 年节假日安排（按国务院办公厅通知逐行填写）：类型,名称,开始日期[,结束日期]
# 类型为“放假”或“补班”；放假区间含首尾两日；未列出的日期按周一至周五上班推算。
放假,元旦,{y}-01-01
"""


class ImportYearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=1900, max_value=2999)
    text = forms.CharField(
        label=gettext_lazy("放假和补班安排"),
        widget=forms.Textarea(attrs={"rows": 20, "cols": 80, "style": "font-family: monospace"}),
        help_text=gettext_lazy(
            "每行一条：类型,名称,开始日期[,结束日期]。例如“放假,春节,2027-02-06,2027-02-13”、“补班,春节,2027-02-14”。"
            "以 # 开头的行为注释。导入会替换该年度的全部记录。"
        ),
    )
    complete = forms.BooleanField(
        label=gettext_lazy("安排已完整录入"),
        required=False,
        initial=True,
        help_text=gettext_lazy("勾选后该年度的截止日期不再提示“按周末推算”"),
    )
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）"),
    )
