"""Accounts and who may act for whom: people, companies, mandates, staff roles and scopes,
the base registries used for real-name verification, second factors, login throttling,
tracked sessions and the OpenID Connect clients' extra settings.

Personal data (ID numbers, phones, TOTP secrets) is stored encrypted (``identity.crypto``)
with a keyed hash beside it for exact lookup and a masked form for display; no plain value is
ever written to the database or a log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider import models as dot_models


class Role(models.TextChoices):
    COUNTER_CLERK = "counter_clerk", _("窗口受理人员")
    APPROVER = "approver", _("审批人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    CATALOGUE_ADMIN = "catalogue_admin", _("事项管理员")
    SUPERVISOR = "supervisor", _("监察人员")
    DATA_ADMIN = "data_admin", _("数据管理员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class StaffRole(models.Model):
    """A role held by a staff account, scoped to a region (and everything below it) and,
    optionally, to one department kind or one department."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("区划范围"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("含下级区划；留空表示全省"),
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空表示区划内所有部门"),
    )
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作人员角色")
        verbose_name_plural = _("工作人员角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region", "department"], name="staff_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"


class AssuranceLevel(models.IntegerChoices):
    """How sure the platform is that the account is who it says (carried as ``acr``)."""

    REGISTERED = 1, _("已注册（未实名）")
    VERIFIED = 2, _("已实名核验")
    TWO_FACTOR = 3, _("实名核验并通过第二因素认证")


ACR_URIS = {
    AssuranceLevel.REGISTERED: "urn:yiwang:acr:1",
    AssuranceLevel.VERIFIED: "urn:yiwang:acr:2",
    AssuranceLevel.TWO_FACTOR: "urn:yiwang:acr:3",
}


class Person(models.Model):
    """A natural person's account (自然人). The Django user holds the login; this holds who they are."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    name = models.CharField(_("姓名"), max_length=64)
    id_number_cipher = models.TextField(_("身份证号（密文）"))
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField(_("身份证号"), max_length=18)
    phone_cipher = models.TextField(_("手机号（密文）"), blank=True)
    phone_hash = models.CharField(max_length=64, db_index=True, blank=True)
    phone_masked = models.CharField(_("手机号"), max_length=11, blank=True)
    # No clear birth date or region: with the masked number they rebuilt the ID number.
    # ``services.birth_date_of`` / ``region_code_of`` derive them from the decrypted number.
    phone_verified_at = models.DateTimeField(_("手机号验证时间"), null=True, blank=True)
    assurance_level = models.PositiveSmallIntegerField(
        _("认证等级"), choices=AssuranceLevel.choices, default=AssuranceLevel.REGISTERED
    )
    verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)
    key_id = models.CharField(max_length=16, help_text="encryption key id of the ciphertexts (rotation)")
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class Company(models.Model):
    """A legal person (法人). Companies have no login of their own: people act for them, the
    legal representative by right, others through a mandate."""

    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    legal_representative = models.ForeignKey(
        Person, verbose_name=_("法定代表人"), on_delete=models.PROTECT, related_name="represented_companies"
    )
    region_code = models.CharField(_("登记地区划代码"), max_length=6, blank=True)
    verified_at = models.DateTimeField(_("法人核验时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")

    def __str__(self) -> str:
        return self.name


class Mandate(models.Model):
    """A person acting for a company (经办人授权), within a scope and a period, revocable."""

    company = models.ForeignKey(
        Company, verbose_name=_("法人"), on_delete=models.CASCADE, related_name="mandates"
    )
    agent = models.ForeignKey(
        Person, verbose_name=_("经办人"), on_delete=models.CASCADE, related_name="mandates_received"
    )
    all_items = models.BooleanField(_("全部事项"), default=False)
    standard_items = models.ManyToManyField(
        "catalog.StandardItem", verbose_name=_("授权事项"), blank=True, related_name="mandates"
    )
    starts_at = models.DateTimeField(_("生效时间"))
    ends_at = models.DateTimeField(_("截止时间"))
    granted_by = models.ForeignKey(
        Person, verbose_name=_("授权人"), on_delete=models.PROTECT, related_name="mandates_granted"
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        Person, verbose_name=_("撤销人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("经办人授权")
        verbose_name_plural = _("经办人授权")
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["agent", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.company} → {self.agent.name}"


class PopulationRecord(models.Model):
    """人口库: the population registry as yiwang holds it (synthetic in the demo). Real-name
    verification goes through ``identity.registries``, which a real registry service replaces.

    Only keyed hashes and a masked number: no clear birth date or region (they rebuilt the
    number with the masked form), and the phone registered to the person (the real-name phone,
    实名手机号) as a keyed hash, so a registration can be checked against it, never read."""

    name = models.CharField(_("姓名"), max_length=64)
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField(_("身份证号"), max_length=18)
    phone_hash = models.CharField(max_length=64, blank=True)
    deceased = models.BooleanField(_("已注销户籍"), default=False)

    class Meta:
        verbose_name = _("人口库记录")
        verbose_name_plural = _("人口库记录")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class ChallengePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    PHONE = "phone", _("验证手机号")


class PhoneChallenge(models.Model):
    """A one-time code sent by SMS (``identity.sms``) to prove control of a phone.

    The code is stored as a keyed hash bound to the challenge's token, expires, and allows a
    few attempts. A registration's typed data waits in ``payload_cipher`` (encrypted, the
    password already hashed) until the code is confirmed. A challenge whose ``code_hash`` is
    empty was answered without sending a code (the details did not match the registry, or the
    ID number has an account): it looks and fails exactly like a live one, so the page never
    tells a stranger which case it was.
    """

    token = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=ChallengePurpose.choices)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    code_hash = models.CharField(max_length=64, blank=True)
    payload_cipher = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class FakeSmsMessage(models.Model):
    """What the FAKE SMS gateway (``identity.sms.FakeSmsGateway``) was given, for the demo page
    "演示短信（假网关）" and tests. Used only when ``YIWANG_FAKE_SMS`` is on; the phone is kept
    as a keyed hash and a masked form, the text encrypted."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    phone_masked = models.CharField(max_length=11)
    text_cipher = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("演示短信（假网关）")
        verbose_name_plural = _("演示短信（假网关）")
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phone_masked} {self.sent_at:%H:%M:%S}"


class LegalEntityRecord(models.Model):
    """法人库: the legal-entity registry (synthetic in the demo)."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    legal_representative_name = models.CharField(_("法定代表人姓名"), max_length=64)
    legal_representative_id_hash = models.CharField(max_length=64, db_index=True)
    region_code = models.CharField(_("登记地区划代码"), max_length=6)
    registered_on = models.DateField(_("成立日期"))
    status = models.CharField(_("登记状态"), max_length=16, default="active")  # active, revoked, cancelled

    class Meta:
        verbose_name = _("法人库记录")
        verbose_name_plural = _("法人库记录")

    def __str__(self) -> str:
        return self.name


class TotpDevice(models.Model):
    """A TOTP second factor (RFC 6238). The secret is encrypted; ``last_step`` stops a code
    from being used twice."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret_cipher = models.TextField()
    key_id = models.CharField(max_length=16)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")

    def __str__(self) -> str:
        return f"TOTP {self.user}"


class LoginThrottle(models.Model):
    """Failed-login counter for one account or one client IP (keyed hash, never the raw value).

    A lock is a cool-off that ends by itself, so an attacker cannot lock a person out for good.
    """

    scope = models.CharField(max_length=8)  # "account" or "ip"
    key_hash = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key_hash"], name="login_throttle_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key_hash[:8]}"


class AccountSession(models.Model):
    """A login session the person can see and end ("log out everywhere"). ``sid`` is the
    OpenID session id given to relying parties, so back-channel logout can name it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    sid = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    acr = models.PositiveSmallIntegerField(choices=AssuranceLevel.choices, default=AssuranceLevel.REGISTERED)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class ClientSettings(models.Model):
    """What yiwang adds to a django-oauth-toolkit Application (a city platform, a department
    system): back-channel logout, allowed scopes, minimum assurance level."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="yiwang_settings"
    )
    backchannel_logout_uri = models.URLField(_("后端登出地址"), blank=True)
    allowed_scopes = models.CharField(
        _("允许的权限范围"), max_length=300, default="openid profile", help_text=_("以空格分隔")
    )
    min_acr = models.PositiveSmallIntegerField(
        _("最低认证等级"), choices=AssuranceLevel.choices, default=AssuranceLevel.REGISTERED
    )
    region_code = models.CharField(_("所属区划"), max_length=12, blank=True)
    # Token introspection (RFC 7662) is for resource servers only, and each one learns about the
    # tokens of the clients it serves, never of any other client.
    introspect_clients = models.CharField(
        _("可内省其令牌的接入平台"),
        max_length=500,
        blank=True,
        help_text=_(
            "资源服务器专用：可通过令牌内省接口查询其令牌的接入平台 client_id，以空格分隔；留空则不能调用令牌内省。"
        ),
    )

    class Meta:
        verbose_name = _("接入平台设置")
        verbose_name_plural = _("接入平台设置")

    def __str__(self) -> str:
        return str(self.application)


class RelyingPartySession(models.Model):
    """A relying party that received an ID token in an account session: who to notify on logout."""

    account_session = models.ForeignKey(AccountSession, on_delete=models.CASCADE, related_name="rp_sessions")
    application = models.ForeignKey("oauth2_provider.Application", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    logout_sent_at = models.DateTimeField(null=True, blank=True)
    logout_status = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_session", "application"], name="rp_session_unique")
        ]

    def __str__(self) -> str:
        return f"{self.application} in {self.account_session}"


class Consent(models.Model):
    """Consent remembered per person and client, for the scopes granted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    application = models.ForeignKey("oauth2_provider.Application", on_delete=models.CASCADE, related_name="+")
    scopes = models.CharField(max_length=300)
    # The company chosen at consent for the "company" scope (an employee acting for it).
    act_as = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "application"], name="consent_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}: {self.scopes}"


class UsedAuthorizationCode(models.Model):
    """An authorization code already exchanged for tokens, kept as a hash with what it yielded:
    a second use of the code is refused and revokes those tokens (RFC 6749 §4.1.2)."""

    code_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the code, hex
    application = models.ForeignKey("oauth2_provider.Application", on_delete=models.CASCADE, related_name="+")
    access_token = models.ForeignKey(
        settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    id_token = models.ForeignKey(
        settings.OAUTH2_PROVIDER_ID_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Every refresh token rotated from the first one shares this family: all of them go.
    token_family = models.UUIDField(null=True, blank=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"code used by {self.application} at {self.used_at}"


class IdTokenContext(models.Model):
    """How the person behind an ID token logged in (acr, amr, auth_time, session) and which
    company they act for: kept beside DOT's IDToken so userinfo answers with the same claims
    as the ID token, long after the browser session that produced it."""

    id_token = models.OneToOneField(
        settings.OAUTH2_PROVIDER_ID_TOKEN_MODEL, on_delete=models.CASCADE, related_name="yiwang_context"
    )
    account_session = models.ForeignKey(
        AccountSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acr = models.PositiveSmallIntegerField(choices=AssuranceLevel.choices, default=AssuranceLevel.REGISTERED)
    amr = models.CharField(max_length=64, blank=True)  # space separated, e.g. "pwd otp"
    auth_time = models.DateTimeField(null=True, blank=True)
    act_as = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The "iss" the relying party saw, so its logout token names the same issuer even when the
    # logout happens outside any request (a command, a timeout sweep).
    issuer = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"context of ID token {self.id_token_id}"


# Django OAuth Toolkit's models under Chinese names in the back office. DOT gives them English
# names only; these proxies (no table of their own) carry the Chinese ones and are what the
# admin registers (identity/admin_clients.py), so the library stays unpatched.
class OAuthClient(dot_models.Application):
    class Meta:
        proxy = True
        verbose_name = _("接入平台（OAuth 应用）")
        verbose_name_plural = _("接入平台（OAuth 应用）")


class OAuthAccessToken(dot_models.AccessToken):
    class Meta:
        proxy = True
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")


class OAuthRefreshToken(dot_models.RefreshToken):
    class Meta:
        proxy = True
        verbose_name = _("刷新令牌")
        verbose_name_plural = _("刷新令牌")


class OAuthGrant(dot_models.Grant):
    class Meta:
        proxy = True
        verbose_name = _("授权码")
        verbose_name_plural = _("授权码")


class OAuthIDToken(dot_models.IDToken):
    class Meta:
        proxy = True
        verbose_name = _("身份令牌（ID Token）")
        verbose_name_plural = _("身份令牌（ID Token）")
