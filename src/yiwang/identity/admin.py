from django.contrib import admin

from .models import StaffRole


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "department", "granted_at")
    list_filter = ("role",)
    search_fields = ("user__username",)
    autocomplete_fields = ("region", "department")


from . import admin_clients  # noqa: E402,F401  OIDC clients (city platforms) with their settings inline
