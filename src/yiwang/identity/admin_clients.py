"""Back office: relying parties (city platforms, department systems) as OIDC clients, each with
yiwang's settings inline: back-channel logout URI, allowed scopes, minimum assurance level."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.forms import ApplicationForm
from oauth2_provider.models import get_application_model

from yiwang.core import audit

from .models import ClientSettings
from .oidc.registration import MIN_SECRET_LENGTH

Application = get_application_model()


class RelyingPartyForm(ApplicationForm):
    """DOT's application form, held to what the provider serves: the authorization-code grant
    (with refresh tokens), RS256 ID tokens, and client secrets long enough to stand one hash round
    (identity/oidc/hashers.py)."""

    class Meta:
        model = Application
        fields = "__all__"

    def clean_authorization_grant_type(self) -> str:
        grant_type = self.cleaned_data["authorization_grant_type"]
        if grant_type != Application.GRANT_AUTHORIZATION_CODE:
            raise ValidationError(_("本平台只提供授权码模式（authorization code + PKCE）。"))
        return grant_type

    def clean_algorithm(self) -> str:
        algorithm = self.cleaned_data["algorithm"]
        if algorithm != Application.RS256_ALGORITHM:
            raise ValidationError(_("身份令牌只以 RS256 签名。"))
        return algorithm

    def clean_client_secret(self) -> str:
        secret = self.cleaned_data.get("client_secret") or ""
        # An unchanged secret of a saved client is its stored hash: nothing to measure.
        if self.instance.pk and "client_secret" not in self.changed_data:
            return secret
        confidential = self.data.get("client_type") == Application.CLIENT_CONFIDENTIAL
        if (secret or confidential) and len(secret) < MIN_SECRET_LENGTH:
            raise ValidationError(
                _("客户端密钥至少 %(n)d 个随机字符。") % {"n": MIN_SECRET_LENGTH}, code="too_short"
            )
        return secret


class ClientSettingsForm(ModelForm):
    backchannel_logout_uri = forms.URLField(
        label=_("后端登出地址"),
        required=False,
        assume_scheme="https",
        help_text=_("接入平台接收登出令牌（logout+jwt）的地址；留空则不通知。"),
    )

    class Meta:
        model = ClientSettings
        fields = ("backchannel_logout_uri", "allowed_scopes", "min_acr", "region_code", "introspect_clients")

    def clean_allowed_scopes(self) -> str:
        from oauth2_provider.settings import oauth2_settings

        scopes = self.cleaned_data["allowed_scopes"].split()
        unknown = [s for s in scopes if s not in oauth2_settings.SCOPES]
        if unknown:
            raise ValidationError(_("未知的权限范围：%(s)s") % {"s": "、".join(unknown)})
        if "openid" not in scopes:
            raise ValidationError(_("接入平台至少需要 openid 权限范围。"))
        return " ".join(scopes)

    def clean_introspect_clients(self) -> str:
        client_ids = self.cleaned_data["introspect_clients"].split()
        known = set(Application.objects.filter(client_id__in=client_ids).values_list("client_id", flat=True))
        unknown = [c for c in client_ids if c not in known]
        if unknown:
            raise ValidationError(_("未登记的接入平台：%(s)s") % {"s": "、".join(unknown)})
        return " ".join(client_ids)


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
    form = RelyingPartyForm
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
