from __future__ import annotations

from django.contrib import admin

from .models import ECertificate, ExchangeLogEntry, ExchangeLogSeal


@admin.register(ECertificate)
class ECertificateAdmin(admin.ModelAdmin):
    """Read-only: certificates are issued by decisions and revoked through the service."""

    list_display = (
        "number",
        "cert_type",
        "holder_kind",
        "holder_name_masked",
        "issuer_name",
        "valid_until",
        "status",
    )
    list_filter = ("status", "holder_kind", "cert_type")
    search_fields = ("number", "cert_type")
    exclude = ("data_cipher", "holder_hash")
    readonly_fields = (
        "cert_type",
        "number",
        "holder_kind",
        "holder_name_masked",
        "department",
        "issuer_name",
        "issued_on",
        "valid_from",
        "valid_until",
        "data_public",
        "file",
        "sha256",
        "case",
        "status",
        "issued_by",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class _AppendOnly(admin.ModelAdmin):
    """The exchange log is written by ``exchange.log`` only; the back office reads it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ExchangeLogEntry)
class ExchangeLogEntryAdmin(_AppendOnly):
    list_display = ("at", "client_id", "request_id", "consumer", "registry", "outcome", "records", "seal")
    list_filter = ("outcome", "registry")
    search_fields = ("request_id", "client_id", "case_number")
    list_select_related = ("consumer", "seal")


@admin.register(ExchangeLogSeal)
class ExchangeLogSealAdmin(_AppendOnly):
    list_display = ("seq", "sealed_at", "entries", "first_entry_id", "last_entry_id", "hash")
