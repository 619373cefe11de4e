"""Writes of department system clients (部门系统接入) of the exchange API.

A department's data administrator registers a system of their department as an OAuth 2.0
confidential client with the client credentials grant and the one scope ``exchange``; the
secret is generated here and handed back once (it is stored hashed, as every client secret).
What the system may read is decided on each call by its department's live grants
(``grant_selectors.live_grant``), so a grant revoked or expired takes effect at once, not when a
token with per-grant scopes runs out. Revoking a client deletes its tokens and replaces its
secret with one nobody knows; the row stays, for the log's client ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model, get_application_model

from yiwang.core import audit, security
from yiwang.core.errors import FieldError, NotPermitted, ValidationFailed
from yiwang.identity.models import ClientSettings
from yiwang.regions.models import Department

from . import catalogue_selectors
from .models import ExchangeClient

SCOPE = "exchange"
AnyUser = AbstractBaseUser | AnonymousUser | None
NAME_MAX = 100


@dataclass(frozen=True)
class NewClient:
    client: ExchangeClient
    client_id: str
    client_secret: str  # shown once; only its hash is stored


def _check_rate(rate: str) -> str:
    rate = (rate or "").strip()
    if not rate:
        return ""
    try:
        count, seconds = security.parse_rate(rate)
    except (ValueError, KeyError):
        count = seconds = 0
    if count <= 0 or seconds <= 0:
        raise ValidationFailed(
            [FieldError("rate_limit", _("频率格式应为“次数/单位”，如 600/m、20/s、10000/h。"))]
        )
    return rate


def create_client(user: AnyUser, department: Department, *, name: str, rate_limit: str = "") -> NewClient:
    """Register a system of ``department``; ``user`` must be one of its data administrators
    (None: the command line, run by the platform's operators). Returns the secret once."""
    name = (name or "").strip()
    errors = []
    if not name:
        errors.append(FieldError("name", _("请填写系统名称。")))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", _("系统名称不能超过 %(n)s 个字。") % {"n": NAME_MAX}))
    try:
        rate = _check_rate(rate_limit)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        rate = ""
    if user is not None and not catalogue_selectors.is_data_admin_of(user, department, fresh=True):
        raise NotPermitted(_("只有本部门的数据管理员可以登记部门系统。"))
    if errors:
        raise ValidationFailed(errors)
    Application = get_application_model()
    client_id = "dx-" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(36)
    with transaction.atomic():
        app = Application(
            client_id=client_id,
            client_secret=secret,  # hashed on save
            name=f"{department.name}·{name}"[:255],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            redirect_uris="",
            user=None,
        )
        app.save()
        ClientSettings.objects.create(application=app, allowed_scopes=SCOPE)
        client = ExchangeClient.objects.create(
            application=app,
            department=department,
            name=name,
            rate_limit=rate,
            created_by_id=user.pk if user is not None else None,
        )
        audit.record(
            "exchange.client.create",
            client,
            summary=f"登记部门系统「{name}」（{department.name}）",
            detail={"client_id": client_id, "department": department.pk, "rate_limit": rate or "default"},
        )
    return NewClient(client, client_id, secret)


def revoke_client(user: AnyUser, client_id: int) -> ExchangeClient:
    """Stop a client: its tokens are deleted and its secret replaced by one nobody knows."""
    with transaction.atomic():
        client = (
            ExchangeClient.objects.select_for_update(of=("self",))
            .select_related("department__region", "application")
            .get(pk=client_id)
        )
        if user is not None and not catalogue_selectors.is_data_admin_of(user, client.department, fresh=True):
            raise NotPermitted(_("只有本部门的数据管理员可以停用部门系统。"))
        if client.revoked_at is not None:
            raise ValidationFailed([FieldError("", _("该系统已停用。"))])
        app = client.application
        app.client_secret = secrets.token_urlsafe(36)
        app.save(update_fields=["client_secret"])
        tokens = get_access_token_model().objects.filter(application=app)
        checksums = list(tokens.values_list("token_checksum", flat=True))
        tokens.delete()
        forget_tokens(checksums)
        transaction.on_commit(lambda: forget_tokens(checksums))
        ClientSettings.objects.filter(application=app).update(allowed_scopes="")
        client.revoked_at = timezone.now()
        client.revoked_by_id = user.pk if user is not None else None
        client.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "exchange.client.revoke",
            client,
            summary=f"停用部门系统「{client.name}」（{client.department.name}）",
            detail={"client_id": app.client_id, "department": client.department_id},
        )
    return client


# --- the token -> client cache of the exchange API -----------------------------------------------
#
# Every API call names its client by a bearer token; checking it (the token row, its application,
# the client row with its department) is the same answer for the token's whole life unless the
# client is revoked. So a checked token's client is kept in the default cache for at most
# ``YIWANG_EXCHANGE_TOKEN_CACHE_SECONDS`` (30; 0 turns it off) and never past the token's expiry.
# ``revoke_client`` deletes the entries of the client's tokens, before and after its commit.
# Where the default cache is each process's own memory (no REDIS_URL), only the revoking process
# forgets at once; the others keep the client until the entry's seconds run out, so that is the
# most a revoked client's token can still be served there.


def _token_key(checksum: str) -> str:
    return f"exchange:token:{checksum}"


def token_checksum(raw_token: str) -> str:
    """The checksum django-oauth-toolkit stores for a token (sha256 of the raw token)."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def _cache_seconds() -> int:
    return int(getattr(settings, "YIWANG_EXCHANGE_TOKEN_CACHE_SECONDS", 30))


def cached_client(raw_token: str) -> ExchangeClient | None:
    """The client a token was checked for, while its cache entry and the token are both live."""
    if not raw_token or _cache_seconds() <= 0:
        return None
    entry = cache.get(_token_key(token_checksum(raw_token)))
    if entry is None:
        return None
    client, expires_at = entry
    return client if expires_at > time.time() else None


def remember_client(raw_token: str, client: ExchangeClient, token_expires: dt.datetime) -> None:
    """Keep the checked client of a valid ``exchange`` token (see above for how long)."""
    seconds = min(_cache_seconds(), int(token_expires.timestamp() - time.time()))
    if seconds > 0:
        cache.set(_token_key(token_checksum(raw_token)), (client, token_expires.timestamp()), seconds)


def forget_tokens(checksums: list[str]) -> None:
    if checksums:
        cache.delete_many([_token_key(c) for c in checksums])
