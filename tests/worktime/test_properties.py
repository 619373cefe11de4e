"""Properties of the arithmetic, against a day-by-day reference model.

The pure ``WorkCalendar`` is built straight from the package data (no database), so hypothesis
can try thousands of cases quickly; one test checks the database-backed selectors give the same
answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.worktime import sources
from yiwang.worktime.arithmetic import WorkCalendar

FLAGS = {d.date: d.is_working_day for y in sources.package_years() for d in sources.package_days(y)}
CAL = WorkCalendar(FLAGS, sources.package_years()).extended(date(1990, 1, 1), date(2040, 1, 1))
ONE = timedelta(days=1)

dates = st.dates(min_value=date(2002, 1, 1), max_value=date(2029, 12, 31))
counts = st.integers(min_value=0, max_value=400)


def working(d: date) -> bool:
    flag = FLAGS.get(d)
    return d.weekday() < 5 if flag is None else flag


def naive_add(start: date, n: int, pauses=()) -> date:
    """Walk day by day: the n-th working day after start not inside a pause (s, e]."""
    day, left = start, n
    while left:
        day += ONE
        if working(day) and not any(s < day <= e for s, e in pauses):
            left -= 1
    return day


@settings(max_examples=400, deadline=None)
@given(dates, counts)
def test_add_matches_the_day_by_day_walk(start, n):
    assert CAL.add_working_days(start, n) == naive_add(start, n)


@settings(max_examples=400, deadline=None)
@given(dates, counts)
def test_adding_n_then_counting_back_gives_n(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    if n:
        # ... and due is the first such day: a working day, with n - 1 before it.
        assert CAL.is_working_day(due)
        assert CAL.working_days_between(start, due - ONE) == n - 1


@settings(max_examples=300, deadline=None)
@given(dates, dates, counts)
def test_monotonic_in_start(a, b, n):
    a, b = min(a, b), max(a, b)
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)


@settings(max_examples=300, deadline=None)
@given(dates, counts, counts)
def test_monotonic_in_n(start, n, m):
    n, m = min(n, m), max(n, m)
    assert CAL.add_working_days(start, n) <= CAL.add_working_days(start, m)
    assert (
        CAL.working_days_between(start, CAL.add_working_days(start, m))
        - CAL.working_days_between(start, CAL.add_working_days(start, n))
        == m - n
    )


@settings(max_examples=300, deadline=None)
@given(dates, dates, dates)
def test_between_adds_up_and_is_antisymmetric(a, b, c):
    assert CAL.working_days_between(a, b) + CAL.working_days_between(b, c) == CAL.working_days_between(a, c)
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


def test_outside_the_span_is_an_error_not_a_wrong_answer():
    narrow = WorkCalendar(FLAGS, sources.package_years())
    with pytest.raises(OverflowError):
        narrow.add_working_days(date(1901, 1, 1), 1)
    with pytest.raises(OverflowError):
        narrow.working_days_between(date(2024, 1, 1), date(2300, 1, 1))


def test_widening_the_span_changes_nothing():
    wide = CAL.extended(date(1950, 1, 1), date(2150, 1, 1))
    for start in (date(2004, 1, 1), date(2024, 2, 1), date(2026, 12, 20)):
        for n in (0, 1, 20, 250):
            assert wide.add_working_days(start, n) == CAL.add_working_days(start, n)


pauses_st = st.lists(
    st.tuples(dates, st.integers(min_value=0, max_value=40)).map(
        lambda t: (t[0], t[0] + timedelta(days=t[1]))
    ),
    max_size=4,
)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(dates, st.integers(min_value=0, max_value=120), pauses_st)
def test_due_date_matches_the_walk_and_only_grows_with_pauses(accepted, limit, pauses):
    from yiwang.worktime import selectors as wt

    deadline = wt.due_date(accepted, limit, pauses)
    assert deadline.date == naive_add(accepted, limit, pauses)
    assert deadline.date >= wt.due_date(accepted, limit).date
    # Same-day pauses cost nothing.
    assert wt.due_date(accepted, limit, [(s, s) for s, _ in pauses]).date == wt.due_date(accepted, limit).date
    # The warning names exactly the counted years with no official arrangement.
    counted_years = {y for y in range((accepted + ONE).year, deadline.date.year + 1)} if limit else set()
    assert set(deadline.missing_years) == {y for y in counted_years if y not in sources.package_years()}
    assert deadline.estimated == bool(deadline.missing_years)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(dates, dates, st.integers(min_value=0, max_value=10))
def test_state_bounds_agree_with_clock_state(today, due, yellow_days):
    from yiwang.worktime import selectors as wt

    bounds = wt.state_bounds(today, yellow_days=yellow_days)
    assert bounds.state(due) == wt.clock_state(due, today, yellow_days=yellow_days)
