"""The bundles back office (Django admin, in Chinese), scoped like the catalogue admin.

A department's catalogue administrator sees and builds only the bundles its department leads
(a region-level administrator, those of every department below). Every write goes through
``bundles.services`` (the same checks and audit as any other caller): create and edit a bundle,
add members, rebuild the combined form, rename and merge combined fields, publish.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import is_catalogue_admin
from yiwang.core.errors import DomainError
from yiwang.identity.models import Role
from yiwang.identity.selectors import department_scope_q
from yiwang.regions.models import Department

from . import services
from .models import Bundle, BundleField, BundleMember, Question


def _scope(request: HttpRequest, prefix: str = "lead_department"):
    return department_scope_q(
        request.user,
        Role.CATALOGUE_ADMIN,
        department_id_field=f"{prefix}_id",
        region_path_field=f"{prefix}__region__path",
    )


def _error(modeladmin, request, exc: DomainError, prefix: str = "") -> None:
    for message in exc.messages:
        modeladmin.message_user(request, f"{prefix}{message}", messages.ERROR)


class ScopedMixin:
    def has_module_permission(self, request):
        return is_catalogue_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)

    def has_add_permission(self, request, *args):
        return is_catalogue_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_catalogue_admin(request.user)


class BundleMemberInline(admin.TabularInline):
    model = BundleMember
    extra = 0
    fields = ("order", "item", "advisory", "limit_days", "condition")
    raw_id_fields = ("item",)


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("order", "key", "text", "help", "choices")


class BundleForm(forms.ModelForm):
    """Checks the services would refuse, next to the field at fault (not a failed save)."""

    class Meta:
        model = Bundle
        fields = (
            "code",
            "name",
            "kind",
            "audience",
            "description",
            "life_event",
            "lead_department",
            "overall_limit_days",
            "outcome_rule",
            "one_step_branches",
        )

    def clean(self):
        data = super().clean()
        values = {k: data.get(k) for k in ("name", "kind", "outcome_rule", "overall_limit_days") if k in data}
        try:
            services.check_bundle_values(values)
            if self.instance.pk is None and "code" in data:
                code = data["code"] or ""
                if not services.CODE_RE.match(code):
                    raise DomainError(
                        _("一件事代码应为 2-32 位小写字母、数字、连字符或下划线。"), field="code"
                    )
            if "lead_department" in self.changed_data:
                services.check_can_manage(self.request_user, data.get("lead_department"))
        except DomainError as exc:
            for e in exc.errors:
                self.add_error(e.field if e.field in self.fields else None, e.message)
        return data


@admin.register(Bundle)
class BundleAdmin(ScopedMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "lead_department",
        "overall_limit_days",
        "outcome_rule",
        "published",
        "version",
    )
    form = BundleForm
    list_filter = ("kind", "outcome_rule", "published")
    search_fields = ("code", "name")
    list_select_related = ("lead_department",)
    readonly_fields = ("item", "published", "version", "published_at", "fields_view", "materials_view")
    inlines = [BundleMemberInline, QuestionInline]
    actions = ["rebuild_selected", "publish_selected"]
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "audience", "description", "life_event")}),
        (
            gettext_lazy("牵头与规则"),
            {"fields": ("lead_department", "overall_limit_days", "outcome_rule", "one_step_branches")},
        ),
        (gettext_lazy("发布"), {"fields": ("item", "published", "version", "published_at")}),
        (gettext_lazy("合并表单与共享材料"), {"fields": ("fields_view", "materials_view")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bundle]:
        return super().get_queryset(request).filter(_scope(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_department":
            kwargs["queryset"] = Department.objects.select_related("region").filter(
                department_scope_q(request.user, Role.CATALOGUE_ADMIN, department_id_field="pk")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        return ro + (["code"] if obj is not None else [])

    def save_model(self, request, obj: Bundle, form, change):
        data = {k: form.cleaned_data[k] for k in form.changed_data if k in services.BUNDLE_FIELDS}
        try:
            if change:
                services.update_bundle(Bundle.objects.get(pk=obj.pk), user=request.user, **data)
                obj.refresh_from_db()
            else:
                created = services.create_bundle(
                    user=request.user,
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    lead_department=form.cleaned_data.get("lead_department"),
                    overall_limit_days=form.cleaned_data.get("overall_limit_days"),
                    outcome_rule=form.cleaned_data["outcome_rule"],
                    description=form.cleaned_data.get("description") or "",
                    audience=form.cleaned_data.get("audience") or "both",
                    life_event=form.cleaned_data.get("life_event"),
                    one_step_branches=bool(form.cleaned_data.get("one_step_branches")),
                )
                obj.pk = created.pk
                obj.refresh_from_db()
        except DomainError as exc:
            _error(self, request, exc)
            raise

    def save_formset(self, request, form, formset, change):
        bundle = form.instance
        if formset.model is BundleMember:
            rows = formset.save(commit=False)
            for member in formset.deleted_objects:
                services.remove_member(member, user=request.user)
            for member in rows:
                if member.pk is None:
                    services.add_member(
                        bundle,
                        member.item,
                        user=request.user,
                        advisory=member.advisory,
                        limit_days=member.limit_days,
                        order=member.order,
                        condition=member.condition,
                    )
                else:
                    services.update_member(
                        BundleMember.objects.get(pk=member.pk),
                        user=request.user,
                        advisory=member.advisory,
                        limit_days=member.limit_days,
                        order=member.order,
                        condition=member.condition,
                    )
            return
        if formset.model is Question:
            rows = formset.save(commit=False)
            for question in formset.deleted_objects:
                question.delete()
            for q in rows:
                services.save_question(
                    bundle,
                    user=request.user,
                    key=q.key,
                    text=q.text,
                    choices=q.choices,
                    help=q.help,
                    order=q.order,
                )
            return
        super().save_formset(request, form, formset, change)

    @admin.display(description=gettext_lazy("合并表单字段"))
    def fields_view(self, obj: Bundle):
        if not obj.pk:
            return "—"
        names = {
            str(m.item_id): m.item.department.name for m in obj.members.select_related("item__department")
        }
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("字段"),
            _("标题"),
            _("对应事项字段"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        f.key,
                        f.schema.get("title", ""),
                        "；".join(f"{names.get(i, i)}：{k}" for i, k in f.mapping.items()),
                    )
                    for f in obj.fields.all()
                ),
            ),
        )

    @admin.display(description=gettext_lazy("共享材料（上传一次，分送需要的部门）"))
    def materials_view(self, obj: Bundle):
        if not obj.pk:
            return "—"
        names = {
            str(m.item_id): m.item.department.name for m in obj.members.select_related("item__department")
        }
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("材料"),
            _("分送部门（该部门的材料名称）"),
            _("必要于"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        m.name,
                        "；".join(f"{names.get(i, i)}：{n}" for i, n in m.mapping.items()),
                        "、".join(names.get(str(i), str(i)) for i in m.required_for),
                    )
                    for m in obj.materials.all()
                ),
            ),
        )

    @admin.action(description=gettext_lazy("重新生成合并表单和共享材料"))
    def rebuild_selected(self, request: HttpRequest, queryset: QuerySet[Bundle]) -> None:
        for bundle in queryset:
            try:
                combined = services.rebuild_combined_form(bundle, user=request.user)
            except DomainError as exc:
                _error(self, request, exc, f"{bundle.code}：")
                continue
            self.message_user(
                request,
                _("%(c)s：%(f)s 个字段，%(m)s 项材料。")
                % {"c": bundle.code, "f": len(combined.fields), "m": len(combined.materials)},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("发布所选一件事"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Bundle]) -> None:
        for bundle in queryset:
            try:
                version = services.publish_bundle(bundle, user=request.user)
            except DomainError as exc:
                _error(self, request, exc, f"{bundle.code}：")
                continue
            self.message_user(
                request,
                _("%(c)s 已发布（事项版本 v%(v)s）。") % {"c": bundle.code, "v": version.number},
                messages.SUCCESS,
            )


class BundleFieldForm(forms.ModelForm):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=100)

    class Meta:
        model = BundleField
        fields = ("key",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["title"].initial = self.instance.schema.get("title", "")


@admin.register(BundleField)
class BundleFieldAdmin(ScopedMixin, admin.ModelAdmin):
    """Rename a combined field (key, title) or merge several into one (the list's action)."""

    form = BundleFieldForm
    list_display = ("bundle", "key", "title", "mapped", "order")
    list_filter = ("bundle",)
    readonly_fields = ("bundle", "mapped")
    actions = ["merge_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(_scope(request, "bundle__lead_department"))
            .select_related("bundle")
        )

    def has_add_permission(self, request, *args):
        return False  # fields come from the members' forms (rebuild), then are renamed or merged

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("标题"))
    def title(self, obj: BundleField) -> str:
        return obj.schema.get("title", "")

    @admin.display(description=gettext_lazy("对应事项数"))
    def mapped(self, obj: BundleField) -> int:
        return len(obj.mapping)

    def save_model(self, request, obj: BundleField, form, change):
        current = BundleField.objects.get(pk=obj.pk)
        try:
            services.rename_field(
                current, user=request.user, key=form.cleaned_data["key"], title=form.cleaned_data["title"]
            )
        except DomainError as exc:
            _error(self, request, exc)
            raise

    @admin.action(description=gettext_lazy("合并所选字段（并入排序最前的一个）"))
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[BundleField]) -> None:
        bundles = {f.bundle_id for f in queryset}
        if len(bundles) != 1:
            self.message_user(request, _("只能合并同一个一件事的字段。"), messages.ERROR)
            return
        rows = list(queryset.order_by("order", "pk"))
        try:
            services.merge_fields(rows[0].bundle, [f.key for f in rows], into=rows[0].key, user=request.user)
        except DomainError as exc:
            _error(self, request, exc)
            return
        self.message_user(request, _("已合并为字段“%(k)s”。") % {"k": rows[0].key}, messages.SUCCESS)
