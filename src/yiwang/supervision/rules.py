"""The warning rule and the allowed lengths of clock pauses, read from settings."""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings

# Working days a pause of each kind may last before it is flagged (``YIWANG_PAUSE_ALLOWED_DAYS``
# overrides per kind). Suspensions carry a free-text reason today, so the allowance is per kind.
PAUSE_ALLOWED_DAYS = {"suspension": 20, "inspection": 20}


def yellow_share() -> Fraction:
    """``YIWANG_WARNING_YELLOW_SHARE`` (default 0.8) as an exact fraction, between 0 and 1."""
    share = Fraction(str(getattr(settings, "YIWANG_WARNING_YELLOW_SHARE", "0.8")))
    return min(max(share, Fraction(0)), Fraction(1))


def yellow_days(limit_days: int) -> int:
    """Working days left at or under which a case is yellow: once the share of the limit is used
    (``ceil(share × limit)`` days), or with one working day left, whichever comes first."""
    used = -(-yellow_share() * limit_days // 1)  # ceil, exact
    return max(1, limit_days - int(used))


def level_of(days_left: int | None, state: str, limit_days: int | None) -> str:
    """green / yellow / red from the case's time left (``cases.selectors.time_left``)."""
    if days_left is None or limit_days is None:
        return "green"
    if state == "red" or days_left < 0:
        return "red"
    return "yellow" if days_left <= yellow_days(limit_days) else "green"


def pause_allowed_days(kind: str) -> int | None:
    allowed = {**PAUSE_ALLOWED_DAYS, **getattr(settings, "YIWANG_PAUSE_ALLOWED_DAYS", {})}
    value = allowed.get(kind)
    return int(value) if value is not None else None
