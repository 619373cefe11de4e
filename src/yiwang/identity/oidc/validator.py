"""yiwang's OAuth2Validator: per-client scopes, the login context carried from the authorization
request to the tokens, claims (acr, amr, sid, auth_time, masked ID, company acted for), and the
record of which relying party holds an ID token from which province session."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request

from yiwang.core import audit
from yiwang.identity.models import (
    AccountSession,
    IdTokenContext,
    RelyingPartySession,
    UsedAuthorizationCode,
)
from yiwang.identity.oidc.claims import CLAIM_SCOPES, LoginContext, user_claims
from yiwang.identity.oidc.clients import allowed_scopes, min_acr

log = logging.getLogger(__name__)
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

CONTEXT_KEY = "_yiwang"  # inside the grant's stored "claims" JSON: the login context


class YiwangOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- scopes ----------------------------------------------------------------------------------
    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        # A city platform gets only the scopes the back office allowed it.
        return set(scopes) <= allowed_scopes(client)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        defaults = super().get_default_scopes(client_id, request, *args, **kwargs)
        allowed = allowed_scopes(request.client)
        return [s for s in defaults if s in allowed]

    # --- the login context: authorize -> grant -> ID token ----------------------------------------
    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        # The view put the session's login facts on the request (as a credential); the grant's
        # "claims" JSON column carries them to the token request, which has no browser session.
        ctx = getattr(request, "yiwang_context", None)
        if ctx is not None:
            claims = request.claims if isinstance(request.claims, dict) else {}
            request.claims = {**claims, CONTEXT_KEY: ctx}
        super().save_authorization_code(client_id, code, request, *args, **kwargs)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            revoke_tokens_of_replayed_code(code)
            return False
        ctx = self._context(request)
        if ctx is None:
            return True
        # A code from a session that has since been logged out must not yield tokens.
        if not AccountSession.objects.filter(sid=ctx.sid, ended_at__isnull=True).exists():
            log.info("authorization code refused: its session has ended")
            return False
        return ctx.acr >= min_acr(client)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        # Called once the tokens are saved: remember the code with what it yielded, so that a
        # second use can take them back (validate_code above).
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        issued = getattr(request, "_yiwang_issued", {})
        refresh = issued.get("refresh_token")
        UsedAuthorizationCode.objects.get_or_create(
            code_hash=code_hash(code),
            defaults={
                "application": request.client,
                "access_token": issued.get("access_token"),
                "id_token": getattr(request, "id_token", None),
                "token_family": getattr(refresh, "token_family", None),
            },
        )

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            request._yiwang_issued = {
                "access_token": AccessToken.objects.filter(
                    token_checksum=_checksum(token["access_token"])
                ).first(),
                "refresh_token": RefreshToken.objects.filter(
                    token_checksum=_checksum(token["refresh_token"]), revoked__isnull=True
                ).first()
                if token.get("refresh_token")
                else None,
            }

    # --- bearer credentials: access tokens only ---------------------------------------------------
    def validate_jwt_bearer_token(self, token, scopes, request) -> bool:
        # An ID token tells a client who logged in; it is no credential for an API (OIDC Core
        # §2; RFC 9068 needs typ at+jwt). DOT would accept it as a "JWT" bearer token.
        return False

    def validate_id_token(self, token, scopes, request) -> bool:
        return False

    # --- redirect URIs -----------------------------------------------------------------------------
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        # Any port on a loopback address (RFC 8252 §7.3) is for native apps, which are public
        # clients; a confidential client's redirect URI is compared as a string (RFC 9700 §2.1).
        client = request.client
        if client is not None and client.client_type == AbstractApplication.CLIENT_CONFIDENTIAL:
            return redirect_uri in client.redirect_uris.split()
        return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs) -> bool:
        if client.client_type == AbstractApplication.CLIENT_CONFIDENTIAL:
            grant = self._grant(code, client)
            return grant is not None and grant.redirect_uri == redirect_uri
        return super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs)

    def _grant(self, code: str, client):
        from oauth2_provider.models import get_grant_model

        return get_grant_model().objects.filter(code=code, application=client).first()

    def _context(self, request: Request) -> LoginContext | None:
        cached = getattr(request, "_yiwang_ctx", None)
        if cached is not None:
            return cached
        ctx = None
        claims = getattr(request, "claims", None)
        if isinstance(claims, dict) and isinstance(claims.get(CONTEXT_KEY), dict):
            ctx = LoginContext.from_dict(claims[CONTEXT_KEY])
        else:
            stored = self._stored_context(request)
            if stored is not None:
                ctx = LoginContext(
                    sid=stored.account_session.sid if stored.account_session else "",
                    acr=stored.acr,
                    amr=stored.amr.split(),
                    auth_time=int(stored.auth_time.timestamp()) if stored.auth_time else 0,
                    act_as=stored.act_as_id,
                )
        request._yiwang_ctx = ctx
        return ctx

    def _stored_context(self, request: Request) -> IdTokenContext | None:
        """The context saved with an earlier ID token: the one bound to the access token (userinfo)
        or to the refresh token's access token (refresh grant)."""
        candidates = [getattr(request, "access_token", None)]
        refresh = getattr(request, "refresh_token_instance", None)
        if refresh is not None:
            candidates.append(getattr(refresh, "access_token", None))
        for access_token in candidates:
            id_token_id = getattr(access_token, "id_token_id", None)
            if id_token_id:
                stored = (
                    IdTokenContext.objects.select_related("account_session")
                    .filter(id_token_id=id_token_id)
                    .first()
                )
                if stored is not None:
                    return stored
        return None

    # --- prompt=none: the view has already checked the session and the remembered consent ---------
    def validate_silent_authorization(self, request) -> bool:
        return True

    def validate_silent_login(self, request) -> bool:
        return True

    # --- claims ----------------------------------------------------------------------------------
    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        return user_claims(request.user, self._context(request))

    def get_discovery_claims(self, request) -> list[str]:
        return list(CLAIM_SCOPES)

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        ctx = self._context(request)
        if ctx is not None and ctx.auth_time:
            # When the person authenticated, not Django's last_login (which a refresh never moves).
            claims["auth_time"] = ctx.auth_time
        return claims, expiration_time

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        id_token = super()._save_id_token(jti, request, expires, *args, **kwargs)
        ctx = self._context(request)
        if ctx is None:
            return id_token
        account_session = AccountSession.objects.filter(sid=ctx.sid).first()
        with transaction.atomic():
            IdTokenContext.objects.create(
                id_token=id_token,
                account_session=account_session,
                acr=ctx.acr,
                amr=" ".join(ctx.amr)[:64],
                auth_time=datetime.fromtimestamp(ctx.auth_time, tz=UTC) if ctx.auth_time else None,
                act_as_id=ctx.act_as,
                issuer=self.get_oidc_issuer_endpoint(request),
            )
            if account_session is not None and account_session.ended_at is None:
                # Who to tell by back-channel logout when this province session ends.
                RelyingPartySession.objects.get_or_create(
                    account_session=account_session, application=request.client
                )
        return id_token


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def revoke_tokens_of_replayed_code(code: str) -> bool:
    """If ``code`` was already exchanged, revoke every token it yielded (the access token, the
    ID token, the refresh token and every one rotated from it). True when it was a replay."""
    used = UsedAuthorizationCode.objects.filter(code_hash=code_hash(code)).first()
    if used is None:
        return False
    with transaction.atomic():
        if used.token_family:
            RefreshToken.revoke_family(used.token_family)
        if used.access_token_id:
            AccessToken.objects.filter(pk=used.access_token_id).delete()
        if used.id_token is not None:
            used.id_token.revoke()
        audit.record(
            "oidc.code_replayed",
            used.application,
            summary=f"授权码被重复使用，已撤销其签发的令牌（接入平台「{used.application.name}」）",
            detail={"client_id": used.application.client_id, "used_at": used.used_at.isoformat()},
        )
    log.warning("authorization code replayed: tokens of client %s revoked", used.application.client_id)
    return True


def purge_used_codes(now: datetime | None = None) -> int:
    """Forget used codes whose tokens are dead by now anyway (the refresh token's lifetime after
    the access token's): a replay after that has nothing left to revoke and fails all the same."""
    now = now or timezone.now()
    keep = timedelta(
        seconds=int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        + int(oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0)
    )
    deleted, _ = UsedAuthorizationCode.objects.filter(used_at__lt=now - keep).delete()
    return deleted
