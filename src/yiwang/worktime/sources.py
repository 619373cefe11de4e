"""Reading the ``chinesecalendar`` package (statutory holidays and 调休 make-up working days,
2004 to the last year it ships). No Django models here, so the data migration can use it too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from chinese_calendar.constants import Holiday, holidays, workdays

# Values a migration and the seed command store; kept as plain strings so this module does not
# import the models (the migration must not depend on today's model classes).
WORKDAY, WEEKEND, HOLIDAY, MAKEUP_WORKDAY = "workday", "weekend", "holiday", "makeup_workday"


@dataclass(frozen=True, slots=True)
class SourceDay:
    date: date
    is_working_day: bool
    kind: str
    holiday_name: str


def package_years() -> range:
    """Years the installed package covers (it raises for any other year)."""
    years = [d.year for d in holidays]
    return range(min(years), max(years) + 1)


def _chinese_name(english: str | None) -> str:
    if not english:
        return ""
    try:
        return Holiday(english).chinese
    except ValueError:  # a name a newer package adds before we know it: keep it readable
        return english


def package_days(year: int) -> Iterator[SourceDay]:
    """Every date of ``year`` as the package classifies it."""
    if year not in package_years():
        raise ValueError(f"chinesecalendar has no data for {year}")
    day = date(year, 1, 1)
    one = timedelta(days=1)
    while day.year == year:
        # The same rule as chinese_calendar.get_holiday_detail, read from its tables directly:
        # the API re-validates the year against every table key on each call, once per day of
        # the year here.
        # tests/worktime/test_sources.py checks both agree on every day.
        if day in workdays:
            yield SourceDay(day, True, MAKEUP_WORKDAY, _chinese_name(workdays[day]))
        elif day in holidays:
            yield SourceDay(day, False, HOLIDAY, _chinese_name(holidays[day]))
        elif day.weekday() > 4:
            yield SourceDay(day, False, WEEKEND, "")
        else:
            yield SourceDay(day, True, WORKDAY, "")
        day += one
