"""Back office for processes: upload a BPMN file (checked on upload), download it, view the
diagram (bpmn-js, vendored), bind a process to an implementation."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import CatalogueAdminMixin, DepartmentScopedAdminMixin, is_provincial_admin
from yiwang.core.errors import DomainError

from . import services
from .engine import MAX_BPMN_BYTES
from .models import ProcessBinding, ProcessDefinition


class UploadForm(forms.Form):
    key = forms.SlugField(
        label=gettext_lazy("流程标识"), max_length=64, help_text=gettext_lazy("同一标识的新文件成为新版本")
    )
    name = forms.CharField(label=gettext_lazy("流程名称"), max_length=100, required=False)
    bpmn = forms.FileField(label=gettext_lazy("BPMN 文件（.bpmn / .xml）"))

    def clean_bpmn(self):
        f = self.cleaned_data["bpmn"]
        if f.size > MAX_BPMN_BYTES:
            raise forms.ValidationError(_("文件过大（上限 %(kb)s KB）。") % {"kb": MAX_BPMN_BYTES // 1024})
        raw = f.read()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("文件不是 UTF-8 编码的 BPMN XML。")) from exc


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(CatalogueAdminMixin, admin.ModelAdmin):
    list_display = ("key", "version", "name", "approval_steps", "is_template", "created_at", "links")
    list_filter = ("is_template",)
    search_fields = ("key", "name")
    readonly_fields = (
        "key",
        "version",
        "name",
        "process_id",
        "approval_steps",
        "checksum",
        "is_template",
        "created_by",
        "created_at",
        "links",
    )
    exclude = ("bpmn_xml",)

    @admin.display(description=gettext_lazy("操作"))
    def links(self, obj: ProcessDefinition):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:workflow_processdefinition_diagram", args=[obj.pk]),
            _("查看流程图"),
            reverse("admin:workflow_processdefinition_download", args=[obj.pk]),
            _("下载 BPMN"),
        )

    def has_add_permission(self, request):
        return False  # added through the upload page, which checks the file

    def has_change_permission(self, request, obj=None):
        return False  # versions are immutable: upload a new one

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="workflow_processdefinition_upload",
            ),
            path(
                "<id:pk>/diagram/",
                self.admin_site.admin_view(self.diagram_view),
                name="workflow_processdefinition_diagram",
            ),
            path(
                "<id:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="workflow_processdefinition_download",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        services.ensure_templates()
        extra_context = {**(extra_context or {}), "can_upload": is_provincial_admin(request.user)}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not is_provincial_admin(request.user):
            return HttpResponse(status=403)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                definition = services.upload_definition(
                    key=form.cleaned_data["key"],
                    name=form.cleaned_data["name"],
                    xml=form.cleaned_data["bpmn"],
                    by=request.user.get_username(),
                )
            except DomainError as exc:
                for message in exc.messages:
                    form.add_error("bpmn", message)
            else:
                messages.success(
                    request,
                    _("已上传 %(name)s 第 %(v)s 版。") % {"name": definition.name, "v": definition.version},
                )
                return redirect("admin:workflow_processdefinition_diagram", definition.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("上传 BPMN 流程"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/workflow/processdefinition/upload.html", context)

    def diagram_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        definition = get_object_or_404(ProcessDefinition, pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("流程图：%(name)s 第 %(v)s 版") % {"name": definition.name, "v": definition.version},
            "definition": definition,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/workflow/processdefinition/diagram.html", context)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        definition = get_object_or_404(ProcessDefinition, pk=pk)
        resp = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{definition.key}-v{definition.version}.bpmn"'
        return resp


@admin.register(ProcessBinding)
class ProcessBindingAdmin(DepartmentScopedAdminMixin, admin.ModelAdmin):
    list_display = ("item", "definition", "bound_at")
    autocomplete_fields = ("item",)
    search_fields = ("item__code", "item__name")
    department_id_field = "item__department_id"
    region_path_field = "item__region__path"

    def has_add_permission(self, request):
        return True

    def has_change_permission(self, request, obj=None):
        return True

    def has_delete_permission(self, request, obj=None):
        return is_provincial_admin(request.user)

    def save_model(self, request, obj, form, change):
        # Goes through the service: scope check, "changed" mark and audit.
        services.bind(obj.item, obj.definition, user=request.user)
