"""What the OpenAPI document declares beyond what the routers' signatures give ninja: how to
authenticate (security schemes), and the error answers every operation can give.

- ``bearerAuth``: an access token from yiwang's OpenID Connect provider (``/o/token/``), sent as
  ``Authorization: Bearer <token>``; ``openIdConnect`` names the provider's discovery document.
  Operations that need a token say so with ``openapi_extra={"security": ACCOUNT_SECURITY}``
  (api/routers/account.py); public operations declare no security.
- 429 (``ErrorOut``) on every operation: the per-client throttle covers the whole API
  (api/throttling.py); 422 (``ValidationErrorOut``) on every operation with parameters.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

BEARER = "bearerAuth"
OIDC = "openIdConnect"
# Either the plain bearer token or the OpenID Connect flow that issues it, with the account scope.
ACCOUNT_SECURITY: list[dict[str, list[str]]] = [{BEARER: []}, {OIDC: ["account"]}]
# The exchange API: a bearer token a department system got by client credentials, scope exchange.
EXCHANGE_SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]


def _discovery_url() -> str:
    from django.urls import reverse

    path = reverse("oauth2_provider:oidc-connect-discovery-info")
    issuer = settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT") or ""
    # With a fixed issuer (behind a load balancer) the document is the issuer's; without one the
    # provider answers on whatever host the request reached, so the address stays relative.
    if issuer:
        return f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    return path


def security_schemes() -> dict[str, Any]:
    return {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "yiwang 统一身份认证（OpenID Connect）签发的访问令牌：Authorization: Bearer <访问令牌>。/ "
                "An access token issued by yiwang's OpenID Connect provider (/o/token/)."
            ),
        },
        OIDC: {
            "type": "openIdConnect",
            "openIdConnectUrl": _discovery_url(),
            "description": "授权码 + PKCE 登录获取令牌 / authorization code with PKCE",
        },
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the security schemes and the API-wide error answers to ninja's document."""
    from yiwang.api.errors import ErrorOut, ValidationErrorOut

    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(security_schemes())
    schemas = components.setdefault("schemas", {})
    for model in (ErrorOut, ValidationErrorOut):
        for name, definition in model.model_json_schema(ref_template="#/components/schemas/{model}").items():
            if name == "$defs":
                for sub, sub_definition in definition.items():
                    schemas.setdefault(sub, sub_definition)
        schemas.setdefault(model.__name__, _plain(model))
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                429, _answer("请求过于频繁（见 Retry-After）/ too many requests", "ErrorOut")
            )
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault(422, _answer("参数有误 / invalid parameters", "ValidationErrorOut"))
    return schema


def _plain(model) -> dict[str, Any]:
    definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definition.pop("$defs", None)
    return definition
