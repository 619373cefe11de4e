"""Writes of sharing requests and grants (共享申请与授权).

A department's data administrator asks for fields of a catalogue resource, for a purpose, with a
legal basis, for the items the data serves, for a period. What follows depends on the resource's
sharing type: 无条件共享 is granted at once with the fields asked; 有条件共享 waits for the
provider's data administrator, who approves (possibly fewer fields) or refuses with a reason;
不予共享 is refused at once with the catalogue's reason. The provider may revoke a grant (with a
reason); a grant ends by itself after its period. Each action is one transaction, and every
request and decision is one audit entry. Who may read what is decided only by
``grant_selectors.live_grant`` / ``granted_fields``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog import selectors as catalog_selectors
from yiwang.core import audit
from yiwang.core.errors import FieldError, NotPermitted, ValidationFailed
from yiwang.regions.models import Department

from . import catalogue_selectors
from .models import (
    DataResource,
    Grant,
    GrantStatus,
    RequestStatus,
    ResourceStatus,
    ShareRequest,
    SharingType,
)

PURPOSE_MAX = 200
TEXT_MAX = 2000
MAX_ITEMS = 50
# A grant is reviewed at least every few years: no period longer than this.
MAX_PERIOD_DAYS = 5 * 366

User = AbstractBaseUser | AnonymousUser


def _today() -> dt.date:
    return timezone.localdate()


def _check_request(
    resource: DataResource,
    consumer: Department | None,
    fields: list[str],
    purpose: str,
    legal_basis: str,
    items: list[str],
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    today: dt.date,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if consumer is None:
        errors.append(FieldError("consumer", _("请选择申请部门。")))
    elif consumer.pk == resource.department_id:
        errors.append(FieldError("consumer", _("这是本部门的资源，无需申请。")))
    known = {f.code for f in resource.fields.all()}
    if not fields:
        errors.append(FieldError("fields", _("请至少选择一个字段。")))
    for code in fields:
        if code not in known:
            errors.append(FieldError("fields", _("字段 %(c)s 不属于该资源。") % {"c": code}))
    if not purpose:
        errors.append(FieldError("purpose", _("请填写使用用途。")))
    elif len(purpose) > PURPOSE_MAX:
        errors.append(FieldError("purpose", _("使用用途不能超过 %(n)s 个字。") % {"n": PURPOSE_MAX}))
    if not legal_basis:
        errors.append(FieldError("legal_basis", _("请填写申请依据。")))
    elif len(legal_basis) > TEXT_MAX:
        errors.append(FieldError("legal_basis", _("申请依据不能超过 %(n)s 个字。") % {"n": TEXT_MAX}))
    if len(items) > MAX_ITEMS:
        errors.append(FieldError("items", _("支撑事项不能超过 %(n)s 项。") % {"n": MAX_ITEMS}))
    else:
        for code in items:
            if catalog_selectors.published_item(code) is None:
                errors.append(FieldError("items", _("事项编码 %(c)s 不存在或未发布。") % {"c": code}))
    if starts_on is None:
        errors.append(FieldError("starts_on", _("请填写使用期限的开始日期。")))
    if ends_on is None:
        errors.append(FieldError("ends_on", _("请填写使用期限的结束日期。")))
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors.append(FieldError("ends_on", _("结束日期不能早于开始日期。")))
        elif ends_on < today:
            errors.append(FieldError("ends_on", _("结束日期不能早于今天。")))
        elif (ends_on - starts_on).days > MAX_PERIOD_DAYS:
            errors.append(FieldError("ends_on", _("使用期限不能超过五年。")))
    return errors


def _in_catalogue_order(resource: DataResource, codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    return [f.code for f in resource.fields.all() if f.code in wanted]


def _grant(req: ShareRequest, fields: list[str], *, by: User | None) -> Grant:
    now = timezone.now()
    req.status, req.decided_at = RequestStatus.GRANTED, now
    req.decided_by_id = by.pk if by is not None else None
    req.save(update_fields=["status", "decided_at", "decided_by"])
    grant = Grant.objects.create(
        request=req,
        resource_id=req.resource_id,
        consumer_id=req.consumer_id,
        fields=fields,
        purpose=req.purpose,
        starts_on=req.starts_on,
        ends_on=req.ends_on,
        granted_by_id=by.pk if by is not None else None,
        granted_at=now,
    )
    audit.record(
        "exchange.share.grant",
        grant,
        summary=f"{req.resource.code} → {req.consumer.name} {req.starts_on}–{req.ends_on}",
        detail={
            "by": by.pk if by is not None else None,
            "automatic": by is None,
            "request": req.pk,
            "resource": req.resource.code,
            "consumer": req.consumer_id,
            "fields": fields,
            "asked": req.fields,
            "purpose": req.purpose,
            "ends_on": str(req.ends_on),
        },
    )
    return grant


def _refuse(req: ShareRequest, reason: str, *, by: User | None) -> None:
    req.status, req.decided_at, req.refusal_reason = RequestStatus.REFUSED, timezone.now(), reason
    req.decided_by_id = by.pk if by is not None else None
    req.save(update_fields=["status", "decided_at", "decided_by", "refusal_reason"])
    audit.record(
        "exchange.share.refuse",
        req,
        summary=f"{req.resource.code} → {req.consumer.name}",
        detail={
            "by": by.pk if by is not None else None,
            "automatic": by is None,
            "resource": req.resource.code,
            "consumer": req.consumer_id,
            "reason": reason,
        },
    )


def request_share(
    user: User,
    resource_id: int,
    *,
    consumer: Department | None,
    fields: list[str],
    purpose: str,
    legal_basis: str,
    items: list[str] | None = None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    today: dt.date | None = None,
) -> ShareRequest:
    """A request of ``consumer`` (a department the user is data administrator of) for
    ``fields`` of the resource; granted or refused at once unless the sharing is conditional."""
    purpose, legal_basis = (purpose or "").strip(), (legal_basis or "").strip()
    items = list(dict.fromkeys(c.strip() for c in (items or []) if c.strip()))
    fields = list(dict.fromkeys(fields))
    with transaction.atomic():
        resource = (
            DataResource.objects.select_related("department__region")
            .prefetch_related("fields")
            .filter(pk=resource_id, status=ResourceStatus.PUBLISHED)
            .first()
        )
        if resource is None:
            raise ValidationFailed([FieldError("", _("该资源不存在或已停用。"))])
        if consumer is not None and not catalogue_selectors.is_data_admin_of(user, consumer, fresh=True):
            raise NotPermitted(_("只有申请部门的数据管理员可以提出共享申请。"))
        if consumer is None and not catalogue_selectors.is_data_admin(user):
            raise NotPermitted(_("只有申请部门的数据管理员可以提出共享申请。"))
        errors = _check_request(
            resource, consumer, fields, purpose, legal_basis, items, starts_on, ends_on, today or _today()
        )
        if errors:
            raise ValidationFailed(errors)
        assert consumer is not None and starts_on is not None and ends_on is not None
        req = ShareRequest.objects.create(
            resource=resource,
            consumer=consumer,
            requested_by_id=user.pk,
            fields=_in_catalogue_order(resource, fields),
            purpose=purpose,
            legal_basis=legal_basis,
            items=items,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        audit.record(
            "exchange.share.request",
            req,
            summary=f"{resource.code} → {consumer.name}",
            detail={
                "by": user.pk,
                "resource": resource.code,
                "consumer": consumer.pk,
                "fields": req.fields,
                "purpose": purpose,
                "items": items,
                "starts_on": str(starts_on),
                "ends_on": str(ends_on),
                "sharing_type": resource.sharing_type,
            },
        )
        if resource.sharing_type == SharingType.UNCONDITIONAL:
            _grant(req, req.fields, by=None)
        elif resource.sharing_type == SharingType.NOT_SHARED:
            _refuse(req, resource.sharing_reason or str(SharingType.NOT_SHARED.label), by=None)
    return req


def _pending(user: User, request_id: int) -> ShareRequest:
    """The request, locked, after checking the user decides for its resource's department."""
    req = (
        ShareRequest.objects.select_for_update(of=("self",))
        .select_related("resource__department__region", "consumer")
        .get(pk=request_id)
    )
    if not catalogue_selectors.is_data_admin_of(user, req.resource.department, fresh=True):
        raise NotPermitted(_("只有资源提供部门的数据管理员可以审批共享申请。"))
    if req.status != RequestStatus.PENDING:
        raise ValidationFailed([FieldError("", _("该申请已审批。"))])
    return req


def approve(user: User, request_id: int, *, fields: list[str] | None = None) -> Grant:
    """同意: a grant of ``fields`` (all asked when None; fewer may be given, never others)."""
    with transaction.atomic():
        req = _pending(user, request_id)
        chosen = list(req.fields) if fields is None else list(dict.fromkeys(fields))
        errors = [
            FieldError("fields", _("字段 %(c)s 不在申请范围内。") % {"c": c})
            for c in chosen
            if c not in req.fields
        ]
        if not chosen:
            errors.append(FieldError("fields", _("请至少同意一个字段，或选择不同意。")))
        if errors:
            raise ValidationFailed(errors)
        return _grant(req, [c for c in req.fields if c in chosen], by=user)


def refuse(user: User, request_id: int, *, reason: str) -> ShareRequest:
    """不同意, with the reason the requesting department reads."""
    reason = (reason or "").strip()
    with transaction.atomic():
        req = _pending(user, request_id)
        if not reason:
            raise ValidationFailed([FieldError("reason", _("请填写不同意的理由。"))])
        if len(reason) > TEXT_MAX:
            raise ValidationFailed([FieldError("reason", _("理由不能超过 %(n)s 个字。") % {"n": TEXT_MAX})])
        _refuse(req, reason, by=user)
    return req


def revoke(user: User, grant_id: int, *, reason: str) -> Grant:
    """撤销: the provider's data administrator ends a grant before its period ends."""
    reason = (reason or "").strip()
    with transaction.atomic():
        grant = (
            Grant.objects.select_for_update(of=("self",))
            .select_related("resource__department__region", "consumer")
            .get(pk=grant_id)
        )
        if not catalogue_selectors.is_data_admin_of(user, grant.resource.department, fresh=True):
            raise NotPermitted(_("只有资源提供部门的数据管理员可以撤销授权。"))
        if grant.status == GrantStatus.REVOKED:
            raise ValidationFailed([FieldError("", _("该授权已撤销。"))])
        if not reason:
            raise ValidationFailed([FieldError("reason", _("请填写撤销理由。"))])
        if len(reason) > TEXT_MAX:
            raise ValidationFailed([FieldError("reason", _("理由不能超过 %(n)s 个字。") % {"n": TEXT_MAX})])
        grant.status, grant.revoked_at, grant.revoked_by_id = GrantStatus.REVOKED, timezone.now(), user.pk
        grant.revoke_reason = reason
        grant.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
        audit.record(
            "exchange.grant.revoke",
            grant,
            summary=f"{grant.resource.code} → {grant.consumer.name}",
            detail={
                "by": user.pk,
                "resource": grant.resource.code,
                "consumer": grant.consumer_id,
                "reason": reason,
            },
        )
    return grant
