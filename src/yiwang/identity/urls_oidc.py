"""The OpenID Connect provider under /o/ (namespace "oauth2_provider", so DOT's own reverse()
calls work): django-oauth-toolkit's endpoints with yiwang's authorization, discovery and logout
views, and the person's list of remembered consents."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from yiwang.identity.oidc import views

urlpatterns = [
    path("authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("token/", dot.TokenView.as_view(), name="token"),
    path("revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", dot.IntrospectTokenView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
    path("consents/", views.consent_list, name="consents"),
    path("consents/<id:pk>/revoke/", views.consent_revoke, name="consent-revoke"),
]
