"""Read-only admin of supervision's rows (written by the sweep and the step receivers only)."""

from django.contrib import admin

from .models import CaseWarning, Flag, Rating, RatingFollowUp, StaffNotice


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CaseWarning)
class CaseWarningAdmin(ReadOnly):
    list_display = ("case", "level", "days_left", "due", "changed_at")
    list_filter = ("level",)


@admin.register(Flag)
class FlagAdmin(ReadOnly):
    list_display = ("case", "rule", "detail", "at")
    list_filter = ("rule",)


@admin.register(StaffNotice)
class StaffNoticeAdmin(ReadOnly):
    list_display = ("user", "case", "level", "created_at", "read_at")


@admin.register(Rating)
class RatingAdmin(ReadOnly):
    list_display = ("case", "stage", "score", "rater_masked", "publish_comment", "superseded", "created_at")
    list_filter = ("stage", "score")
    # Only what the columns show: following every foreign key joins past SQLite's 64 tables.
    list_select_related = ("case",)


@admin.register(RatingFollowUp)
class RatingFollowUpAdmin(ReadOnly):
    list_display = ("case", "department", "status", "call_due", "report_due")
    list_filter = ("status",)
    list_select_related = ("case", "department")
