"""The catalogue back office (Django admin, in Chinese), scoped by staff role.

A department's catalogue administrator sees and edits only that department's implementations;
a region-level administrator, every department of the region and below; standard items are
edited only by provincial administrators. The checks live in ``catalog.services`` too, so the
admin is a view over the same rules, not the only guard.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yiwang.core.errors import DomainError
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.selectors import department_scope_q
from yiwang.regions.models import Department

from . import selectors, services
from .deviations import KIND_LABELS, deviation_report
from .models import (
    ItemMaterial,
    LifeEvent,
    ProcessStep,
    ServiceItem,
    ServiceItemVersion,
    StandardItem,
    StandardMaterial,
    Synonym,
    Theme,
)


def is_catalogue_admin(user) -> bool:
    if not (user.is_active and user.is_staff):
        return False
    return (
        user.is_superuser
        or StaffRole.objects.filter(user=user, role__in=[Role.CATALOGUE_ADMIN, Role.PLATFORM_ADMIN]).exists()
    )


def is_provincial_admin(user) -> bool:
    """Provincial scope: superuser, platform admin, or a catalogue admin with no region/department
    or at the province itself."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    for sr in StaffRole.objects.filter(
        user=user, role__in=[Role.CATALOGUE_ADMIN, Role.PLATFORM_ADMIN]
    ).select_related("region"):
        if sr.role == Role.PLATFORM_ADMIN or (
            sr.department_id is None and (sr.region is None or sr.region.level == 1)
        ):
            return True
    return False


class CatalogueAdminMixin:
    def has_module_permission(self, request):
        return is_catalogue_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)


class DepartmentScopedAdminMixin(CatalogueAdminMixin):
    """For catalogue administrators: the records of the departments in their scope only
    (``department_scope_q``; superusers and platform administrators see all). A record outside
    it answers like a missing one. Subclasses name the path to the record's department and region."""

    department_id_field = "department_id"
    region_path_field = "region__path"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(
                department_scope_q(
                    request.user,
                    Role.CATALOGUE_ADMIN,
                    department_id_field=self.department_id_field,
                    region_path_field=self.region_path_field,
                )
            )
        )


class ProvincialOnlyMixin(CatalogueAdminMixin):
    def has_add_permission(self, request, *args):
        return is_provincial_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_provincial_admin(request.user)


class StandardMaterialInline(admin.TabularInline):
    model = StandardMaterial
    extra = 0
    fields = ("sort", "name", "form", "copies", "requirement", "condition", "source", "certificate_type")

    def has_add_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)


@admin.register(StandardItem)
class StandardItemAdmin(ProvincialOnlyMixin, admin.ModelAdmin):
    list_display = (
        "basic_code",
        "name",
        "item_type",
        "department_kind",
        "audience",
        "statutory_limit_days",
        "levels",
    )
    list_filter = ("item_type", "department_kind", "audience")
    search_fields = ("basic_code", "name", "aliases")
    filter_horizontal = ("themes",)
    inlines = [StandardMaterialInline]
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from yiwang.core import audit

        audit.record(
            "catalog.standard.save",
            obj,
            summary=f"{obj.basic_code} {obj.name}",
            detail={"fields": form.changed_data},
        )


class ItemMaterialInline(admin.TabularInline):
    model = ItemMaterial
    extra = 0
    fields = (
        "sort",
        "name",
        "form",
        "copies",
        "requirement",
        "condition",
        "source",
        "certificate_type",
        "notes",
    )


class ProcessStepInline(admin.TabularInline):
    model = ProcessStep
    extra = 0
    fields = ("sort", "name", "is_approval", "handler", "time_limit_days")


@admin.register(ServiceItem)
class ServiceItemAdmin(DepartmentScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "display_name",
        "region",
        "department",
        "status",
        "current_version_number",
        "updated_at",
    )
    list_filter = ("status", "region__level", "department__kind", "online_depth", "is_instant")
    search_fields = ("code", "name", "standard__name")
    list_select_related = ("standard", "region", "department", "current_version")
    autocomplete_fields = ("standard",)
    filter_horizontal = ("themes", "halls")
    readonly_fields = ("code", "status", "version_history")
    inlines = [ItemMaterialInline, ProcessStepInline]
    actions = ["publish_selected"]
    list_per_page = 50
    fieldsets = (
        (
            gettext_lazy("归属"),
            {"fields": ("standard", "region", "department", "code", "status", "version_history")},
        ),
        (
            gettext_lazy("沿用基本目录的要素（留空即沿用）"),
            {
                "fields": (
                    "name",
                    "aliases",
                    "item_type",
                    "audience",
                    "legal_basis",
                    "acceptance_conditions",
                    "statutory_limit_days",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("受理条件与时限"),
            {"fields": ("extra_conditions", "is_instant", "promised_limit_days")},
        ),
        (gettext_lazy("收费"), {"fields": ("fee_required", "fee_standard", "fee_basis", "online_payment")}),
        (
            gettext_lazy("办理方式"),
            {
                "fields": (
                    "online_depth",
                    "channels",
                    "onsite_visits",
                    "onsite_reason",
                    "where_to_apply",
                    "office_hours",
                    "halls",
                    "delivery_methods",
                    "result_name",
                    "result_kind",
                    "result_certificate_type",
                    "min_assurance_level",
                )
            },
        ),
        (gettext_lazy("咨询投诉与主题"), {"fields": ("consult_phone", "complaint_phone", "themes")}),
    )

    def get_search_results(self, request, queryset, search_term):
        """The portal's search (synonyms, abbreviations such as 社保, pinyin) over the published
        items, plus the admin's own code and name match, which also finds unpublished drafts."""
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term.strip():
            return matched, may_have_duplicates
        found = selectors.search_item_ids(search_term)
        return queryset.filter(Q(pk__in=found) | Q(pk__in=matched.values("pk"))), may_have_duplicates

    @admin.display(description=gettext_lazy("事项名称"))
    def display_name(self, obj: ServiceItem) -> str:
        return obj.name or obj.standard.name

    @admin.display(description=gettext_lazy("发布版本"))
    def current_version_number(self, obj: ServiceItem):
        return obj.current_version.number if obj.current_version else "—"

    @admin.display(description=gettext_lazy("版本历史"))
    def version_history(self, obj: ServiceItem):
        if not obj.pk:
            return "—"
        rows = obj.versions.order_by("-number")[:20]
        return (
            format_html_join(
                "",
                '<div><a href="{}">v{}</a> {} {} — {}</div>',
                (
                    (
                        reverse("admin:catalog_serviceitemversion_change", args=[v.pk]),
                        v.number,
                        v.published_at.strftime("%Y-%m-%d %H:%M"),
                        v.published_by,
                        "；".join(f"{c['label']}：{c['old']} → {c['new']}" for c in v.changes[:5]),
                    )
                    for v in rows
                ),
            )
            or "—"
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = Department.objects.select_related("region").filter(
                department_scope_q(request.user, Role.CATALOGUE_ADMIN, department_id_field="pk")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            ro += ["standard", "region", "department"]
        return ro

    def has_add_permission(self, request):
        return is_catalogue_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # withdraw instead: versions are kept for the record

    def save_model(self, request, obj: ServiceItem, form, change):
        if not change:
            obj.region = obj.department.region
            services.check_can_edit(request.user, obj.department)
            if errors := services.check_claim(obj.standard, obj.department):
                raise_admin = "；".join(e.message for e in errors)
                self.message_user(request, raise_admin, messages.ERROR)
                raise DomainError(raise_admin)
            obj.code = services.implementation_code(obj.standard, obj.department)
        else:
            services.check_can_edit(request.user, obj.department)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj: ServiceItem = form.instance
        if not change and not obj.materials.exists():
            services.copy_standard_materials(obj)
        if not change and not obj.steps.exists():
            services.create_default_steps(obj)
        changed = list(form.changed_data) + [f"{fs.prefix}" for fs in formsets if fs.has_changed()]
        services.mark_changed(obj, user=request.user, changed_fields=changed)

    @admin.action(description=gettext_lazy("发布所选事项"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        ok = 0
        for item in queryset:
            try:
                services.publish(item, user=request.user)
                ok += 1
            except DomainError as exc:
                self.message_user(
                    request,
                    format_html("{}：{}", item.code, "；".join(exc.messages)),
                    messages.ERROR,
                )
        if ok:
            self.message_user(
                request,
                ngettext("已发布 %(n)s 个事项。", "已发布 %(n)s 个事项。", ok) % {"n": ok},
                messages.SUCCESS,
            )

    def get_urls(self):
        return [
            path("deviations/", self.admin_site.admin_view(self.deviations_view), name="catalog_deviations"),
            *super().get_urls(),
        ]

    def deviations_view(self, request: HttpRequest) -> HttpResponse:
        versions = ServiceItemVersion.objects.filter(is_current=True).filter(
            department_scope_q(request.user, Role.CATALOGUE_ADMIN, region_path_field="region_path")
        )
        if code := request.GET.get("region", "").strip():
            versions = versions.filter(region_path__contains=f"{code}/")
        rows = list(deviation_report(versions))
        if request.GET.get("format") == "xlsx":
            return _deviations_xlsx(rows)
        context = {
            **self.admin_site.each_context(request),
            "title": _("同标准受理偏差报告"),
            "rows": rows[:2000],
            "total": len(rows),
            "items": len({r.code for r in rows}),
            "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/deviations.html", context)


def _deviations_xlsx(rows) -> HttpResponse:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("偏差报告"))
    ws.append(
        [
            _("实施编码"),
            _("事项名称"),
            _("区划"),
            _("实施主体"),
            _("要素"),
            _("偏差类型"),
            _("基本目录"),
            _("实施清单"),
        ]
    )
    for r in rows:
        ws.append(
            [
                r.code,
                r.name,
                r.region,
                r.department,
                r.label,
                str(KIND_LABELS.get(r.kind, r.kind)),
                r.standard_value,
                r.item_value,
            ]
        )
    import io

    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = 'attachment; filename="deviations.xlsx"'
    return resp


@admin.register(ServiceItemVersion)
class ServiceItemVersionAdmin(DepartmentScopedAdminMixin, admin.ModelAdmin):
    region_path_field = "region_path"  # a version keeps its region's path as published
    list_display = ("code", "name", "number", "published_at", "published_by", "is_current")
    list_filter = ("is_current", "region_level", "item_type")
    search_fields = ("code", "name")
    readonly_fields = (
        "item",
        "number",
        "code",
        "name",
        "published_at",
        "published_by",
        "is_current",
        "change_list",
    )
    exclude = ("elements", "changes", "region", "department", "themes")
    list_select_related = ("item",)

    @admin.display(description=gettext_lazy("变更内容"))
    def change_list(self, obj: ServiceItemVersion):
        return format_html_join(
            "", "<div>{}：{} → {}</div>", ((c["label"], c["old"], c["new"]) for c in obj.changes)
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Theme)
class ThemeAdmin(ProvincialOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "name", "audience", "sort")
    list_filter = ("audience",)
    search_fields = ("name",)


@admin.register(LifeEvent)
class LifeEventAdmin(ProvincialOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "name", "audience")
    filter_horizontal = ("standard_items",)
    search_fields = ("name",)


@admin.register(Synonym)
class SynonymAdmin(ProvincialOnlyMixin, admin.ModelAdmin):
    list_display = ("term", "synonyms", "updated_at")
    search_fields = ("term", "synonyms")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from yiwang.core import audit

        audit.record("catalog.synonym.save", obj, summary=f"{obj.term} = {obj.synonyms}")

    def delete_model(self, request, obj):
        from yiwang.core import audit

        audit.record("catalog.synonym.delete", obj, summary=obj.term)
        super().delete_model(request, obj)
