"""Reads about staff scopes, used by every app's services to check per-object permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from .models import Role, StaffRole

if TYPE_CHECKING:
    from yiwang.regions.models import Department


def roles_of(user: User, role: str | None = None) -> QuerySet[StaffRole]:
    qs = StaffRole.objects.filter(user=user).select_related("region", "department", "department__region")
    return qs.filter(role=role) if role else qs


def department_scope_q(
    user: User | AnonymousUser | None,
    role: str,
    *,
    department_id_field: str = "department_id",
    region_path_field: str = "region__path",
) -> Q:
    """A Q that keeps the objects whose department lies inside one of ``user``'s scopes for ``role``.

    On the Department model itself pass ``department_id_field="pk"``.
    Superusers and platform administrators see everything. A role without a department covers
    every department in its region and below; with a department, only that department.
    Returns ``Q(pk__in=[])`` (nothing) for a user without the role.
    """
    if not isinstance(user, User) or not user.is_active:  # None or the anonymous visitor
        return Q(pk__in=[])
    if user.is_superuser or StaffRole.objects.filter(user=user, role=Role.PLATFORM_ADMIN).exists():
        return Q()
    q = Q(pk__in=[])
    for sr in roles_of(user, role):
        if sr.department_id:
            q |= Q(**{department_id_field: sr.department_id})
        elif sr.region is not None:
            q |= Q(**{f"{region_path_field}__startswith": sr.region.path})
        else:
            return Q()
    return q


def can_manage_department(
    user: User | AnonymousUser | None, department: Department, role: str = Role.CATALOGUE_ADMIN
) -> bool:
    if not isinstance(user, User) or not user.is_active:  # None or the anonymous visitor
        return False
    if user.is_superuser:
        return True
    for sr in (
        StaffRole.objects.filter(user=user)
        .filter(role__in=[role, Role.PLATFORM_ADMIN])
        .select_related("region")
    ):
        if sr.role == Role.PLATFORM_ADMIN:
            return True
        if sr.department_id:
            if sr.department_id == department.pk:
                return True
        elif sr.region is None or department.region.path.startswith(sr.region.path):
            return True
    return False


def display_name(user: User | AnonymousUser) -> str:
    """The name a page header shows for a signed-in account: the person's real name, else the
    account's full name, else its username ("" when signed out). At most one query (the
    person's row), none when the request already loaded it; the row stays cached on the user
    for the rest of the request."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return ""
    person = getattr(user, "person", None)
    if person is not None and person.name:
        return str(person.name)
    return user.get_full_name() or user.get_username()
