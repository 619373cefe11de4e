"""Back-office views of people, companies, mandates and the base registries: read-only, masked
values only. Ciphertexts and keyed hashes never appear; an ID number or phone typed into the
search box is looked up through its keyed hash, never compared in plain text."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto import blind_index

from .models import Company, LegalEntityRecord, Mandate, Person, PopulationRecord
from .registries import PHONE_PURPOSE, id_number_hash
from .validators import normalize_id_number, normalize_phone


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services (registration, mandates, registry loads)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _hash_search(queryset, term: str, id_field: str, phone_field: str | None = None):
    """Exact lookup of a typed ID number or phone through its keyed hash."""
    id_number = normalize_id_number(term)
    if len(id_number) == 18:
        return queryset.filter(**{id_field: id_number_hash(id_number)})
    phone = normalize_phone(term)
    if phone_field and len(phone) == 11 and phone.isdigit():
        return queryset.filter(**{phone_field: blind_index(phone, purpose=PHONE_PURPOSE)})
    return None


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "id_number_masked",
        "phone_masked",
        "assurance_level",
        "verified_at",
        "created_at",
    )
    list_filter = ("assurance_level",)
    search_fields = ("name", "user__username")
    fields = (
        "user",
        "name",
        "id_number_masked",
        "phone_masked",
        "assurance_level",
        "verified_at",
        "phone_verified_at",
        "created_at",
    )
    readonly_fields = fields
    search_help_text = _("按姓名、用户名搜索，或输入完整身份证号、手机号精确查找")

    def get_search_results(self, request, queryset, search_term):
        found = _hash_search(queryset, search_term, "id_number_hash", "phone_hash")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ("name", "credit_code", "legal_representative_display", "region_code", "verified_at")
    search_fields = ("name", "credit_code")
    fields = (
        "name",
        "credit_code",
        "legal_representative_display",
        "region_code",
        "verified_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("法定代表人"))
    def legal_representative_display(self, obj: Company) -> str:
        return f"{obj.legal_representative.name} {obj.legal_representative.id_number_masked}"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("legal_representative")


@admin.register(Mandate)
class MandateAdmin(ReadOnlyAdmin):
    list_display = ("company", "agent_display", "all_items", "starts_at", "ends_at", "revoked_at")
    list_filter = ("all_items",)
    search_fields = ("company__name", "company__credit_code", "agent__name")
    fields = (
        "company",
        "agent_display",
        "all_items",
        "items_display",
        "starts_at",
        "ends_at",
        "granted_by_display",
        "granted_at",
        "revoked_at",
    )
    readonly_fields = fields

    @admin.display(description=_("经办人"))
    def agent_display(self, obj: Mandate) -> str:
        return f"{obj.agent.name} {obj.agent.id_number_masked}"

    @admin.display(description=_("授权人"))
    def granted_by_display(self, obj: Mandate) -> str:
        return f"{obj.granted_by.name} {obj.granted_by.id_number_masked}"

    @admin.display(description=_("授权事项"))
    def items_display(self, obj: Mandate) -> str:
        if obj.all_items:
            return str(_("全部事项"))
        return "、".join(f"{i.name}（{i.basic_code}）" for i in obj.standard_items.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company", "agent", "granted_by")


@admin.register(PopulationRecord)
class PopulationRecordAdmin(ReadOnlyAdmin):
    list_display = ("name", "id_number_masked", "deceased")
    list_filter = ("deceased",)
    search_fields = ("name",)
    fields = ("name", "id_number_masked", "deceased")
    readonly_fields = fields
    search_help_text = _("按姓名搜索，或输入完整身份证号精确查找")
    show_full_result_count = False  # millions of rows in a real province: no COUNT(*) per page

    def get_search_results(self, request, queryset, search_term):
        found = _hash_search(queryset, search_term, "id_number_hash")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)


@admin.register(LegalEntityRecord)
class LegalEntityRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "credit_code",
        "legal_representative_name",
        "region_code",
        "registered_on",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("name", "=credit_code")
    fields = ("name", "credit_code", "legal_representative_name", "region_code", "registered_on", "status")
    readonly_fields = fields
    show_full_result_count = False
