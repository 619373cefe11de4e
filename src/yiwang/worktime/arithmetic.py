"""Working-day arithmetic on an in-memory calendar: pure functions, no database.

``WorkCalendar`` holds, for a span of years, one flag per day (working or not) and the running
count of working days, so that counting the working days between two dates is two array reads
and adding n working days is one binary search, whatever n is. ``selectors`` builds it from
the calendar table and caches it per process.

Conventions (docs/worktime.md): limits are in working days (《行政许可法》第八十二条: 期限以
工作日计算，不含法定节假日); the day a period starts on is not counted (民法典 第二百零一条), so
``working_days_between(a, b)`` counts the working days in (a, b] and ``add_working_days(a, n)``
is the n-th working day after a.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from itertools import accumulate

# Years outside the stored span are still answered (weekend rule), by growing the span.
_MARGIN_YEARS = 30


class WorkCalendar:
    """Immutable after construction; ``extended`` returns a wider copy."""

    __slots__ = ("_base", "_cum", "_days", "_first_year", "_last_year", "complete_years")

    def __init__(
        self,
        days: Mapping[date, bool],
        complete_years: Iterable[int] = (),
        *,
        first_year: int | None = None,
        last_year: int | None = None,
    ) -> None:
        self._days = dict(days)
        self.complete_years = frozenset(complete_years)
        known = [d.year for d in self._days] + list(self.complete_years)
        this_year = date.today().year
        lo = min([*known, this_year]) - 1
        hi = max([*known, this_year]) + _MARGIN_YEARS
        self._first_year = min(lo, first_year) if first_year else lo
        self._last_year = max(hi, last_year) if last_year else hi
        self._first_year = max(self._first_year, 1)
        self._last_year = min(self._last_year, 9998)
        start = date(self._first_year, 1, 1)
        stop = date(self._last_year, 12, 31)
        self._base = start.toordinal()
        flags = []
        get = self._days.get
        day, one = start, timedelta(days=1)
        while day <= stop:
            flag = get(day)
            flags.append(day.weekday() < 5 if flag is None else flag)
            day += one
        # _cum[i] = working days in [base, base + i); len(flags) + 1 entries.
        self._cum = [0, *accumulate(flags)]

    # -- span -------------------------------------------------------------------------------
    def covers(self, *dates: date) -> bool:
        return all(self._first_year <= d.year <= self._last_year for d in dates)

    def extended(self, *dates: date) -> WorkCalendar:
        years = [d.year for d in dates]
        return WorkCalendar(
            self._days,
            self.complete_years,
            first_year=min([*years, self._first_year]) - 1,
            last_year=max([*years, self._last_year]) + _MARGIN_YEARS,
        )

    def _index(self, d: date) -> int:
        i = d.toordinal() - self._base
        # A negative index would silently read from the end of the list.
        if i < 0 or i >= len(self._cum) - 1:
            raise OverflowError(f"{d} is outside the calendar span; use extended()")
        return i

    # -- questions --------------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        i = self._index(d)
        return self._cum[i + 1] > self._cum[i]

    def is_known(self, d: date) -> bool:
        """Whether d's year has its official arrangement (else the weekend rule is a guess)."""
        return d.year in self.complete_years

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative (minus those in (b, a]) when b is before a."""
        return self._cum[self._index(b) + 1] - self._cum[self._index(a) + 1]

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself for n == 0)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        target = self._cum[self._index(start) + 1] + n
        j = bisect_left(self._cum, target)
        if j >= len(self._cum):
            raise OverflowError("beyond the calendar span")
        # _cum[j] >= target first happens right after the day base + j - 1.
        return date.fromordinal(self._base + j - 1)

    def missing_years(self, after: date, through: date) -> list[int]:
        """Years of the days in (after, through] that have no complete arrangement."""
        if through <= after:
            return []
        if after.year == through.year and after.year in self.complete_years:
            return []  # the common case, without building a range
        first = (after + timedelta(days=1)).year
        return [y for y in range(first, through.year + 1) if y not in self.complete_years]
