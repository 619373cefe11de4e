"""Deadlines on the real calendar (seeded by the migration from chinesecalendar): Spring
Festival and National Day with their make-up days, pauses, the traffic light, and a year
without data."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from yiwang.worktime import selectors as wt
from yiwang.worktime import services
from yiwang.worktime.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db
D = date


@pytest.fixture
def platform_admin():
    return get_user_model().objects.create_user(
        "pa", password="pw-123456789", is_staff=True, is_superuser=True
    )


# -- the calendar itself ----------------------------------------------------------------------
def test_migration_seeded_every_package_year():
    assert CalendarYear.objects.filter(complete=True, source="chinesecalendar").count() >= 23
    assert CalendarDay.objects.filter(date__year=2024).count() == 366


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2024, 2, 4), True),  # Sunday, make-up working day before the 2024 Spring Festival
        (D(2024, 2, 18), True),  # Sunday, make-up working day after it
        (D(2024, 2, 12), False),  # Monday in the holiday
        (D(2025, 1, 26), True),  # Sunday make-up day, 2025 Spring Festival
        (D(2025, 2, 8), True),  # Saturday make-up day
        (D(2025, 1, 28), False),  # 除夕 2025 was a holiday
        (D(2026, 2, 14), True),  # Saturday make-up day, 2026 Spring Festival
        (D(2026, 2, 23), False),  # Monday, last day of the 2026 holiday
        (D(2026, 2, 28), True),
        (D(2025, 10, 8), False),  # National Day + Mid-autumn 2025, eight days
        (D(2025, 10, 11), True),
        (D(2025, 3, 8), False),  # an ordinary Saturday
    ],
)
def test_working_days(day, working):
    assert wt.is_working_day(day) is working


# -- add_working_days across holidays -------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2024, 2, 2), 1, D(2024, 2, 4)),  # Friday + 1 = the make-up Sunday
        (D(2024, 2, 8), 2, D(2024, 2, 18)),  # 9 Feb, then the holiday, then the make-up Sunday
        (D(2024, 2, 1), 10, D(2024, 2, 20)),  # 2, 4, 5–9, 18, 19, 20
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),  # over the whole 2025 holiday
        (D(2025, 2, 7), 1, D(2025, 2, 8)),  # make-up Saturday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # 15–23 Feb 2026 off
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # National Day make-up Sunday
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # 1–8 Oct 2025 off
        (D(2025, 3, 7), 0, D(2025, 3, 7)),
    ],
)
def test_add_working_days(start, n, due):
    deadline = wt.add_working_days(start, n)
    assert deadline.date == due
    assert deadline.estimated is False and deadline.warnings == ()
    assert wt.working_days_between(start, due) == n


def test_twenty_days_across_spring_festival_2024():
    # Accepted Thursday 1 Feb 2024; the acceptance day does not count. Working days: 2, 4(Sun),
    # 5, 6, 7, 8, 9, [10–17 off], 18(Sun), 19, 20, 21, 22, 23, 26, 27, 28, 29, 1 Mar, 4, 5.
    assert wt.due_date(D(2024, 2, 1), 20).date == D(2024, 3, 5)
    # The same calendar days by the weekend rule alone would give 29 Feb: the holiday matters.


def test_acceptance_on_a_holiday_counts_from_the_next_working_day():
    assert wt.due_date(D(2024, 2, 12), 1).date == D(2024, 2, 18)
    assert wt.due_date(D(2024, 2, 12), 0).date == D(2024, 2, 12)  # instant item: due that day


def test_working_days_between_is_signed():
    assert wt.working_days_between(D(2024, 2, 9), D(2024, 2, 19)) == 2
    assert wt.working_days_between(D(2024, 2, 19), D(2024, 2, 9)) == -2
    assert wt.working_days_between(D(2024, 2, 9), D(2024, 2, 9)) == 0


def test_negative_inputs_are_refused():
    with pytest.raises(ValueError):
        wt.add_working_days(D(2024, 1, 1), -1)
    with pytest.raises(ValueError):
        wt.due_date(D(2024, 1, 1), 5, [(D(2024, 1, 5), D(2024, 1, 3))])


# -- pauses ---------------------------------------------------------------------------------
ACCEPTED = D(2025, 1, 20)  # Monday before the 2025 Spring Festival


def test_limit_across_spring_festival_2025_without_pause():
    # 21, 22, 23, 24, 26(Sun), 27, [28 Jan–4 Feb off], 5, 6, 7, 8(Sat)
    assert wt.due_date(ACCEPTED, 10).date == D(2025, 2, 8)


def test_correction_pause_in_the_middle():
    # Correction requested on 22 Jan (counted), corrected on 5 Feb (not counted): 23, 24, 26,
    # 27 Jan and 5 Feb do not count. Counted: 21, 22, then 6, 7, 8, 10, 11, 12, 13, 14 Feb.
    deadline = wt.due_date(ACCEPTED, 10, [(D(2025, 1, 22), D(2025, 2, 5))])
    assert deadline.date == D(2025, 2, 14)
    assert not deadline.paused and not deadline.estimated


def test_same_day_pause_costs_nothing():
    assert wt.due_date(ACCEPTED, 10, [(D(2025, 1, 22), D(2025, 1, 22))]).date == D(2025, 2, 8)


def test_pause_over_holidays_only_costs_nothing():
    # A suspension that runs only over days off removes no working day.
    assert wt.due_date(ACCEPTED, 10, [(D(2025, 1, 27), D(2025, 2, 4))]).date == D(2025, 2, 8)


def test_overlapping_and_early_pauses():
    pauses = [
        (D(2025, 1, 22), D(2025, 1, 27)),
        (D(2025, 1, 24), D(2025, 2, 5)),
        (D(2025, 1, 1), D(2025, 1, 10)),
    ]
    assert wt.due_date(ACCEPTED, 10, pauses).date == D(2025, 2, 14)


def test_pause_after_the_deadline_changes_nothing():
    assert wt.due_date(ACCEPTED, 10, [(D(2025, 2, 8), D(2025, 2, 20))]).date == D(2025, 2, 8)


def test_open_pause_freezes_the_clock():
    pauses = [(D(2025, 1, 22), None)]
    deadline = wt.due_date(ACCEPTED, 10, pauses)
    assert deadline.paused and deadline.date == D(2025, 2, 8)
    # Days left are those on the day it stopped: 23, 24, 26, 27 Jan, 5, 6, 7, 8 Feb.
    for today in (D(2025, 1, 22), D(2025, 2, 20), D(2025, 3, 30)):
        assert wt.working_days_left(deadline, today, pauses) == 8
        assert wt.clock_state(deadline, today, pauses, limit_days=10) == "green"
    clock = wt.case_clock(ACCEPTED, 10, pauses, today=D(2025, 3, 30))
    assert clock.paused and clock.days_left == 8 and clock.days_used == 2


# -- working days left and the traffic light --------------------------------------------------
@pytest.mark.parametrize(
    ("today", "left", "state"),
    [
        (D(2025, 1, 20), 10, "green"),
        (D(2025, 2, 5), 3, "green"),
        (D(2025, 2, 6), 2, "yellow"),  # 2 working days left: yellow
        (D(2025, 2, 8), 0, "yellow"),  # the due day itself
        (D(2025, 2, 9), 0, "red"),  # Sunday after: past, though no working day is lost yet
        (D(2025, 2, 11), -2, "red"),
    ],
)
def test_days_left_and_state(today, left, state):
    due = wt.due_date(ACCEPTED, 10)
    assert wt.working_days_left(due, today) == left
    assert wt.clock_state(due, today, limit_days=10) == state
    clock = wt.case_clock(ACCEPTED, 10, today=today)
    assert (clock.days_left, clock.state, clock.due) == (left, state, D(2025, 2, 8))


def test_yellow_threshold_is_days_or_share_of_limit(settings):
    assert wt.yellow_threshold(None) == 2
    assert wt.yellow_threshold(5) == 2
    assert wt.yellow_threshold(15) == 3  # 20 % of 15, no float rounding up to 4
    assert wt.yellow_threshold(20) == 4
    assert wt.yellow_threshold(60) == 12
    settings.WORKTIME_YELLOW_DAYS = 5
    settings.WORKTIME_YELLOW_PERCENT = 10
    assert wt.yellow_threshold(20) == 5 and wt.yellow_threshold(100) == 10
    due = wt.due_date(ACCEPTED, 10)
    assert wt.clock_state(due, D(2025, 2, 5), yellow_days=3) == "yellow"
    assert wt.clock_state(due, D(2025, 2, 5), yellow_days=2) == "green"


# -- a year without data --------------------------------------------------------------------
DEC_2026 = D(2026, 12, 20)  # Sunday; 10 working days: 21–25, 28–31 Dec, 1 Jan 2027


def test_deadline_into_2027_is_estimated_with_a_warning():
    deadline = wt.due_date(DEC_2026, 10)
    assert deadline.date == D(2027, 1, 1)
    assert deadline.estimated and deadline.missing_years == (2027,)
    assert deadline.warnings == ("2027年节假日安排尚未录入，截止日期按周末推算，可能不准确",)
    # Inside known years there is no warning.
    assert wt.due_date(DEC_2026, 9).warnings == ()


def test_admin_entered_2027_removes_the_warning(platform_admin):
    assert wt.due_date(DEC_2026, 10).estimated
    # A made-up arrangement for the test (the real one is published around November 2026).
    services.import_year(
        2027,
        "放假,元旦,2027-01-01,2027-01-03\n放假,春节,2027-02-05,2027-02-12\n补班,春节,2027-02-14\n",
        user=platform_admin,
        note="测试",
    )
    deadline = wt.due_date(DEC_2026, 10)  # no manual reload: the edit refreshed the cache
    assert deadline.date == D(2027, 1, 4)
    assert not deadline.estimated and deadline.warnings == ()
    assert wt.add_working_days(D(2027, 2, 4), 1).date == D(2027, 2, 14)
    assert wt.add_working_days(D(2027, 12, 30), 5).estimated  # 2028 is still unknown


def test_far_future_and_distant_past_are_answered_by_the_weekend_rule():
    deadline = wt.add_working_days(D(2090, 1, 2), 300)
    assert deadline.estimated and deadline.missing_years[0] == 2090
    assert wt.working_days_between(D(2090, 1, 2), deadline.date) == 300
    old = wt.add_working_days(D(1999, 12, 30), 3)
    assert old.date == D(2000, 1, 4) and old.missing_years == (1999, 2000)  # 31 Dec 1999 counted


def test_empty_table_is_seeded_lazily():
    CalendarDay.objects.all().delete()
    CalendarYear.objects.all().delete()
    wt.invalidate_calendar()
    assert wt.add_working_days(D(2024, 2, 8), 2).date == D(2024, 2, 18)
    assert CalendarYear.objects.filter(complete=True).count() >= 23


def test_other_processes_notice_an_edit(platform_admin, settings):
    """A process whose cached calendar predates an edit (made elsewhere) picks it up once the
    recheck interval has passed, by the year table's version stamp."""
    settings.WORKTIME_RECHECK_SECONDS = 0
    assert wt.due_date(DEC_2026, 10).estimated
    CalendarYear.objects.create(year=2027, complete=True, source="admin")  # "another process"
    assert not wt.due_date(DEC_2026, 10).estimated


def test_state_bounds_around_spring_festival_2025():
    # On Friday 24 Jan 2025 with the default 2 days: due 24 Jan or later is not red; yellow
    # while at most 2 working days are left: 26 Jan (Sunday make-up) and 27 Jan; 28 Jan–5 Feb
    # are beyond the 3rd working day (5 Feb), so green from 5 Feb.
    bounds = wt.state_bounds(D(2025, 1, 24))
    assert (bounds.red_before, bounds.yellow_before) == (D(2025, 1, 24), D(2025, 2, 5))
    assert bounds.state(D(2025, 1, 23)) == "red"
    assert bounds.state(D(2025, 2, 4)) == "yellow"  # a holiday: no such due date, but consistent
    assert bounds.state(D(2025, 2, 5)) == "green"
