"""Reads about staff scopes, used by every app's services to check per-object permissions, and
about the companies a person may act for now (the account menu's 切换身份)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from .models import Company, Mandate, Person, Role, StaffRole

if TYPE_CHECKING:
    from yiwang.regions.models import Department


# How long a user's staff roles stay cached when nothing changes them. Saving or deleting one of
# the user's roles drops the entry at once (``identity.receivers``); this bounds what a change
# that bypasses ``save``/``delete`` (a queryset ``update``) or a move of a region in the tree
# (the roles' region paths) takes to be seen.
STAFF_ROLES_SECONDS = 300


def staff_roles_key(user_id: int) -> str:
    return f"identity:staff-roles:v1:{user_id}"


def staff_roles(user_id: int) -> list[StaffRole]:
    """The user's staff roles with their regions, read once and then from the cache: the
    workbench needs them on every page to know the reader's scopes. The actions of the cases app
    check roles again from the database when they write."""
    key = staff_roles_key(user_id)
    roles: list[StaffRole] | None = cache.get(key)
    if roles is None:
        roles = list(StaffRole.objects.filter(user_id=user_id).select_related("region").order_by("pk"))
        cache.set(key, roles, STAFF_ROLES_SECONDS)
    return roles


def _drop(key: str) -> None:
    """Drop a cached entry now and again when the current transaction commits (a request that
    read the old rows meanwhile may have cached them again)."""
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def forget_staff_roles(user_id: int) -> None:
    """Drop the cached roles of ``user_id`` (``_drop``)."""
    _drop(staff_roles_key(user_id))


def role_holders_key(department_id: int, role: str) -> str:
    return f"identity:role-holders:v1:{department_id}:{role}"


def role_holders(department_id: int, role: str) -> list[tuple[int, str]]:
    """``(user id, name)`` of every account holding ``role`` in the department, by username: the
    person's name, else the account's full name, else its username. Cached like
    ``staff_roles`` and dropped when one of the department's roles changes; a renamed person
    shows under the new name within ``STAFF_ROLES_SECONDS``."""
    key = role_holders_key(department_id, role)
    holders: list[tuple[int, str]] | None = cache.get(key)
    if holders is None:
        rows = (
            StaffRole.objects.filter(role=role, department_id=department_id)
            .order_by("user__username")
            .values_list(
                "user_id", "user__person__name", "user__first_name", "user__last_name", "user__username"
            )
        )
        holders = [
            (pk, person or account_name(first, last, username)) for pk, person, first, last, username in rows
        ]
        cache.set(key, holders, STAFF_ROLES_SECONDS)
    return holders


def forget_role_holders(department_id: int | None, role: str) -> None:
    """``forget_staff_roles`` for ``role_holders`` of one department and role."""
    if department_id is None:
        return
    key = role_holders_key(department_id, role)
    _drop(key)


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


def display_name_key(user_id: int) -> str:
    return f"identity:display-name:v1:{user_id}"


def display_name(user: User | AnonymousUser) -> str:
    """The name a page header shows for a signed-in account: the person's real name, else the
    account's own name (``account_name``), else its username ("" when signed out). Read once and
    then from the cache, like ``staff_roles``; saving the person or the account drops it
    (``identity.receivers``)."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return ""
    key = display_name_key(user.pk)
    name: str | None = cache.get(key)
    if name is None:
        person = Person.objects.filter(user_id=user.pk).values_list("name", flat=True).first()
        name = str(person) if person else account_name(user.first_name, user.last_name, user.get_username())
        cache.set(key, name, STAFF_ROLES_SECONDS)
    return name


def forget_display_name(user_id: int) -> None:
    """``forget_staff_roles`` for ``display_name``."""
    key = display_name_key(user_id)
    _drop(key)


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def account_name(first: str, last: str, username: str) -> str:
    """An account's own name when no person is linked: a Chinese name family name first and
    unspaced (陈明), a Western one "first last"; else the username."""
    first, last = (first or "").strip(), (last or "").strip()
    if _has_cjk(first + last):
        return f"{last}{first}" or username
    return f"{first} {last}".strip() or username


# --- acting for a company -----------------------------------------------------------------------


def mandates_in_force_q(now: dt.datetime, prefix: str = "") -> Q:
    """The mandates in force at ``now``: started, not ended, not revoked. ``prefix``: the path to
    the mandate from the queried model (``"mandates__"`` from Company). The one rule for a
    mandate's validity: ``services.acting_scope`` and ``companies_acting_for`` both use it."""
    return Q(
        **{
            f"{prefix}revoked_at__isnull": True,
            f"{prefix}starts_at__lte": now,
            f"{prefix}ends_at__gt": now,
        }
    )


def companies_acting_for(person: Person | None, *, now: dt.datetime | None = None) -> QuerySet[Company]:
    """The companies ``person`` may act for at ``now``, for some item, by name: those they
    represent (法定代表人, everything) and those with a mandate in force for them. Each
    company carries ``until``: the latest end of those mandates (None for the legal
    representative), after which the right lapses. Which items a mandate covers is
    ``services.acting_scope``'s question."""
    if person is None:
        return Company.objects.none()
    now = now or timezone.now()
    live = Mandate.objects.filter(mandates_in_force_q(now), agent=person)
    return (
        Company.objects.filter(Q(legal_representative=person) | Q(pk__in=live.values("company_id")))
        .annotate(
            until=Max(
                "mandates__ends_at", filter=mandates_in_force_q(now, "mandates__") & Q(mandates__agent=person)
            )
        )
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class ActingOption:
    """A company in the account menu's 切换身份 list."""

    company_id: int
    name: str
    until: dt.datetime | None  # None: the legal representative, for as long as they are


@dataclass(frozen=True)
class _ActingOptions:
    options: tuple[ActingOption, ...]
    refresh_at: dt.datetime | None  # when a mandate not yet in force starts: read again then


# Bounds what a change that bypasses ``save``/``delete`` (a queryset ``update``) takes to show.
ACTING_OPTIONS_SECONDS = 300


def acting_options_key(user_id: int) -> str:
    return f"identity:acting-options:v1:{user_id}"


def acting_options(user: User | AnonymousUser, *, now: dt.datetime | None = None) -> list[ActingOption]:
    """The companies the signed-in account's person may act for now (``companies_acting_for``),
    read once and then from the cache: the account menu shows them on every page. A mandate
    saved or deleted, or a company saved, drops the entries of the people concerned at once
    (``identity.receivers``), so a revocation shows at the next request; an entry whose
    mandates end drops out by itself (``until``), and a mandate starting later makes the list
    be read again when it starts (``refresh_at``)."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return []
    now = now or timezone.now()
    key = acting_options_key(user.pk)
    found: _ActingOptions | None = cache.get(key)
    if found is None or (found.refresh_at is not None and found.refresh_at <= now):
        person = Person.objects.filter(user_id=user.pk).first()
        options: tuple[ActingOption, ...] = ()
        refresh_at = None
        if person is not None:
            options = tuple(
                ActingOption(
                    c.pk,
                    c.name,
                    None if c.legal_representative_id == person.pk else getattr(c, "until", None),
                )
                for c in companies_acting_for(person, now=now)
            )
            refresh_at = Mandate.objects.filter(
                agent=person, revoked_at__isnull=True, starts_at__gt=now
            ).aggregate(first=Min("starts_at"))["first"]
        found = _ActingOptions(options, refresh_at)
        cache.set(key, found, ACTING_OPTIONS_SECONDS)
    return [o for o in found.options if o.until is None or o.until > now]


def acting_option(user: User | AnonymousUser, company_id: object) -> ActingOption | None:
    """The entry of ``acting_options`` for ``company_id`` (as stored in a session), or None when
    the account may not act for it now."""
    return next((o for o in acting_options(user) if o.company_id == company_id), None)


def forget_acting_options(user_ids: Iterable[int | None]) -> None:
    """Drop the cached ``acting_options`` of each account in ``user_ids`` (``_drop``)."""
    for user_id in set(user_ids):
        if user_id is not None:
            _drop(acting_options_key(user_id))
