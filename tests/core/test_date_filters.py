"""core/templatetags/dates.py prints what Django's ``date`` filter prints, in any time zone."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.template import Context, Template
from django.utils import timezone

FORMATS = {"ymd": "Y-m-d", "ymd_hm": "Y-m-d H:i", "iso": "c"}


def values() -> list:
    rng = random.Random(7)
    out: list = [None, "", "2026-01-01", 0, dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)]
    for _ in range(60):
        moment = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**9))
        out.append(moment)
        out.append(moment.replace(microsecond=rng.randrange(10**6)))
        out.append(moment.replace(tzinfo=None))  # naive, as SQLite may give
    return out


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
@pytest.mark.parametrize("name", FORMATS)
def test_the_same_text_as_the_date_filter(zone, name):
    ours = Template("{% load dates %}{{ v|" + name + " }}")
    django = Template('{{ v|date:"' + FORMATS[name] + '" }}')
    with timezone.override(zone):
        for v in values():
            assert ours.render(Context({"v": v})) == django.render(Context({"v": v})), (name, zone, v)


def test_dates_too():
    day = dt.date(2026, 3, 9)
    assert Template("{% load dates %}{{ v|ymd }}").render(Context({"v": day})) == "2026-03-09"
    assert Template("{% load dates %}{{ v|iso }}").render(Context({"v": day})) == Template(
        '{{ v|date:"c" }}'
    ).render(Context({"v": day}))
