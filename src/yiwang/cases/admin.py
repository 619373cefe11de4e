from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from yiwang.catalog.admin import DepartmentScopedAdminMixin, is_catalogue_admin, is_provincial_admin
from yiwang.core.errors import NotPermitted, ValidationFailed

from . import formschema, services
from .models import Case, ItemForm, OutboxMessage


class ReadOnlyScopedAdminMixin(DepartmentScopedAdminMixin):
    """Cases and their messages, for the departments' administrators, who only see them: a case
    changes through the action classes, which check, audit and move the workflow, never by
    editing its row; a message is written in the transaction of what it reports."""

    def has_add_permission(self, request):
        return False


class ItemFormAdminForm(forms.ModelForm):
    class Meta:
        model = ItemForm
        fields = ("item", "schema", "layout")
        widgets = {
            "schema": forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family: monospace"}),
            "layout": forms.Textarea(attrs={"rows": 8, "cols": 100, "style": "font-family: monospace"}),
        }

    def clean(self):
        cleaned = super().clean()
        problems = formschema.check_schema(cleaned.get("schema"), cleaned.get("layout") or {})
        for p in problems:
            self.add_error("schema", p)
        return cleaned


@admin.register(ItemForm)
class ItemFormAdmin(DepartmentScopedAdminMixin, admin.ModelAdmin):
    """Catalogue administrators edit the forms of their departments' items (the list is scoped;
    saving goes through ``services.save_item_form``, which checks the department and audits)."""

    form = ItemFormAdminForm
    list_display = ("item", "updated_by", "updated_at")
    raw_id_fields = ("item",)
    search_fields = ("item__code", "item__name", "item__standard__name")
    department_id_field = "item__department_id"
    region_path_field = "item__region__path"

    def has_add_permission(self, request):
        return is_catalogue_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("schema", json.dumps(formschema.default_schema(), ensure_ascii=False, indent=2))
        initial.setdefault("layout", json.dumps(formschema.default_layout(), ensure_ascii=False, indent=2))
        return initial

    def save_model(self, request, obj, form, change):
        # The service checks the administrator's department and audits.
        try:
            saved = services.save_item_form(obj.item, schema=obj.schema, layout=obj.layout, user=request.user)
        except NotPermitted as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationFailed as exc:  # checked by the form already; kept for safety
            raise PermissionDenied(str(exc)) from exc
        obj.pk = saved.pk


@admin.register(Case)
class CaseAdmin(ReadOnlyScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "item_name", "department", "state", "submitted_at", "due_date")
    list_filter = ("state", "channel")
    search_fields = ("number",)
    # The check code is the applicant's key to the public lookup: an administrator has no use for
    # it, and showing it would let anyone at the admin's desk follow the case as the applicant.
    exclude = ("check_code",)
    readonly_fields = [f.name for f in Case._meta.fields if f.name != "check_code"]

    def has_change_permission(self, request, obj=None):
        return False  # every field is read-only: the change page is the view page

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyScopedAdminMixin, admin.ModelAdmin):
    list_display = ("channel", "recipient_masked", "template", "created_at", "sent_at", "attempts", "error")
    list_filter = ("channel", "template")
    exclude = ("recipient_cipher",)
    verbose_name = _("待发通知")
    # A message of no case (none is written today) belongs to no department: only a scope of the
    # whole province shows it.
    department_id_field = "case__department_id"
    region_path_field = "case__region__path"

    def has_change_permission(self, request, obj=None):
        # Superusers keep what they had (e.g. resetting the attempts of a message that failed);
        # a department's administrator only looks.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
