"""yiwang's OAuth2Validator: per-client scopes, the login context carried from the authorization
request to the tokens, claims (acr, amr, sid, auth_time, masked ID, company acted for), and the
record of which relying party holds an ID token from which province session."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request

from yiwang.identity.models import AccountSession, IdTokenContext, RelyingPartySession
from yiwang.identity.oidc.claims import CLAIM_SCOPES, LoginContext, user_claims
from yiwang.identity.oidc.clients import allowed_scopes, min_acr

log = logging.getLogger(__name__)

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
            return False
        ctx = self._context(request)
        if ctx is None:
            return True
        # A code from a session that has since been logged out must not yield tokens.
        if not AccountSession.objects.filter(sid=ctx.sid, ended_at__isnull=True).exists():
            log.info("authorization code refused: its session has ended")
            return False
        return ctx.acr >= min_acr(client)

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
