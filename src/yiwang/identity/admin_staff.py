"""Back office for staff roles, with every grant, change and removal in the audit log; the admin
site's own login and logout handed to the unified login (/auth/), where throttling, the second
factor and session tracking apply."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.core import audit

from .models import StaffRole


def _role_detail(role: StaffRole) -> dict:
    return {
        "user": role.user.get_username(),
        "role": role.role,
        "region": role.region.code if role.region_id else None,
        "department": role.department_id,
    }


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "department", "granted_at")
    list_filter = ("role",)
    search_fields = ("user__username",)
    autocomplete_fields = ("region", "department")

    def save_model(self, request, obj: StaffRole, form, change: bool) -> None:
        before = None
        if change and obj.pk:
            old = StaffRole.objects.filter(pk=obj.pk).select_related("user", "region").first()
            before = _role_detail(old) if old else None
        super().save_model(request, obj, form, change)
        audit.record(
            "identity.staff_role.changed" if change else "identity.staff_role.granted",
            obj,
            summary=(_("修改工作人员角色：%(role)s") if change else _("授予工作人员角色：%(role)s"))
            % {"role": obj},
            detail={"before": before, "after": _role_detail(obj)},
        )

    def delete_model(self, request, obj: StaffRole) -> None:
        detail = _role_detail(obj)
        label, pk = str(obj), obj.pk
        super().delete_model(request, obj)
        audit.record(
            "identity.staff_role.revoked",
            object_type="identity.staffrole",
            object_id=str(pk),
            summary=_("撤销工作人员角色：%(role)s") % {"role": label},
            detail=detail,
        )

    def delete_queryset(self, request, queryset) -> None:
        # The bulk "delete selected" action bypasses delete_model: audit each row.
        for role in list(queryset.select_related("user", "region")):
            self.delete_model(request, role)


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's login page is the unified one (/auth/login/)."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")


def admin_logout(request: HttpRequest, extra_context=None) -> HttpResponse:
    """Logging out of the admin ends the tracked session (and the relying parties' sessions)."""
    if request.method == "POST":
        from .sessions import logout_request

        if request.user.is_authenticated:
            logout_request(request)
        return HttpResponseRedirect(settings.LOGIN_URL)
    return HttpResponseRedirect(reverse("auth:logout"))


# Instance attributes win over AdminSite's methods when its URLs are built (after admin
# autodiscovery has imported this module).
admin.site.login = admin_login
admin.site.logout = admin_logout
