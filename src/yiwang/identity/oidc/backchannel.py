"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a province session ends,
every relying party that received an ID token in it gets a logout token, POSTed server to server.

The logout token is a JWT signed with the ID-token key (RS256), header ``typ: logout+jwt``,
claims iss, aud (client id), iat, exp (2 minutes), jti, sub, sid and the
``http://schemas.openid.net/event/backchannel-logout`` event, and never a nonce (spec §2.4).
A failed delivery is recorded and retried by a task; it never breaks the logout itself.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone
from jwcrypto import jwt
from oauth2_provider.models import AbstractApplication, get_access_token_model, revoke_access_token
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from yiwang.core import audit
from yiwang.identity.models import AccountSession, IdTokenContext, RelyingPartySession
from yiwang.identity.oidc.clients import client_settings

log = logging.getLogger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120  # seconds; the spec recommends a short lifetime
TIMEOUT = float(getattr(settings, "YIWANG_BACKCHANNEL_TIMEOUT", 3.0))
MAX_ATTEMPTS = 4


def signing_key():
    return jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)


def default_issuer() -> str:
    return oauth2_settings.OIDC_ISS_ENDPOINT or getattr(
        settings, "YIWANG_OIDC_ISSUER", "http://127.0.0.1:8000/o"
    )


def build_logout_token(*, issuer: str, client_id: str, sub: str, sid: str, now: int | None = None) -> str:
    now = int(now or time.time())
    key = signing_key()
    header = {"typ": "logout+jwt", "alg": "RS256", "kid": key.thumbprint()}
    claims = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_TTL,
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "sid": sid,
        "events": {EVENT: {}},
    }
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


@dataclass
class Delivery:
    rp_session_id: int
    client_id: str
    status: str

    @property
    def ok(self) -> bool:
        return self.status.startswith("2")


def _issuer_for(rp: RelyingPartySession) -> str:
    ctx = (
        IdTokenContext.objects.filter(
            account_session_id=rp.account_session_id, id_token__application_id=rp.application_id
        )
        .exclude(issuer="")
        .order_by("-pk")
        .first()
    )
    return ctx.issuer if ctx else default_issuer()


def deliver(rp: RelyingPartySession) -> Delivery:
    """Send one logout token; record and return the outcome (HTTP status or the error's name)."""
    application: AbstractApplication = rp.application
    cs = client_settings(application)
    uri = cs.backchannel_logout_uri if cs else ""
    if not uri:
        return Delivery(rp.pk, application.client_id, "no_uri")
    token = build_logout_token(
        issuer=_issuer_for(rp),
        client_id=application.client_id,
        sub=str(rp.account_session.user_id),
        sid=rp.account_session.sid,
    )
    try:
        response = requests.post(
            uri,
            data={"logout_token": token},
            timeout=TIMEOUT,
            allow_redirects=False,
            headers={"Cache-Control": "no-store"},
        )
        status = str(response.status_code)
    except requests.RequestException as exc:
        status = type(exc).__name__[:32]
    RelyingPartySession.objects.filter(pk=rp.pk).update(logout_sent_at=timezone.now(), logout_status=status)
    delivery = Delivery(rp.pk, application.client_id, status)
    if not delivery.ok:
        log.warning("back-channel logout to %s failed: %s", application.client_id, status)
    return delivery


def revoke_session_tokens(account_session: AccountSession) -> int:
    """Tokens issued in an ended session stop working: access tokens whose ID token came from it."""
    id_token_ids = IdTokenContext.objects.filter(account_session=account_session).values_list(
        "id_token_id", flat=True
    )
    count = 0
    for token in get_access_token_model().objects.filter(id_token_id__in=list(id_token_ids)):
        revoke_access_token(token)  # and its refresh token: no new tokens from an ended session
        count += 1
    return count


def notify_logout(account_session: AccountSession) -> list[Delivery]:
    """Tell every relying party of this session that it has ended. Never raises: logout at the
    province must succeed whatever a city platform's server does; failures are retried."""
    deliveries: list[Delivery] = []
    try:
        rps = list(
            RelyingPartySession.objects.filter(account_session=account_session, logout_sent_at__isnull=True)
            .select_related("application", "account_session")
            .order_by("pk")
        )
        for rp in rps:
            try:
                delivery = deliver(rp)
            except Exception:  # a bad key or URL must not stop the other clients' logout
                log.exception("back-channel logout to %s crashed", rp.application.client_id)
                delivery = Delivery(rp.pk, rp.application.client_id, "error")
            if delivery.status != "no_uri":
                deliveries.append(delivery)
            if delivery.status not in ("no_uri",) and not delivery.ok:
                _schedule_retry(rp.pk, attempt=1)
        revoke_session_tokens(account_session)
        if deliveries:
            audit.record(
                "oidc.backchannel_logout",
                account_session,
                summary=f"后端登出通知 {len(deliveries)} 个接入平台",
                detail={"deliveries": [{"client_id": d.client_id, "status": d.status} for d in deliveries]},
            )
    except Exception:
        log.exception("back-channel logout failed for session %s", account_session.pk)
    return deliveries


def _schedule_retry(rp_session_id: int, attempt: int) -> None:
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        # In-process jobs: retrying at once would only repeat the failure inside the logout
        # request; the attempt is recorded (logout_status) and can be resent with the command.
        return
    from yiwang.identity.tasks import retry_backchannel_logout

    retry_backchannel_logout.apply_async(args=[rp_session_id, attempt], countdown=30 * 2**attempt)


def retry(rp_session_id: int, attempt: int) -> Delivery | None:
    rp = (
        RelyingPartySession.objects.select_related("application", "account_session")
        .filter(pk=rp_session_id)
        .first()
    )
    if rp is None:
        return None
    delivery = deliver(rp)
    if not delivery.ok and attempt + 1 < MAX_ATTEMPTS:
        _schedule_retry(rp_session_id, attempt + 1)
    return delivery
