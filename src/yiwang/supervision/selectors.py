"""Reads of the supervision app for the workbench: a case's level and flags, the levels of a
page of cases, a staff member's unread notices and the supervisor's list of yellow and red
cases in their scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from yiwang.cases.models import Case

from .models import CaseWarning, Flag, Level, StaffNotice


@dataclass
class CasePanel:
    level: str = ""  # "" when the case has no level (not running)
    level_label: str = ""
    changed_at: object = None
    flags: list[Flag] = field(default_factory=list)


def case_panel(case_id: int) -> CasePanel:
    """The case page's warning level and flagged events (two queries)."""
    panel = CasePanel(flags=list(Flag.objects.filter(case_id=case_id).order_by("at", "pk")))
    row = CaseWarning.objects.filter(case_id=case_id).first()
    if row is not None:
        panel.level, panel.level_label, panel.changed_at = row.level, row.get_level_display(), row.changed_at
    return panel


def warned_levels(case_ids: list[int]) -> dict[int, str]:
    """case id -> level of those yellow or red, for a page of rows, in one query."""
    if not case_ids:
        return {}
    rows = CaseWarning.objects.filter(case_id__in=case_ids, level__in=[Level.YELLOW, Level.RED])
    return dict(rows.values_list("case_id", "level"))


# How long "this account has no unread notice" is believed without a query, should a change miss
# ``forget_unread``; every write of notices calls it (supervision.services, supervision.orders).
NO_UNREAD_SECONDS = 600


def no_unread_key(user_id: int) -> str:
    """The cache entry saying ``user_id`` has no unread notice (absent: not known)."""
    return f"supervision:no-unread-notices:v1:{user_id}"


def unread_notices(user: User | AnonymousUser, limit: int = 20) -> list[StaffNotice]:
    """The account's unread notices, newest first (the inbox shows them). Most readers have none
    most of the time, so "none" is remembered in the cache and the query skipped until a notice
    for them is written or read (``forget_unread``)."""
    if not isinstance(user, User):
        return []
    key = no_unread_key(user.pk)
    if cache.get(key):
        return []
    notices = list(
        StaffNotice.objects.filter(user=user, read_at__isnull=True)
        .select_related("case")
        .only("pk", "level", "text", "created_at", "case__id", "case__number", "user_id")
        .order_by("-created_at", "-pk")[:limit]
    )
    if not notices:
        cache.set(key, True, NO_UNREAD_SECONDS)
    return notices


def forget_unread(user_ids: list[int]) -> None:
    """Drop the "no unread notice" entries of ``user_ids``: now, and again when the current
    transaction commits (a request that read the old rows meanwhile may have set them again)."""
    keys = [no_unread_key(u) for u in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def warned_cases(scope: QuerySet[Case], limit: int = 200) -> list[CaseWarning]:
    """Yellow and red cases among ``scope`` (the caller's case scope), red first, by due date."""
    return list(
        CaseWarning.objects.filter(level__in=[Level.RED, Level.YELLOW], case__in=scope)
        .select_related("case", "case__department")
        .order_by("level", "due", "pk")[:limit]
    )
