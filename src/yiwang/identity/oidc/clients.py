"""Reads about registered clients (city platforms, department systems): the scopes and the
minimum assurance level the back office set in ClientSettings."""

from __future__ import annotations

from oauth2_provider.models import AbstractApplication

from yiwang.identity.models import AssuranceLevel, ClientSettings

# A client registered without ClientSettings gets what the model's defaults give.
DEFAULT_SCOPES = frozenset({"openid", "profile"})


def client_settings(application: AbstractApplication) -> ClientSettings | None:
    try:
        return application.yiwang_settings  # type: ignore[attr-defined]
    except ClientSettings.DoesNotExist:
        return None


def allowed_scopes(application: AbstractApplication | None) -> set[str]:
    cs = client_settings(application) if application is not None else None
    return set(cs.allowed_scopes.split()) if cs else set(DEFAULT_SCOPES)


def min_acr(application: AbstractApplication | None) -> int:
    cs = client_settings(application) if application is not None else None
    return int(cs.min_acr) if cs else int(AssuranceLevel.REGISTERED)
