"""/api/account/: the account's own data for a relying party holding an access token with the
"account" scope (OAuth 2.0 Bearer, issued by yiwang's OpenID Connect provider at /o/token/)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from oauth2_provider.oauth2_backends import get_oauthlib_core

from yiwang.api.errors import ErrorOut
from yiwang.api.openapi import ACCOUNT_SECURITY
from yiwang.core import audit
from yiwang.identity.oidc import account_data

account_router = Router(tags=["account 本人账户"])

SCOPE = "account"


class CompanyOut(Schema):
    name: str
    credit_code: str
    role: str
    scope: str | list[str]
    ends_at: str | None = None


class MandateOut(Schema):
    company: str
    credit_code: str
    scope: str | list[str]
    starts_at: str | None
    ends_at: str | None
    status: str


class AccountOut(Schema):
    username: str
    name: str
    id_number_masked: str | None
    phone_masked: str | None
    assurance_level: int
    assurance_label: str
    verified_at: str | None
    companies: list[CompanyOut]
    mandates_received: list[MandateOut]


class SessionOut(Schema):
    id: int
    created_at: str | None
    last_seen_at: str | None
    acr: int
    ip: str
    user_agent: str


def _bearer(request: HttpRequest, scope: str):
    """The request's access token if valid and carrying ``scope``; else the 401/403 answer."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        response = JsonResponse({"detail": _("缺少或无效的访问令牌，请重新登录后获取。")}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return None, response
    token = oauth_request.access_token
    if not token.allow_scopes([scope]):
        response = JsonResponse(
            {"detail": _("访问令牌未获得“%(scope)s”权限范围。") % {"scope": scope}}, status=403
        )
        response["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
        return None, response
    return token, None


_AUTH_DOC = (
    "需要 Authorization: Bearer <访问令牌>，令牌须含 account 权限范围（401：令牌无效；403：权限范围不足）。"
)


@account_router.get(
    "/me",
    response={200: AccountOut, 401: ErrorOut, 403: ErrorOut},
    summary="本人账户信息（脱敏）/ own account, masked",
    description=_AUTH_DOC,
    openapi_extra={"security": ACCOUNT_SECURITY},
)
def me(request: HttpRequest):
    token, error = _bearer(request, SCOPE)
    if error:
        return error
    audit.record(
        "api.account.read",
        token.user,
        summary=f"接入平台「{token.application.name}」读取本人账户信息",
        detail={"client_id": token.application.client_id, "what": "me"},
    )
    return account_data.overview(token.user)


@account_router.get(
    "/sessions",
    response={200: list[SessionOut], 401: ErrorOut, 403: ErrorOut},
    summary="本人有效登录会话 / own active sessions",
    description=_AUTH_DOC,
    openapi_extra={"security": ACCOUNT_SECURITY},
)
def sessions(request: HttpRequest):
    token, error = _bearer(request, SCOPE)
    if error:
        return error
    audit.record(
        "api.account.read",
        token.user,
        summary=f"接入平台「{token.application.name}」读取本人登录会话",
        detail={"client_id": token.application.client_id, "what": "sessions"},
    )
    return account_data.sessions(token.user)
