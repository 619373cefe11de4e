"""Back office: relying parties (city platforms, department systems) as OIDC clients, each with
yiwang's settings inline: back-channel logout URI, allowed scopes, minimum assurance level."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import get_application_model

from yiwang.core import audit

from .models import ClientSettings

Application = get_application_model()


class ClientSettingsForm(ModelForm):
    backchannel_logout_uri = forms.URLField(
        label=_("后端登出地址"),
        required=False,
        assume_scheme="https",
        help_text=_("接入平台接收登出令牌（logout+jwt）的地址；留空则不通知。"),
    )

    class Meta:
        model = ClientSettings
        fields = ("backchannel_logout_uri", "allowed_scopes", "min_acr", "region_code")

    def clean_allowed_scopes(self) -> str:
        from oauth2_provider.settings import oauth2_settings

        scopes = self.cleaned_data["allowed_scopes"].split()
        unknown = [s for s in scopes if s not in oauth2_settings.SCOPES]
        if unknown:
            raise ValidationError(_("未知的权限范围：%(s)s") % {"s": "、".join(unknown)})
        if "openid" not in scopes:
            raise ValidationError(_("接入平台至少需要 openid 权限范围。"))
        return " ".join(scopes)


class ClientSettingsInline(admin.StackedInline):
    model = ClientSettings
    form = ClientSettingsForm
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name = _("接入平台设置")


if admin.site.is_registered(Application):
    admin.site.unregister(Application)


@admin.register(Application)
class RelyingPartyAdmin(ApplicationAdmin):
    inlines = [ClientSettingsInline]
    list_display = ("name", "client_id", "client_type", "algorithm", "skip_authorization", "created")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "oidc.client_changed" if change else "oidc.client_registered",
            obj,
            summary=f"{'修改' if change else '登记'}接入平台「{obj.name}」",
            detail={"client_id": obj.client_id, "fields": sorted(form.changed_data)},
        )
