"""Working-day arithmetic: calls per second (not part of the test suite).

    YIWANG_DATA_DIR=/tmp/wt .venv/bin/python bench/worktime_bench.py

Migrates a scratch SQLite database under YIWANG_DATA_DIR when needed, then times, on the cached
calendar: add_working_days (20 working days, random start 2024–2026), working_days_between,
due_date with a correction pause, case_clock (due date + days left + state: what an inbox row
needs), and the cold load of the calendar from the table. Medians of 5 rounds.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
os.environ.setdefault("YIWANG_DATA_DIR", "/tmp/yiwang-worktime-bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from yiwang.worktime import selectors as wt  # noqa: E402

ROUNDS, CALLS = 5, 100_000


def rate(fn, args: list[tuple]) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for a in args:
            fn(*a)
        rounds.append(len(args) / (time.perf_counter() - started))
    return statistics.median(rounds)


def main() -> None:
    call_command("migrate", verbosity=0)
    rng = random.Random(2026)
    base = date(2024, 1, 1)
    starts = [base + timedelta(days=rng.randrange(3 * 365)) for _ in range(CALLS)]
    pauses = [[(s + timedelta(days=3), s + timedelta(days=10))] for s in starts]

    wt.invalidate_calendar()
    t = time.perf_counter()
    wt.get_calendar()
    cold_ms = (time.perf_counter() - t) * 1000

    figures = {
        "add_working_days(start, 20)": rate(wt.add_working_days, [(s, 20) for s in starts]),
        "working_days_between(a, a+40d)": rate(
            wt.working_days_between, [(s, s + timedelta(days=40)) for s in starts]
        ),
        "due_date(accepted, 20, [pause])": rate(
            wt.due_date, [(s, 20, p) for s, p in zip(starts, pauses, strict=True)]
        ),
        "case_clock(accepted, 20, [pause], today)": rate(
            wt.case_clock, [(s, 20, p, s + timedelta(days=15)) for s, p in zip(starts, pauses, strict=True)]
        ),
    }
    print(f"python {sys.version.split()[0]}, {CALLS:,} calls x {ROUNDS} rounds, median")
    print(f"  cold load of the calendar (8,400 days from the table): {cold_ms:.1f} ms")
    for name, per_second in figures.items():
        print(f"  {name:<42} {per_second:>12,.0f} /s   {1e6 / per_second:6.2f} µs per call")


if __name__ == "__main__":
    main()
