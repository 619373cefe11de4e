"""CPU cost of each request type of the load test, in-process, on the stack's database.

    python bench/loadtest/cost.py [-n 40] [--profile "wb case"]

Runs the load test's read requests through Django's test client (whole middleware stack,
sessions, templates; no HTTP server) against ``make stack``'s PostgreSQL database and plan, and
prints per type the median and the lowest CPU time of this process, the Python function calls
of one request, the median wall time, the number of SQL statements and their wall time. CPU time does not move with other jobs on the machine the way
requests per second do, so it says what a request type costs and, weighted by the mix of
``locustfile.py``, how many mixed requests per second two CPUs can serve at most
(PostgreSQL's own CPU and the load generator's come on top). On a busy machine the lowest CPU
time and the count of calls, which other jobs do not move, compare two revisions best.
``--profile NAME`` prints a cProfile of that type.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import random
import statistics
import sys
import time
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Offered requests per second of each type with the locustfile's defaults (docs/benchmarks.md).
MIX_RPS = {
    "guide": 82.5,
    "search": 30.0,
    "home": 12.0,
    "browse": 10.5,
    "case lookup": 15.0,
    "wb inbox": 124.8 + 4.0,
    "wb inbox filtered": 37.4 + 4.8,
    "wb inbox next page": 25.0,
    "wb case": 124.8 + 4.8,
    "my cases": 8.9,
    "my case": 11.1,
    "life event": 0.0,  # not in the load test's mix
    "hello": 0.0,
}


def _stack_env() -> None:
    spec = importlib.util.spec_from_file_location("stack", ROOT / "deploy" / "stack.py")
    stack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stack)
    os.environ.update(stack.stack_env())
    # The per-client limits the stack runs without (Makefile STACK_ENV): one process sends every
    # request here, and a limited search or lookup would measure the 429 page instead.
    for name, value in (
        ("YIWANG_RATE_SEARCH", "off"),
        ("YIWANG_RATE_UPLOAD", "off"),
        ("YIWANG_RATE_REGISTER", "off"),
        ("YIWANG_API_THROTTLE", "0"),
    ):
        os.environ.setdefault(name, value)
    os.environ["ALLOWED_HOSTS"] += ",testserver"  # Django's test client


class SqlTimer:
    def __init__(self) -> None:
        self.n = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t
            self.n += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    _stack_env()
    import django

    django.setup()
    # As yiwang.wsgi does in each gunicorn worker (settings.YIWANG_GC_THRESHOLD; 0: CPython's).
    from yiwang.core.serving import tune_garbage_collector

    tune_garbage_collector()
    from django.db import connection
    from django.test import Client

    sys.path.insert(0, str(Path(__file__).parent))
    plan = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text(encoding="utf-8"))
    rng = random.Random(1)

    def client(username: str | None) -> Client:
        c = Client(HTTP_X_FORWARDED_FOR="10.9.9.9")
        if username:
            page = c.get("/auth/login/")
            r = c.post(
                "/auth/login/",
                {
                    "csrfmiddlewaretoken": page.cookies["csrftoken"].value
                    if "csrftoken" in page.cookies
                    else "",
                    "login": username,
                    "password": plan["password"],
                    "next": "/",
                },
            )
            assert r.status_code == 302, (username, r.status_code)
        return c

    anon = client(None)
    reader = client(plan["readers"][0])
    follower = client(plan["applicants"][0])
    import re

    first_page = reader.get("/workbench/").content.decode()
    cases = re.findall(r'href="/workbench/cases/(\d+)/"', first_page)
    next_link = (re.findall(r'<a href="(\?[^"]*)" rel="next">', first_page) or ["?"])[0]
    numbers = [
        n for n in re.findall(r'href="/my/cases/([^"/]+)/"', follower.get("/my/cases/").content.decode())
    ]
    guides = plan["guides"]
    from yiwang.catalog.models import LifeEvent

    life_events = list(LifeEvent.objects.order_by("code").values_list("code", flat=True)) or ["none"]
    queries = plan["queries"]
    lookups = plan["lookups"]
    kinds = {
        "hello": (anon, lambda: "/hello/"),
        "guide": (anon, lambda: f"/items/{guides[min(int(rng.paretovariate(1.0)) - 1, len(guides) - 1)]}/"),
        "search": (anon, lambda: f"/search/?q={rng.choice(queries)}"),
        "home": (anon, lambda: "/"),
        "browse": (anon, lambda: f"/items/?page={rng.randint(1, 20)}"),
        "life event": (anon, lambda: f"/life-events/{rng.choice(life_events)}/"),
        "case lookup": (anon, lambda: "/cases/lookup/?number={}&code={}".format(*rng.choice(lookups))),
        "wb inbox": (reader, lambda: "/workbench/"),
        "wb inbox filtered": (
            reader,
            lambda: (
                "/workbench/?" + rng.choice(["step=accept", "step=review", "state=overdue", "state=due_soon"])
            ),
        ),
        "wb inbox next page": (reader, lambda: "/workbench/" + unescape(next_link)),
        "wb case": (reader, lambda: f"/workbench/cases/{rng.choice(cases)}/"),
        "my cases": (follower, lambda: "/my/cases/"),
        "my case": (follower, lambda: f"/my/cases/{rng.choice(numbers)}/"),
    }
    timer = SqlTimer()
    rows = []
    calls: list[int] = []  # per row of ``rows``
    low: list[float] = []
    with connection.execute_wrapper(timer):
        for name, (c, path) in kinds.items():
            for _ in range(5):
                c.get(path(), HTTP_X_FORWARDED_FOR=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}")
            cpu, wall, nq, sql = [], [], [], []
            prof = cProfile.Profile() if args.profile == name else None
            for _ in range(args.n):
                p = path()
                timer.n, timer.seconds = 0, 0.0
                c0, w0 = time.process_time(), time.perf_counter()
                if prof:
                    prof.enable()
                r = c.get(p, HTTP_X_FORWARDED_FOR=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}")
                if prof:
                    prof.disable()
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
                nq.append(timer.n)
                sql.append(timer.seconds)
                if r.status_code not in (200, 404):
                    print(f"{name}: {r.status_code} on {p}", file=sys.stderr)
            # Python function calls of one more request, profiled apart from the timed ones: a
            # count that other jobs on the machine do not move, unlike CPU time.
            counter = cProfile.Profile()
            counter.enable()
            c.get(path(), HTTP_X_FORWARDED_FOR=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}")
            counter.disable()
            calls.append(pstats.Stats(counter).total_calls)  # type: ignore[attr-defined]
            low.append(min(cpu))
            rows.append(
                (
                    name,
                    statistics.median(cpu),
                    statistics.median(wall),
                    statistics.median(nq),
                    statistics.median(sql),
                )
            )
            if prof:
                pstats.Stats(prof).sort_stats(os.environ.get("COST_SORT", "cumulative")).print_stats(40)
    print(f"load average: {os.getloadavg()}")
    hello = dict((n, c) for n, c, *_ in rows).get("hello", 0.0)
    print(
        "| request type | CPU ms (median) | CPU ms (min) | Python calls | hello ÷ type | wall ms "
        "| SQL statements | SQL ms | share of the mix's CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    total_rps = sum(MIX_RPS.values())
    weighted = sum(MIX_RPS.get(n, 0) * c for n, c, *_ in rows)
    for (name, c, w, q, s), lo, nc in zip(rows, low, calls, strict=True):
        share = MIX_RPS.get(name, 0) * c / weighted if weighted else 0
        ratio = f"{hello / c:.3f}" if c else "—"
        print(
            f"| {name} | {c * 1000:.2f} | {lo * 1000:.2f} | {nc:,} | {ratio} | {w * 1000:.1f} | {q:.0f} "
            f"| {s * 1000:.1f} | {share:.0%} |"
        )
    per_req = weighted / total_rps
    print(
        f"\nweighted CPU per read request of the mix: {per_req * 1000:.1f} ms -> at most "
        f"{2 / per_req:.0f} req/s on 2 CPUs for the web processes alone"
    )


if __name__ == "__main__":
    main()
