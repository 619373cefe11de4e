"""Token introspection (RFC 7662) for the resource servers registered for it.

A caller authenticates as a client (HTTP Basic, or client_secret_post) and must be registered as
a resource server: ``ClientSettings.introspect_clients`` lists the clients whose tokens it may ask
about. A token of any other client, like an unknown, expired or revoked one, answers
``{"active": false}`` (§2.2), so a caller cannot tell another client's live token from a dead one.
Access tokens and refresh tokens are both described.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OauthlibRequest

from yiwang.identity.oidc.clients import client_settings

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

INACTIVE = {"active": False}


def authenticated_client(request: HttpRequest):
    """The client that authenticated this request with its secret, or None."""
    core = get_oauthlib_core()
    body = urlencode(list(request.POST.items()))
    oauth_request = OauthlibRequest(
        request.build_absolute_uri(), request.method, body, core.extract_headers(request)
    )
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    if not validator.authenticate_client(oauth_request):
        return None
    return oauth_request.client


def introspectable_clients(caller) -> set[str]:
    cs = client_settings(caller)
    return set(cs.introspect_clients.split()) if cs else set()


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _epoch(moment: datetime) -> int:
    return int(calendar.timegm(moment.utctimetuple()))


def _describe(token, *, token_type: str, expires: datetime, iss: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "active": True,
        "scope": token.scope if token_type == "Bearer" else token.access_token.scope,
        "client_id": token.application.client_id,
        "token_type": token_type,
        "exp": _epoch(expires),
        "iss": iss,
    }
    if token.user is not None:
        data["sub"] = str(token.user.pk)
        data["username"] = token.user.get_username()
    return data


def describe(token_value: str, allowed_clients: set[str], iss: str) -> dict[str, Any]:
    """RFC 7662 §2.2 answer for ``token_value`` as seen by a caller allowed ``allowed_clients``."""
    checksum = _checksum(token_value)
    access = AccessToken.objects.select_related("application", "user").filter(token_checksum=checksum).first()
    if access is not None:
        if access.application is None or access.application.client_id not in allowed_clients:
            return INACTIVE
        if not access.is_valid():
            return INACTIVE
        return _describe(access, token_type="Bearer", expires=access.expires, iss=iss)
    refresh = (
        RefreshToken.objects.select_related("application", "user", "access_token")
        .filter(token_checksum=checksum)
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )
    if refresh is None or refresh.application.client_id not in allowed_clients:
        return INACTIVE
    # The rules validate_refresh_token applies: not revoked, still paired with its access token,
    # and REFRESH_TOKEN_EXPIRE_SECONDS after that access token's expiry not yet passed.
    if refresh.revoked is not None or refresh.access_token is None:
        return INACTIVE
    delta = refresh_token_expire_timedelta()
    expires = refresh.access_token.expires + delta if delta else refresh.access_token.expires
    if expires <= timezone.now():
        return INACTIVE
    return _describe(refresh, token_type="refresh_token", expires=expires, iss=iss)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class IntrospectView(View):
    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        from yiwang.identity.oidc.views import basic_challenge, issuer

        caller = authenticated_client(request)
        if caller is None:
            response = JsonResponse({"error": "invalid_client"}, status=401)
            return basic_challenge(request, response)
        allowed = introspectable_clients(caller)
        if not allowed:
            return JsonResponse(
                {
                    "error": "unauthorized_client",
                    "error_description": "this client is not registered as a resource server",
                },
                status=403,
            )
        token_value = request.POST.get("token")
        if not token_value:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "token parameter missing"}, status=400
            )
        response = JsonResponse(describe(token_value, allowed, issuer(request)))
        response["Cache-Control"] = "no-store"
        return response
