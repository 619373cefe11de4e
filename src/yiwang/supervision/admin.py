from django.contrib import admin

from .models import CaseWarning, Flag, StaffNotice


@admin.register(CaseWarning)
class CaseWarningAdmin(admin.ModelAdmin):
    list_display = ("case", "level", "days_left", "due", "changed_at")
    list_filter = ("level",)
    raw_id_fields = ("case",)


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("case", "rule", "detail", "at")
    list_filter = ("rule",)
    raw_id_fields = ("case",)


@admin.register(StaffNotice)
class StaffNoticeAdmin(admin.ModelAdmin):
    list_display = ("user", "case", "level", "created_at", "read_at")
    raw_id_fields = ("user", "case")
