"""Consent remembered per person and client: asked once, skipped while the requested scopes are
within what was granted, revocable by the person (which also revokes that client's tokens)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from oauth2_provider.models import AbstractApplication, get_access_token_model, get_refresh_token_model

from yiwang.core import audit
from yiwang.identity.models import Company, Consent
from yiwang.identity.oidc.claims import acting_for, person_of


def remembered(user: User, application: AbstractApplication) -> Consent | None:
    return Consent.objects.filter(user=user, application=application).select_related("act_as").first()


def covers(consent: Consent | None, user: User, scopes: list[str]) -> bool:
    """Whether a remembered consent answers this request without asking again."""
    if consent is None or not set(scopes) <= set(consent.scopes.split()):
        return False
    if "company" in scopes and consent.act_as_id is not None:
        # The mandate behind the remembered company may have ended or been revoked since.
        return acting_for(person_of(user), consent.act_as_id) is not None
    return True


@transaction.atomic
def remember(
    user: User, application: AbstractApplication, scopes: list[str], act_as: Company | None
) -> Consent:
    if act_as is not None and acting_for(person_of(user), act_as.pk) is None:
        raise PermissionDenied("not allowed to act for this company")
    consent = Consent.objects.select_for_update().filter(user=user, application=application).first()
    granted = set(scopes) | (set(consent.scopes.split()) if consent else set())
    if consent is None:
        consent = Consent(user=user, application=application)
    consent.scopes = " ".join(sorted(granted))
    consent.act_as = act_as if "company" in scopes else consent.act_as
    consent.save()
    audit.record(
        "oidc.consent_granted",
        consent,
        summary=f"授权应用「{application.name}」：{consent.scopes}",
        detail={
            "client_id": application.client_id,
            "scopes": sorted(granted),
            "act_as": act_as.pk if act_as else None,
        },
    )
    return consent


def list_for(user: User) -> list[Consent]:
    return list(
        Consent.objects.filter(user=user).select_related("application", "act_as").order_by("-granted_at")
    )


@transaction.atomic
def revoke(user: User, consent_id: int) -> None:
    """Forget the consent and revoke the client's tokens for this person: the next login at that
    client asks again. Only the person's own consents can be revoked."""
    consent = Consent.objects.select_for_update().filter(pk=consent_id).select_related("application").first()
    if consent is None or consent.user_id != user.pk:
        raise PermissionDenied("not your consent")
    application = consent.application
    access_tokens = get_access_token_model().objects.filter(user=user, application=application)
    for refresh in get_refresh_token_model().objects.filter(
        user=user, application=application, revoked__isnull=True
    ):
        refresh.revoke()
    for token in access_tokens:
        token.revoke()
    audit.record(
        "oidc.consent_revoked",
        consent,
        summary=f"撤销对应用「{application.name}」的授权",
        detail={"client_id": application.client_id, "scopes": consent.scopes.split()},
    )
    consent.delete()
