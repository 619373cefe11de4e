"""Identity URLs: /account/ (registration, own data, mandates), /auth/ (login, second factor,
sessions), /o/ (the OpenID Connect provider)."""

from django.urls import include, path

urlpatterns = [
    path("account/", include(("yiwang.identity.urls_accounts", "accounts"))),
    path("auth/", include(("yiwang.identity.urls_auth", "auth"))),
    path("o/", include(("yiwang.identity.urls_oidc", "oauth2_provider"))),
]
