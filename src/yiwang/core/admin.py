from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor_label", "channel", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "channel", "object_type")
    search_fields = ("object_id", "actor_label", "summary")
    date_hierarchy = "at"

    # The log is append-only: nobody edits or deletes it from the back office.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
