"""Reads of the sharing catalogue (政务信息资源目录): the resources staff browse and the API lists,
one resource with its fields, and who is a department's data administrator (数据管理员).

A department's data administrators are the accounts holding ``Role.DATA_ADMIN`` on that
department, or on a region (without a department) that contains it, or province-wide (neither).
Platform administrators and superusers are not data administrators: registering a department's
data and deciding who reads it is the department's own act (issue 18).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department

from .models import DataResource, Registry, ResourceField, ResourceStatus, SharingType

AnyUser = AbstractBaseUser | AnonymousUser | None
PER_PAGE = 20


def _data_admin_roles(user: AnyUser, *, fresh: bool) -> list[StaffRole]:
    """The user's data-administrator roles: from the database when a service is about to write
    (``fresh``), else from the per-user cache pages use."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if fresh:
        return list(identity_selectors.roles_of(user, Role.DATA_ADMIN))  # type: ignore[arg-type]
    return [r for r in identity_selectors.staff_roles(user.pk) if r.role == Role.DATA_ADMIN]


def data_admin_q(user: AnyUser, prefix: str = "", *, fresh: bool = False) -> Q:
    """The departments (``prefix`` reaches the department from the queried model, e.g.
    ``"department__"``; "" on Department itself) whose data administrator ``user`` is."""
    q = Q(**{f"{prefix}pk__in": []})
    for r in _data_admin_roles(user, fresh=fresh):
        if r.department_id:
            q |= Q(**{f"{prefix}pk": r.department_id})
        elif r.region is not None:
            q |= Q(**{f"{prefix}region__path__startswith": r.region.path})
        else:
            return Q()
    return q


def is_data_admin_of(user: AnyUser, department: Department, *, fresh: bool = True) -> bool:
    """Whether ``user`` is a data administrator of ``department`` (read with its region)."""
    for r in _data_admin_roles(user, fresh=fresh):
        if r.department_id:
            if r.department_id == department.pk:
                return True
        elif r.region is None or department.region.path.startswith(r.region.path):
            return True
    return False


def is_data_admin(user: AnyUser) -> bool:
    return bool(_data_admin_roles(user, fresh=False))


def data_admin_departments(user: AnyUser) -> list[Department]:
    """The departments the user is data administrator of (for the consumer choice of a request)."""
    if not is_data_admin(user):
        return []
    return list(
        Department.objects.filter(data_admin_q(user))
        .select_related("region")
        .order_by("region__code", "code")
    )


def may_browse(roles: list[StaffRole], user: AnyUser) -> bool:
    """Staff browse the catalogue: any staff role, or a superuser."""
    return bool(
        user is not None and user.is_authenticated and (getattr(user, "is_superuser", False) or roles)
    )


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    department_id: int | None = None
    registry: str = ""
    sharing_type: str = ""


def catalogue(filters: CatalogueFilters) -> QuerySet[DataResource]:
    """Published resources matching the filters, by code. ``q`` is a substring of the name, the
    code or a field's name (a department's catalogue is hundreds of resources, not millions: the
    items' search index is not needed here)."""
    qs = DataResource.objects.filter(status=ResourceStatus.PUBLISHED)
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.registry in Registry.values:
        qs = qs.filter(registry=filters.registry)
    if filters.sharing_type in SharingType.values:
        qs = qs.filter(sharing_type=filters.sharing_type)
    if filters.q:
        text = filters.q
        matching = ResourceField.objects.filter(name__icontains=text).values("resource_id")
        qs = qs.filter(Q(name__icontains=text) | Q(code__icontains=text) | Q(pk__in=matching))
    return qs.select_related("department__region").order_by("code", "pk")


def with_fields(qs: QuerySet[DataResource]) -> QuerySet[DataResource]:
    return qs.prefetch_related(Prefetch("fields", queryset=ResourceField.objects.order_by("sort", "pk")))


def resource(resource_id: int | None, *, published_only: bool = True) -> DataResource | None:
    if resource_id is None:
        return None
    qs = DataResource.objects.filter(pk=resource_id)
    if published_only:
        qs = qs.filter(status=ResourceStatus.PUBLISHED)
    return with_fields(qs.select_related("department__region")).first()


def resource_by_code(code: str) -> DataResource | None:
    qs = DataResource.objects.filter(code=code, status=ResourceStatus.PUBLISHED)
    return with_fields(qs.select_related("department__region")).first()


def catalogue_departments() -> list[Department]:
    """The departments that publish resources (the filter's choices)."""
    ids = DataResource.objects.filter(status=ResourceStatus.PUBLISHED).values("department_id")
    return list(
        Department.objects.filter(pk__in=ids).select_related("region").order_by("region__code", "code")
    )


def department(department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    return Department.objects.select_related("region").filter(pk=department_id).first()
