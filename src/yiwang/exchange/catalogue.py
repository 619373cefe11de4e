"""Writes of the sharing catalogue (政务信息资源目录): a department's data administrator registers
a resource with its fields, edits it, and retires it. Each is one transaction and one audit entry.

The resource code follows GB/T 21063.4 where it fits: the provider's code (the region's code and
the department's three-digit code, as item codes are built) and a five-digit sequence number
within that department: ``350000001-00001``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import FieldError, NotPermitted, ValidationFailed
from yiwang.regions.models import Department

from . import catalogue_selectors, registries
from .models import (
    DataResource,
    DataType,
    Registry,
    ResourceField,
    ResourceStatus,
    Sensitivity,
    SharingType,
    UpdateCycle,
)

NAME_MAX = 200
TEXT_MAX = 2000
MAX_FIELDS = 200
FIELD_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class FieldInput:
    code: str
    name: str
    data_type: str = DataType.STRING
    sensitivity: str = Sensitivity.INTERNAL
    description: str = ""


@dataclass(frozen=True)
class ResourceInput:
    name: str
    registry: str
    update_cycle: str
    sharing_type: str
    fields: list[FieldInput] = field(default_factory=list)
    description: str = ""
    legal_basis: str = ""
    sharing_reason: str = ""
    open_data: bool = False


def _check(data: ResourceInput) -> list[FieldError]:
    errors: list[FieldError] = []
    if not data.name.strip():
        errors.append(FieldError("name", _("请填写资源名称。")))
    elif len(data.name.strip()) > NAME_MAX:
        errors.append(FieldError("name", _("资源名称不能超过 %(n)s 个字。") % {"n": NAME_MAX}))
    if data.registry not in Registry.values:
        errors.append(FieldError("registry", _("请选择所属基础库。")))
    if data.update_cycle not in UpdateCycle.values:
        errors.append(FieldError("update_cycle", _("请选择更新周期。")))
    if data.sharing_type not in SharingType.values:
        errors.append(FieldError("sharing_type", _("请选择共享类型。")))
    elif data.sharing_type != SharingType.UNCONDITIONAL and not data.sharing_reason.strip():
        message = (
            _("有条件共享须写明共享条件。")
            if data.sharing_type == SharingType.CONDITIONAL
            else _("不予共享须写明理由和依据。")
        )
        errors.append(FieldError("sharing_reason", message))
    if data.open_data and data.sharing_type == SharingType.NOT_SHARED:
        errors.append(FieldError("open_data", _("不予共享的资源不能向社会开放。")))
    for name, value in (
        ("description", data.description),
        ("legal_basis", data.legal_basis),
        ("sharing_reason", data.sharing_reason),
    ):
        if len(value) > TEXT_MAX:
            errors.append(FieldError(name, _("不能超过 %(n)s 个字。") % {"n": TEXT_MAX}))
    if not data.fields:
        errors.append(FieldError("fields", _("请至少登记一个字段。")))
    elif len(data.fields) > MAX_FIELDS:
        errors.append(FieldError("fields", _("字段不能超过 %(n)s 个。") % {"n": MAX_FIELDS}))
    seen: set[str] = set()
    # A resource that exposes a base registry can only name that registry's fields: the exchange
    # API reads exactly the granted codes from it (exchange.registries.REGISTRIES).
    backing = registries.REGISTRIES.get(data.registry)
    known = {f.code for f in backing.fields} if backing else None
    for i, f in enumerate(data.fields):
        where = f"fields.{i}"
        if backing is not None and known is not None and f.code not in known:
            errors.append(
                FieldError(
                    where,
                    _("%(r)s没有字段 %(c)s；可登记的字段：%(all)s")
                    % {"r": backing.name, "c": f.code, "all": "、".join(sorted(known))},
                )
            )
        elif not FIELD_CODE.match(f.code):
            errors.append(
                FieldError(where, _("字段代码须以字母开头，只含字母、数字和下划线：%(c)s") % {"c": f.code})
            )
        elif f.code in seen:
            errors.append(FieldError(where, _("字段代码重复：%(c)s") % {"c": f.code}))
        seen.add(f.code)
        if not f.name.strip() or len(f.name) > 100:
            errors.append(FieldError(where, _("请填写字段名称（不超过 100 个字）：%(c)s") % {"c": f.code}))
        if f.data_type not in DataType.values:
            errors.append(FieldError(where, _("数据类型无效：%(c)s") % {"c": f.code}))
        if f.sensitivity not in Sensitivity.values:
            errors.append(FieldError(where, _("敏感级别无效：%(c)s") % {"c": f.code}))
    return errors


def _set_fields(resource: DataResource, fields: list[FieldInput]) -> None:
    resource.fields.all().delete()
    ResourceField.objects.bulk_create(
        ResourceField(
            resource=resource,
            code=f.code,
            name=f.name.strip(),
            data_type=f.data_type,
            sensitivity=f.sensitivity,
            description=f.description.strip()[:500],
            sort=i,
        )
        for i, f in enumerate(fields)
    )


def next_code(department: Department) -> str:
    prefix = f"{department.region.code}{department.code}-"
    last = (
        DataResource.objects.filter(code__startswith=prefix)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:05d}"


def _require_admin(user: AbstractBaseUser | AnonymousUser, department: Department) -> None:
    if not catalogue_selectors.is_data_admin_of(user, department, fresh=True):
        raise NotPermitted(_("只有提供部门的数据管理员可以登记和维护该部门的共享资源。"))


def _detail(data: ResourceInput) -> dict[str, object]:
    return {
        "registry": data.registry,
        "sharing_type": data.sharing_type,
        "open_data": data.open_data,
        "fields": [f.code for f in data.fields],
        "sensitive": [
            f.code
            for f in data.fields
            if f.sensitivity in (Sensitivity.SENSITIVE, Sensitivity.PERSONAL_SENSITIVE)
        ],
    }


def register(
    user: AbstractBaseUser | AnonymousUser, department: Department, data: ResourceInput
) -> DataResource:
    """A new published resource of ``department`` with its fields; its code is the next free one."""
    _require_admin(user, department)
    errors = _check(data)
    if errors:
        raise ValidationFailed(errors)
    for _attempt in range(3):  # two registrations of the department at once: take the next code
        try:
            with transaction.atomic():
                resource = DataResource.objects.create(
                    code=next_code(department),
                    name=data.name.strip(),
                    department=department,
                    description=data.description.strip(),
                    registry=data.registry,
                    update_cycle=data.update_cycle,
                    legal_basis=data.legal_basis.strip(),
                    sharing_type=data.sharing_type,
                    sharing_reason=data.sharing_reason.strip(),
                    open_data=data.open_data,
                    created_by_id=user.pk,
                )
                _set_fields(resource, data.fields)
                audit.record(
                    "exchange.resource.register",
                    resource,
                    summary=f"{resource.code} {resource.name}",
                    detail={"by": user.pk, "department": department.pk, **_detail(data)},
                )
            return resource
        except IntegrityError:
            continue
    raise ValidationFailed([FieldError("", _("资源代码冲突，请重试。"))])


def update(user: AbstractBaseUser | AnonymousUser, resource_id: int, data: ResourceInput) -> DataResource:
    """New metadata and fields for a resource. A field that a live grant names cannot be removed:
    the grant would name a field that no longer exists (revoke the grant first)."""
    from . import grant_selectors

    errors = _check(data)
    with transaction.atomic():
        resource = (
            DataResource.objects.select_for_update().select_related("department__region").get(pk=resource_id)
        )
        _require_admin(user, resource.department)
        kept = {f.code for f in data.fields}
        for code in sorted(grant_selectors.fields_in_live_grants(resource) - kept):
            errors.append(FieldError("fields", _("字段 %(c)s 仍在有效授权中，不能删除。") % {"c": code}))
        if errors:
            raise ValidationFailed(errors)
        resource.name = data.name.strip()
        resource.description = data.description.strip()
        resource.registry = data.registry
        resource.update_cycle = data.update_cycle
        resource.legal_basis = data.legal_basis.strip()
        resource.sharing_type = data.sharing_type
        resource.sharing_reason = data.sharing_reason.strip()
        resource.open_data = data.open_data
        resource.save()
        _set_fields(resource, data.fields)
        audit.record(
            "exchange.resource.update",
            resource,
            summary=f"{resource.code} {resource.name}",
            detail={"by": user.pk, **_detail(data)},
        )
    return resource


def retire(user: AbstractBaseUser | AnonymousUser, resource_id: int) -> DataResource:
    """停用: the resource leaves the catalogue, and with it every grant stops being live
    (``grant_selectors.live_grant`` reads published resources only)."""
    with transaction.atomic():
        resource = (
            DataResource.objects.select_for_update().select_related("department__region").get(pk=resource_id)
        )
        _require_admin(user, resource.department)
        if resource.status == ResourceStatus.RETIRED:
            raise ValidationFailed([FieldError("", _("该资源已停用。"))])
        resource.status = ResourceStatus.RETIRED
        resource.save(update_fields=["status", "updated_at"])
        audit.record("exchange.resource.retire", resource, summary=resource.code, detail={"by": user.pk})
    return resource
