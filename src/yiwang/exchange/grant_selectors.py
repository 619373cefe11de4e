"""Reads of sharing requests and grants.

``live_grant`` and ``granted_fields`` are the only way code checks whether a department may read
a resource (the exchange API and prefill call them): nothing is readable without a live grant,
and only the fields it grants. A grant is live on a day when it is active (not revoked), the day
lies within ``starts_on``..``ends_on`` (both inclusive), its resource is still published, and it
was given for the purpose the reader names (the purpose of the request, compared exactly after
trimming spaces: a grant for 企业开办 does not serve 社保登记).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from yiwang.regions.models import Department

from .catalogue_selectors import data_admin_q
from .models import DataResource, Grant, GrantStatus, RequestStatus, ResourceStatus, ShareRequest

AnyUser = AbstractBaseUser | AnonymousUser | None


def _pk(obj: Department | DataResource | int) -> int:
    return obj if isinstance(obj, int) else int(obj.pk)


def live_grants(
    consumer: Department | int, resource: DataResource | int, purpose: str, *, on: dt.date | None = None
) -> list[Grant]:
    """The consumer's grants on the resource that are live on ``on`` (today) for ``purpose``."""
    purpose = (purpose or "").strip()
    if not purpose:
        return []
    day = on or timezone.localdate()
    return list(
        Grant.objects.filter(
            consumer_id=_pk(consumer),
            resource_id=_pk(resource),
            status=GrantStatus.ACTIVE,
            purpose=purpose,
            starts_on__lte=day,
            ends_on__gte=day,
            resource__status=ResourceStatus.PUBLISHED,
        ).order_by("-ends_on", "-pk")
    )


def live_grant(
    consumer: Department | int,
    resource: DataResource | int,
    fields: Iterable[str],
    purpose: str,
    *,
    on: dt.date | None = None,
) -> Grant | None:
    """The live grant that covers every one of ``fields`` for ``purpose`` on ``on``, or None
    (no grant, expired, not yet started, revoked, another purpose, or a field it does not grant)."""
    wanted = set(fields)
    for grant in live_grants(consumer, resource, purpose, on=on):
        if wanted <= set(grant.fields):
            return grant
    return None


def granted_fields(
    consumer: Department | int,
    resource: DataResource | int,
    fields: Iterable[str],
    purpose: str,
    *,
    on: dt.date | None = None,
) -> list[str]:
    """Those of ``fields`` (in the order asked) that a live grant gives the consumer for
    ``purpose`` on ``on``; an empty list when none."""
    allowed: set[str] = set()
    for grant in live_grants(consumer, resource, purpose, on=on):
        allowed.update(grant.fields)
    return [f for f in dict.fromkeys(fields) if f in allowed]


def fields_in_live_grants(resource: DataResource, *, on: dt.date | None = None) -> set[str]:
    """Every field an active, unexpired grant on the resource names (whatever its purpose)."""
    day = on or timezone.localdate()
    out: set[str] = set()
    for fields in Grant.objects.filter(
        resource=resource, status=GrantStatus.ACTIVE, ends_on__gte=day
    ).values_list("fields", flat=True):
        out.update(fields)
    return out


# --- the pages' lists ------------------------------------------------------------------------------


def _requests() -> QuerySet[ShareRequest]:
    return ShareRequest.objects.select_related("resource__department", "consumer", "grant").order_by("-pk")


def my_requests(user: AnyUser) -> QuerySet[ShareRequest]:
    """我的共享申请: the requests of the departments the user is data administrator of."""
    return _requests().filter(data_admin_q(user, "consumer__"))


def pending_for(user: AnyUser) -> QuerySet[ShareRequest]:
    """待审批: conditional requests waiting for a decision of the user's departments."""
    return _requests().filter(data_admin_q(user, "resource__department__"), status=RequestStatus.PENDING)


def grants_given(user: AnyUser, *, on: dt.date | None = None) -> QuerySet[Grant]:
    """The active, unexpired grants on the resources of the user's departments (to revoke)."""
    day = on or timezone.localdate()
    return (
        Grant.objects.filter(
            data_admin_q(user, "resource__department__"), status=GrantStatus.ACTIVE, ends_on__gte=day
        )
        .select_related("resource", "consumer", "request")
        .order_by("ends_on", "pk")
    )


def visible_request(user: AnyUser, request_id: int) -> ShareRequest | None:
    """A request the user's departments made or must decide on; None for anyone else."""
    q = data_admin_q(user, "consumer__") | data_admin_q(user, "resource__department__")
    return _requests().filter(q, pk=request_id).select_related("resource__department__region").first()


def request_of_grant(user: AnyUser, grant_id: int) -> ShareRequest | None:
    """The request of a grant on a resource of the user's departments; None for anyone else."""
    return (
        _requests()
        .filter(data_admin_q(user, "resource__department__"), grant__pk=grant_id)
        .select_related("resource__department__region")
        .first()
    )


def request_state(req: ShareRequest, *, on: dt.date | None = None) -> str:
    """What the lists show: 待审批 / 未同意 / 已授权 / 已撤销 / 已过期 / 未生效."""
    if req.status != RequestStatus.GRANTED:
        return req.status
    grant = getattr(req, "grant", None)
    if grant is None:
        return req.status
    day = on or timezone.localdate()
    if grant.status == GrantStatus.REVOKED:
        return "revoked"
    if grant.ends_on < day:
        return "expired"
    if grant.starts_on > day:
        return "not_started"
    return "live"


# --- why a read was refused (after live_grant said no) --------------------------------------------


def refusal_reason(
    consumer: Department | int,
    resource: DataResource | int,
    purpose: str,
    *,
    on: dt.date | None = None,
) -> str:
    """Why ``live_grant`` found nothing, as the exchange API's machine code: ``wrong_purpose``
    (a grant is live but for another purpose), ``field_not_granted`` (live for this purpose,
    but a field asked is not in it), ``expired``, ``revoked``, else ``no_grant`` (none at all,
    or not started yet). It explains a refusal; it never allows a read."""
    day = on or timezone.localdate()
    purpose = (purpose or "").strip()
    rows = list(
        Grant.objects.filter(consumer_id=_pk(consumer), resource_id=_pk(resource)).values_list(
            "status", "starts_on", "ends_on", "purpose"
        )
    )
    in_period = [r for r in rows if r[0] == GrantStatus.ACTIVE and r[1] <= day <= r[2]]
    if in_period:
        return "field_not_granted" if any(r[3] == purpose for r in in_period) else "wrong_purpose"
    if any(r[0] == GrantStatus.ACTIVE and r[2] < day for r in rows):
        return "expired"
    if any(r[0] == GrantStatus.REVOKED for r in rows):
        return "revoked"
    return "no_grant"
