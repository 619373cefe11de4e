"""Time the warning sweep (supervision.services.sweep) over many running cases (not collected
by pytest's test run; run it by name):

    [BENCH_SWEEP_CASES=5000] [DATABASE_URL=postgres://…] PYTHONPATH=src \
        .venv/bin/python -m pytest -q -s -p no:cacheprovider bench/warning_sweep.py

It builds the cases tests' world, accepts one case through the actions, clones it (and its
application) ``BENCH_SWEEP_CASES`` times with bulk_create, then times a first sweep (every level
written), a second one (no change: reads only) and one a week later (every case yellow or red:
notices and e-mails written). The clones have no workflow tasks, so only the department head is
notified of them. Prints one JSON line, with Django's hello-world view through the test client
measured in the same run (``case_lifecycle.hello_rps``) and each sweep's cases per second
divided by it: the machines vary, the ratio is the figure to compare.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from unittest import mock

from tests.cases.conftest import World, _fast, submitted_case, world  # noqa: F401

from case_lifecycle import hello_rps  # bench/ is on the path when pytest runs this file
from yiwang.cases import actions
from yiwang.cases.models import Application, Case
from yiwang.supervision import services
from yiwang.supervision.models import StaffNotice

MONDAY = dt.date(2025, 3, 3)


def _clone(case: Case, n: int) -> None:
    app = case.application
    apps = []
    for i in range(n):
        a = Application.objects.get(pk=app.pk)
        a.pk = None
        a.idempotency_key = f"bench-{i}"
        apps.append(a)
    apps = Application.objects.bulk_create(apps, batch_size=1000)
    cases = []
    for i, a in enumerate(apps):
        c = Case.objects.get(pk=case.pk)
        c.pk = None
        c.application = a
        c.number = f"B{i:019d}"
        cases.append(c)
    Case.objects.bulk_create(cases, batch_size=1000)


def test_sweep_figures(world):  # noqa: F811 (the fixture)
    n = int(os.environ.get("BENCH_SWEEP_CASES", 5000))
    case = submitted_case(world)
    with (
        mock.patch("yiwang.cases.actions.CaseAction.today", return_value=MONDAY),
        mock.patch("yiwang.supervision.services.current_day", return_value=MONDAY),
    ):
        case = actions.Accept(case, world.clerk).run()
    _clone(case, n - 1)
    figures = {"cases": Case.objects.filter(state=case.state).count()}
    for name, day in (("first", MONDAY), ("unchanged", MONDAY), ("to_yellow", dt.date(2025, 3, 13))):
        start = time.perf_counter()
        r = services.sweep(today=day)
        figures[name] = {"seconds": round(time.perf_counter() - start, 2), "changed": r.changed}
    figures["notices"] = StaffNotice.objects.count()
    hello = hello_rps()
    figures["hello_rps"] = round(hello, 1)
    for name in ("first", "unchanged", "to_yellow"):
        per_second = figures["cases"] / max(figures[name]["seconds"], 1e-6)
        figures[name]["cases_per_s_per_hello"] = round(per_second / hello, 2)
    print(json.dumps(figures))
