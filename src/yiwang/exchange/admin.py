from __future__ import annotations

from django.contrib import admin

from .models import ECertificate


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
