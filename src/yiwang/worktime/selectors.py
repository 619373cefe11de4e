"""Reading the working-day calendar: deadlines, working days left and the traffic light.

These are the functions other apps call (cases, workflow, workbench, supervision). They read a
per-process ``WorkCalendar`` built from the calendar table: no query per call. An edit made
through ``worktime.services`` drops this process's copy at once; other processes notice within
``WORKTIME_RECHECK_SECONDS`` (default 5) by comparing a cheap version stamp of the year table.

Conventions (docs/worktime.md):
- limits are in working days, not counting statutory holidays (《行政许可法》第八十二条);
- the acceptance day is not counted: the limit runs from the next working day;
- a pause (correction request, suspension, on-site inspection, expert review) given as
  (start, end) stops the clock for the working days in (start, end]: the day it starts still
  counts, the day it ends does not (counting restarts the next day, as on acceptance), so a pause
  that starts and ends on the same day costs nothing; an open pause (end None) freezes the clock
  at its start day;
- a day in a year without a complete official arrangement is counted by the weekend rule and
  the result is flagged ``estimated`` with a visible warning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Count, Max
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext

from .arithmetic import WorkCalendar
from .models import CalendarDay, CalendarYear

Pause = tuple[date, date | None]
ClockState = Literal["green", "yellow", "red"]
GREEN: ClockState = "green"
YELLOW: ClockState = "yellow"
RED: ClockState = "red"


# -- the per-process calendar -------------------------------------------------------------------
@dataclass(slots=True)
class _Cached:
    calendar: WorkCalendar
    version: tuple
    checked_at: float


_cached: _Cached | None = None
_lock = threading.Lock()
_recheck_seconds: float | None = None  # settings.WORKTIME_RECHECK_SECONDS, read once (hot path)


@receiver(setting_changed)
def _setting_changed(setting: str, **kwargs: Any) -> None:
    global _recheck_seconds, _yellow
    if setting == "WORKTIME_RECHECK_SECONDS":
        _recheck_seconds = None
    elif setting in ("WORKTIME_YELLOW_DAYS", "WORKTIME_YELLOW_PERCENT"):
        _yellow = None


def invalidate_calendar() -> None:
    """Forget this process's calendar; the next call reloads it. ``services`` calls it on edit."""
    global _cached
    _cached = None


def _version() -> tuple:
    # Every edit through services saves the year row, so (count, latest update) changes.
    agg = CalendarYear.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (agg["n"], agg["at"])


def _load() -> _Cached:
    version = _version()
    if not CalendarDay.objects.exists():
        # A fresh database, or one a transactional test emptied: seed from the package rather
        # than silently counting every year by the weekend rule.
        from .services import ensure_seeded

        ensure_seeded()
        version = _version()
    days = dict(CalendarDay.objects.values_list("date", "is_working_day"))
    complete = CalendarYear.objects.filter(complete=True).values_list("year", flat=True)
    return _Cached(WorkCalendar(days, complete), version, time.monotonic())


def get_calendar() -> WorkCalendar:
    global _cached, _recheck_seconds
    cached = _cached
    now = time.monotonic()
    if cached is not None:
        if _recheck_seconds is None:
            _recheck_seconds = float(getattr(settings, "WORKTIME_RECHECK_SECONDS", 5))
        if now - cached.checked_at < _recheck_seconds:
            return cached.calendar
        if _version() == cached.version:
            cached.checked_at = now
            return cached.calendar
    with _lock:
        _cached = _load()
        return _cached.calendar


def _calendar_for(*dates: date) -> WorkCalendar:
    global _cached
    cal = get_calendar()
    if cal.covers(*dates):
        return cal
    with _lock:
        cal = cal.extended(*dates)
        if _cached is not None:
            _cached.calendar = cal
    return cal


# -- deadlines ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Deadline:
    """A due date, with the reasons to doubt it. ``estimated`` is True when a day counted falls
    in a year whose holiday arrangement is not on record (weekend rule used)."""

    date: date
    estimated: bool = False
    warnings: tuple[str, ...] = ()
    missing_years: tuple[int, ...] = ()
    # The clock is stopped now (an open pause): the date is the earliest the case can be due,
    # as if it resumed on the day it stopped; it moves later when the pause ends.
    paused: bool = False

    def __str__(self) -> str:
        return self.date.isoformat()


def missing_year_warning(year: int) -> str:
    return gettext("%(year)s年节假日安排尚未录入，截止日期按周末推算，可能不准确") % {"year": year}


def _deadline(cal: WorkCalendar, counted_after: date, due: date, *, paused: bool = False) -> Deadline:
    missing = tuple(cal.missing_years(counted_after, due))
    if not missing:
        return Deadline(due, paused=paused)
    return Deadline(
        date=due,
        estimated=bool(missing),
        warnings=tuple(missing_year_warning(y) for y in missing),
        missing_years=missing,
        paused=paused,
    )


def _add(cal: WorkCalendar, start: date, n: int) -> tuple[WorkCalendar, date]:
    try:
        return cal, cal.add_working_days(start, n)
    except OverflowError:
        cal = _calendar_for(start, start + timedelta(days=2 * n + 60))
        return cal, cal.add_working_days(start, n)


def is_working_day(day: date) -> bool:
    return _calendar_for(day).is_working_day(day)


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b]: after a, up to and including b; negative when b is before a."""
    return _calendar_for(a, b).working_days_between(a, b)


def add_working_days(start: date, n: int) -> Deadline:
    """The n-th working day after ``start`` (``start`` is not counted; n == 0 gives ``start``)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    cal, due = _add(get_calendar(), start, n)  # _add widens the span if start is outside it
    return _deadline(cal, start, due)


def next_working_day(day: date) -> date:
    return add_working_days(day, 1).date


def _merged(pauses: Iterable[Pause]) -> tuple[list[tuple[date, date]], date | None]:
    """Closed pauses merged and sorted, and the start of the earliest open pause if any."""
    closed: list[tuple[date, date]] = []
    open_start: date | None = None
    for start, end in pauses:
        if end is None:
            open_start = start if open_start is None else min(open_start, start)
            continue
        if end < start:
            raise ValueError(f"pause ends ({end}) before it starts ({start})")
        closed.append((start, end))
    closed.sort()
    merged: list[tuple[date, date]] = []
    for start, end in closed:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged, open_start


def due_date(accepted_on: date, limit_days: int, pauses: Sequence[Pause] = ()) -> Deadline:
    """The last working day of a limit of ``limit_days`` working days accepted on
    ``accepted_on``, the working days inside pauses not counted.

    An open pause (end None) is taken as ending on its start day and the result is marked
    ``paused``: store the date again when the pause ends.
    """
    if limit_days < 0:
        raise ValueError("limit_days must be >= 0")
    closed, open_start = _merged(pauses)
    cal = _calendar_for(accepted_on, *(d for pause in closed for d in pause))
    cursor, remaining = accepted_on, limit_days
    due: date | None = None
    for start, end in closed:
        if end <= cursor:
            continue  # over before the clock started (e.g. a correction before acceptance)
        running = cal.working_days_between(cursor, max(start, cursor))
        if running >= remaining:
            cal, due = _add(cal, cursor, remaining)
            break
        remaining -= running
        cursor = end
    if due is None:
        cal, due = _add(cal, cursor, remaining)
    return _deadline(cal, accepted_on, due, paused=open_start is not None)


def _reference_day(today: date | None, pauses: Iterable[Pause]) -> date:
    today = today or timezone.localdate()
    open_start = min((start for start, end in pauses if end is None), default=None)
    # A stopped clock shows the days left on the day it stopped.
    if open_start is not None and open_start <= today:
        return open_start
    return today


def working_days_left(due: date | Deadline, today: date | None = None, pauses: Sequence[Pause] = ()) -> int:
    """Working days left until ``due`` (computed by ``due_date`` with the same pauses): 0 on
    the due day itself, negative (working days overdue) after it. Frozen while a pause is open.
    """
    due_day = due.date if isinstance(due, Deadline) else due
    return working_days_between(_reference_day(today, pauses), due_day)


_yellow: tuple[int, int] | None = None


def _yellow_settings() -> tuple[int, int]:
    global _yellow
    if _yellow is None:
        _yellow = (
            int(getattr(settings, "WORKTIME_YELLOW_DAYS", 2)),
            int(getattr(settings, "WORKTIME_YELLOW_PERCENT", 20)),
        )
    return _yellow


def yellow_threshold(limit_days: int | None = None) -> int:
    """Working days left at or under which a case turns yellow: ``WORKTIME_YELLOW_DAYS``
    (default 2) or ``WORKTIME_YELLOW_PERCENT`` (default 20) of the limit, whichever is more."""
    days, percent = _yellow_settings()
    if limit_days:
        days = max(days, (limit_days * percent + 99) // 100)  # integer ceil: no float surprises
    return days


def clock_state(
    due: date | Deadline,
    today: date | None = None,
    pauses: Sequence[Pause] = (),
    *,
    limit_days: int | None = None,
    yellow_days: int | None = None,
) -> ClockState:
    """ "red" once the due day has passed, "yellow" when at most ``yellow_days`` (default
    ``yellow_threshold(limit_days)``) working days are left, else "green"."""
    due_day = due.date if isinstance(due, Deadline) else due
    ref = _reference_day(today, pauses)
    threshold = yellow_threshold(limit_days) if yellow_days is None else yellow_days
    return _state(ref, due_day, working_days_between(ref, due_day), threshold)


def _state(ref: date, due_day: date, left: int, threshold: int) -> ClockState:
    if ref > due_day:
        return RED
    return YELLOW if left <= threshold else GREEN


@dataclass(frozen=True, slots=True)
class StateBounds:
    """The traffic light as date ranges of the stored due date, for a database filter or an
    index range scan (inbox, supervision): due < red_before is red, red_before <= due <
    yellow_before is yellow, the rest green. Valid for running clocks; a paused case is judged
    on the day it stopped (``clock_state`` with its pauses)."""

    red_before: date
    yellow_before: date

    def state(self, due: date) -> ClockState:
        if due < self.red_before:
            return RED
        return YELLOW if due < self.yellow_before else GREEN


def state_bounds(
    today: date | None = None, *, limit_days: int | None = None, yellow_days: int | None = None
) -> StateBounds:
    """``clock_state`` turned around: the due dates that are red or yellow on ``today``."""
    today = today or timezone.localdate()
    threshold = yellow_threshold(limit_days) if yellow_days is None else yellow_days
    # Yellow while working days in (today, due] <= threshold, i.e. due before the
    # (threshold + 1)-th working day after today.
    return StateBounds(red_before=today, yellow_before=add_working_days(today, threshold + 1).date)


@dataclass(frozen=True, slots=True)
class CaseClock:
    """Everything a case page or inbox row shows about its time limit."""

    deadline: Deadline
    days_left: int
    state: ClockState
    paused: bool
    days_used: int  # working days counted so far (pauses excluded)
    limit_days: int

    @property
    def due(self) -> date:
        return self.deadline.date

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.deadline.warnings


def case_clock(
    accepted_on: date,
    limit_days: int,
    pauses: Sequence[Pause] = (),
    today: date | None = None,
    *,
    yellow_days: int | None = None,
) -> CaseClock:
    """``due_date`` + ``working_days_left`` + ``clock_state`` in one call."""
    deadline = due_date(accepted_on, limit_days, pauses)
    ref = _reference_day(today, pauses)
    left = working_days_between(ref, deadline.date)
    threshold = yellow_threshold(limit_days) if yellow_days is None else yellow_days
    return CaseClock(
        deadline=deadline,
        days_left=left,
        state=_state(ref, deadline.date, left, threshold),
        paused=deadline.paused,
        days_used=limit_days - left,
        limit_days=limit_days,
    )


def year_days(year: int) -> dict[date, tuple[str, str]]:
    """The holidays and make-up working days on record for ``year``: date -> (kind, name)."""
    from .models import DayKind

    return {
        d: (k, n)
        for d, k, n in CalendarDay.objects.filter(
            date__year=year, kind__in=[DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY]
        ).values_list("date", "kind", "holiday_name")
    }


def year_status(year: int) -> CalendarYear | None:
    return CalendarYear.objects.filter(year=year).first()
