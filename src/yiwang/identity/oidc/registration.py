"""Registering a relying party (a city platform) as an OIDC client with yiwang's settings."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.models import AbstractApplication, get_application_model

from yiwang.core import audit
from yiwang.identity.models import AssuranceLevel, ClientSettings

Application = get_application_model()

MIN_SECRET_LENGTH = 32  # client secrets are stored with one hash round (identity/oidc/hashers.py)


@transaction.atomic
def register_client(
    *,
    client_id: str,
    client_secret: str,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    backchannel_logout_uri: str = "",
    allowed_scopes: str = "openid profile",
    min_acr: int = AssuranceLevel.REGISTERED,
    region_code: str = "",
    skip_authorization: bool = False,
) -> AbstractApplication:
    """Create or update a confidential authorization-code client signing ID tokens with RS256.
    Running it again with the same client id updates it (a demo can be re-registered)."""
    if len(client_secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"client secret must be at least {MIN_SECRET_LENGTH} random characters")
    for field, value in (("client_id", client_id), ("name", name)):
        limit = Application._meta.get_field(field).max_length
        if not value.strip() or len(value) > limit:
            raise ValueError(f"{field} must be 1 to {limit} characters")
    app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
    created = app.pk is None
    app.name = name
    app.client_secret = client_secret  # hashed on save
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = " ".join(redirect_uris)
    app.post_logout_redirect_uris = " ".join(post_logout_redirect_uris)
    app.algorithm = Application.RS256_ALGORITHM
    app.skip_authorization = skip_authorization
    app.save()
    ClientSettings.objects.update_or_create(
        application=app,
        defaults={
            "backchannel_logout_uri": backchannel_logout_uri,
            "allowed_scopes": allowed_scopes,
            "min_acr": min_acr,
            "region_code": region_code,
        },
    )
    audit.record(
        "oidc.client_registered" if created else "oidc.client_changed",
        app,
        summary=f"登记接入平台「{name}」",
        detail={"client_id": client_id, "redirect_uris": redirect_uris, "scopes": allowed_scopes.split()},
    )
    return app
