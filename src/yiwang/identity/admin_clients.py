"""Back office: relying parties (city platforms, department systems) as OIDC clients, each with
yiwang's settings inline: back-channel logout URI, allowed scopes, minimum assurance level."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import (
    AccessTokenAdmin,
    ApplicationAdmin,
    GrantAdmin,
    IDTokenAdmin,
    RefreshTokenAdmin,
)
from oauth2_provider.forms import ApplicationForm
from oauth2_provider.models import (
    AccessToken,
    Grant,
    IDToken,
    RefreshToken,
    get_application_model,
    revoke_access_token,
)

from yiwang.core import audit

from .models import (
    ClientSettings,
    OAuthAccessToken,
    OAuthClient,
    OAuthGrant,
    OAuthIDToken,
    OAuthRefreshToken,
)
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


def titled(base: type[admin.FieldListFilter], title) -> type[admin.FieldListFilter]:
    """A list filter of ``base`` headed ``title``: DOT's fields carry English verbose names."""

    class Titled(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class _Columns:
    """DOT's fields under Chinese column headers."""

    @admin.display(description=_("编号"), ordering="pk")
    def number(self, obj) -> int:
        return obj.pk

    @admin.display(description=_("用户"), ordering="user")
    def user_name(self, obj) -> str:
        return obj.user.get_username() if obj.user_id else "—"

    @admin.display(description=_("接入平台"), ordering="application__name")
    def client(self, obj) -> str:
        return str(obj.application) if obj.application_id else "—"

    @admin.display(description=_("过期时间"), ordering="expires")
    def expires_at(self, obj):
        return obj.expires


# DOT's models are shown through the Chinese-named proxies (identity.models) instead.
for _model in (Application, AccessToken, Grant, IDToken, RefreshToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(OAuthClient)
class RelyingPartyAdmin(_Columns, ApplicationAdmin):
    form = RelyingPartyForm
    inlines = [ClientSettingsInline]
    list_display = ("name", "client_identifier", "kind", "algorithm", "trusted", "created_at")
    list_filter = (
        ("client_type", titled(admin.ChoicesFieldListFilter, _("客户端类型"))),
        ("authorization_grant_type", titled(admin.ChoicesFieldListFilter, _("授权方式"))),
        ("skip_authorization", titled(admin.BooleanFieldListFilter, _("免用户确认"))),
        ("registration_source", titled(admin.ChoicesFieldListFilter, _("登记来源"))),
    )

    @admin.display(description=_("客户端标识（client_id）"), ordering="client_id")
    def client_identifier(self, obj) -> str:
        return obj.client_id

    @admin.display(description=_("客户端类型"), ordering="client_type")
    def kind(self, obj) -> str:
        return obj.get_client_type_display()

    @admin.display(description=_("免用户确认"), boolean=True, ordering="skip_authorization")
    def trusted(self, obj) -> bool:
        return obj.skip_authorization

    @admin.display(description=_("登记时间"), ordering="created")
    def created_at(self, obj):
        return obj.created

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "oidc.client_changed" if change else "oidc.client_registered",
            obj,
            summary=f"{'修改' if change else '登记'}接入平台「{obj.name}」",
            detail={"client_id": obj.client_id, "fields": sorted(form.changed_data)},
        )


_BY_CLIENT = (("application", titled(admin.RelatedFieldListFilter, _("接入平台"))),)


@admin.register(OAuthAccessToken)
class AccessTokenChineseAdmin(_Columns, AccessTokenAdmin):
    list_display = ("number", "masked_token", "user_name", "client", "expires_at")
    list_filter = _BY_CLIENT
    actions = ("revoke_tokens",)

    @admin.display(description=_("令牌"))
    def masked_token(self, obj):
        return super().masked_token(obj)

    @admin.action(description=_("吊销所选访问令牌"))
    def revoke_tokens(self, request, queryset):
        # DOT's shared revoke path (the bound refresh token too), with a Chinese message.
        revoked = 0
        for access_token in queryset:
            revoke_access_token(access_token)
            revoked += 1
        self.message_user(request, _("已吊销 %(n)s 个访问令牌。") % {"n": revoked})


@admin.register(OAuthRefreshToken)
class RefreshTokenChineseAdmin(_Columns, RefreshTokenAdmin):
    list_display = ("number", "masked_token", "user_name", "client")
    list_filter = _BY_CLIENT
    actions = ("revoke_tokens",)

    @admin.display(description=_("令牌"))
    def masked_token(self, obj):
        return super().masked_token(obj)

    @admin.action(description=_("吊销所选刷新令牌"))
    def revoke_tokens(self, request, queryset):
        # RefreshToken.revoke() revokes the bound access token and keeps the revoked tombstone.
        revoked = 0
        for refresh_token in queryset:
            refresh_token.revoke()
            revoked += 1
        self.message_user(request, _("已吊销 %(n)s 个刷新令牌。") % {"n": revoked})


@admin.register(OAuthGrant)
class GrantChineseAdmin(_Columns, GrantAdmin):
    list_display = ("number", "masked_code", "client", "user_name", "expires_at")

    @admin.display(description=_("授权码"))
    def masked_code(self, obj):
        return super().masked_code(obj)


@admin.register(OAuthIDToken)
class IDTokenChineseAdmin(_Columns, IDTokenAdmin):
    list_display = ("token_id", "user_name", "client", "expires_at")
    list_filter = _BY_CLIENT

    @admin.display(description=_("令牌编号（jti）"), ordering="jti")
    def token_id(self, obj):
        return obj.jti
