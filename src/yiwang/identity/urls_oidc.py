"""The OpenID Connect provider under /o/ (namespace "oauth2_provider", so DOT's own reverse()
calls work): django-oauth-toolkit's endpoints with yiwang's authorization, token, userinfo,
introspection, discovery and logout views, and the person's list of remembered consents."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from yiwang.identity.oidc import views
from yiwang.identity.oidc.introspection import IntrospectView

urlpatterns = [
    path("authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("token/", views.Token.as_view(), name="token"),
    path("revoke_token/", views.RevokeToken.as_view(), name="revoke-token"),
    path("introspect/", IntrospectView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    # RFC 8414 metadata beside the OpenID one; its place also fixes the issuer DOT puts in the
    # `iss` of authorization responses (the base of this URL: https://<host>/o). The root form,
    # /.well-known/oauth-authorization-server/o, is mounted in yiwang/urls.py.
    path(
        ".well-known/oauth-authorization-server",
        dot.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfo.as_view(), name="user-info"),
    path("logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
    path("consents/", views.consent_list, name="consents"),
    path("consents/<id:pk>/revoke/", views.consent_revoke, name="consent-revoke"),
]
