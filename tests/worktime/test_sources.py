"""The package reader agrees with the package's own API on every day it covers."""

from __future__ import annotations

from datetime import date

import chinese_calendar

from yiwang.worktime import sources


def test_reader_matches_package_api_on_every_day():
    years = sources.package_years()
    assert years.start == 2004 and years.stop - 1 >= 2026
    for year in years:
        for day in sources.package_days(year):
            is_rest, name = chinese_calendar.get_holiday_detail(day.date)
            assert day.is_working_day == chinese_calendar.is_workday(day.date) == (not is_rest), day
            assert bool(day.holiday_name) == bool(name), day


def test_kinds_and_chinese_names():
    days = {d.date: d for d in sources.package_days(2024)}
    assert (days[date(2024, 2, 4)].kind, days[date(2024, 2, 4)].holiday_name) == ("makeup_workday", "春节")
    assert (days[date(2024, 2, 12)].kind, days[date(2024, 2, 12)].holiday_name) == ("holiday", "春节")
    assert days[date(2024, 10, 1)].holiday_name == "国庆节"
    assert days[date(2024, 3, 9)].kind == "weekend" and days[date(2024, 3, 11)].kind == "workday"
    assert len(days) == 366
