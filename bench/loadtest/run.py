"""``make loadtest``: the province-day load test against ``make stack`` (docs/benchmarks.md).

    python bench/loadtest/run.py [--seconds 600] [--hello-seconds 30] [--offered 523] [--write-docs]

``--offered`` (``LOADTEST_OFFERED``) is the load offered, in requests/s: every rate of the mix is
scaled by offered / 523, so the proportions stay those of docs/benchmarks.md. The default offers
the whole mix (the article's figures at the working-day peak, the issue's aim); ``--offered 350``
tests the target (330 req/s held with p99 under 500 ms).

1. Uses the stack on STACK_PORT if one answers; otherwise starts one in the background
   (``deploy/stack.py --detach``) and stops it at the end.
   Waits until the Celery queue is empty (jobs left by earlier runs would compete with the test).
2. Baseline: locust on Django's hello-world view ``/hello/`` (``HelloUser``, LOADTEST_HELLO_USERS
   16 users without waits) against the same gunicorn, in the same run.
3. The mix (``bench/loadtest/locustfile.py``), headless, from a second process: all users
   spawned at LOADTEST_SPAWN_RATE (4) per second (their logins are the ramp), statistics reset
   LOADTEST_SETTLE_SECONDS (20) after the last one started, then ``--seconds`` of steady load.
4. Prints throughput, p50/p95/p99 and failures per request type, the load average sampled
   every 5 s and the load generator's CPU time; ``--write-docs`` puts the table into
   docs/benchmarks.md between the load-test markers.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DATA_DIR = Path(os.environ.get("STACK_DATA_DIR", ROOT / "var" / "stack")).resolve()
HOST = os.environ.get("STACK_HOST", "127.0.0.1")
PORT = int(os.environ.get("STACK_PORT", "8100"))
OUT = DATA_DIR / "loadtest"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = (
    "<!-- bench:loadtest -->",
    "<!-- /bench:loadtest -->",
)
MIX = ["Citizen", "StaffReader", "StaffDecider", "Supervisor", "Follower", "Applier"]
DB = os.environ.get("STACK_DB", "yiwang_stack")
PG = os.environ.get("STACK_PG", "postgres://postgres@127.0.0.1:5432")
TARGET_RPS, AIM_RPS, TARGET_P99_MS = 330, 500, 500
# What the whole mix offers at LT_SCALE 1 (the locustfile's table: 312 + 150 + 20 + 18 + 14 + 5 + 4).
FULL_MIX_RPS = 523


def say(msg: str) -> None:
    print(f"[loadtest] {msg}", flush=True)


def stack(*args: str) -> int:
    return subprocess.call([sys.executable, str(ROOT / "deploy" / "stack.py"), *args], cwd=ROOT)


def wait_for_jobs(limit_seconds: int = 900) -> None:
    """Let the Celery worker work off jobs queued before the test (notices of earlier runs), so
    that it does not compete with the measured load for more than the test's own jobs."""
    import redis

    queue = redis.Redis.from_url(os.environ.get("STACK_REDIS", "redis://127.0.0.1:6379/9"))
    deadline = time.monotonic() + limit_seconds
    while (n := queue.llen("celery")) and time.monotonic() < deadline:
        say(f"waiting for {n} queued jobs to be done")
        time.sleep(10)


def open_tasks_by_step() -> dict[str, int]:
    """Open workflow tasks per step. The backlog moves the figures: a step with cases waiting
    makes its deciders post a decision (and the jobs make its PDFs) every round, an empty one
    makes them read an empty inbox; the fixtures leave a third at each step, and the heads work
    theirs off faster than reviews arrive (docs/benchmarks.md, "Province-day load test")."""
    try:
        import psycopg

        with psycopg.connect(f"{PG}/{DB}", connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT spec_name, count(*) FROM workflow_task WHERE state = 'open' GROUP BY spec_name"
            ).fetchall()
    except Exception as exc:  # a report without the line rather than no report
        say(f"open tasks not read: {exc}")
        return {}
    return {name: n for name, n in sorted(rows, key=lambda r: -r[1])}


def backlog_line(before: dict[str, int], after: dict[str, int]) -> str:
    if not before and not after:
        return "- open tasks by step: not read"
    steps = list(dict.fromkeys([*before, *after]))
    return "- open tasks by step, before → after the mix: " + ", ".join(
        f"{step} {before.get(step, 0)} → {after.get(step, 0)}" for step in steps
    )


def users_in_mix(env: dict[str, str]) -> int:
    """The sum of the classes' fixed counts, read from the locustfile with the same environment."""
    code = (
        "import importlib.util,sys;"
        f"s=importlib.util.spec_from_file_location('lf', {str(HERE / 'locustfile.py')!r});"
        "m=importlib.util.module_from_spec(s);s.loader.exec_module(m);"
        f"print(sum(getattr(m, n).fixed_count for n in {MIX!r}))"
    )
    return int(subprocess.check_output([sys.executable, "-c", code], env=env, cwd=ROOT).strip())


def cpu_by_process() -> dict[int | str, tuple[str, float]]:
    """CPU seconds used so far by each process of the stack and the load generator, by pid and
    role, and by the whole machine (key "machine")."""
    import psutil

    out: dict[int | str, tuple[str, float]] = {}
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        cmd = " ".join(p.info["cmdline"] or [])
        t = p.info["cpu_times"]
        if t is None:
            continue
        role = None
        if "yiwang.wsgi" in cmd and f":{PORT}" in cmd:
            role = "web"
        elif cmd.startswith("postgres:") and f" {DB} " in f"{cmd} ":
            role = "database"
        elif "celery" in cmd and (f"stack-{PORT}@" in cmd or str(DATA_DIR / "celerybeat") in cmd):
            role = "jobs"
        elif "locust" in cmd and "locustfile" in cmd:
            role = "load generator"
        if role:
            out[p.pid] = (role, t.user + t.system)
    total = psutil.cpu_times()
    out["machine"] = (
        "machine",
        sum(getattr(total, f) for f in ("user", "nice", "system", "irq", "softirq", "steal")),
    )
    return out


class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        # Per process: database connections come and go (DB_CONN_MAX_AGE), so each one's CPU is
        # its last sample minus its first (0 when it started during the window).
        self.first, self.t_start = cpu_by_process(), time.monotonic()
        self.last: dict[int | str, tuple[str, float]] = dict(self.first)
        while not self.done.wait(5):
            self.samples.append(os.getloadavg())
            self.last.update(cpu_by_process())
            self.t_end = time.monotonic()

    def cpu_shares(self) -> dict[str, float]:
        """CPUs used on average by each part during the measured window."""
        if not hasattr(self, "t_end"):
            return {}
        span = max(1e-6, self.t_end - self.t_start)
        shares = dict.fromkeys(("web", "database", "jobs", "load generator", "machine"), 0.0)
        for key, (role, cpu) in self.last.items():
            shares[role] += (cpu - self.first.get(key, (role, 0.0))[1]) / span
        shares["other jobs"] = max(
            0.0, shares["machine"] - sum(v for k, v in shares.items() if k != "machine")
        )
        return shares


def locust(classes: list[str], users: int, spawn: float, seconds: int, prefix: Path, env: dict) -> float:
    """Run locust headless; returns the CPU seconds it used (the load generator's cost)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [
        str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), *classes,
        "--headless", "--host", f"http://{HOST}:{PORT}", "-u", str(users), "-r", str(spawn),
        "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
        "--stop-timeout", "10", "--loglevel", "WARNING",
    ]  # fmt: skip
    subprocess.run(argv, env=env, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def ms(v: str) -> str:
    try:
        return f"{float(v):.0f}"
    except ValueError:
        return v


def table(rows: list[dict[str, str]]) -> list[str]:
    out = [
        "| request type | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---|---|---|---|---|---|---|",
    ]
    # Types seen only before the statistics were reset (the ramp's staff logins) have no rows left.
    body = sorted(
        (r for r in rows if r["Name"] != "Aggregated" and int(r["Request Count"])),
        key=lambda r: -float(r["Request Count"]),
    )
    agg = [r for r in rows if r["Name"] == "Aggregated"]
    for r in [*body, *agg]:
        name = "**all**" if r["Name"] == "Aggregated" else f"{r['Type']} {r['Name']}"
        out.append(
            f"| {name} | {r['Request Count']} | {float(r['Requests/s']):.1f} | {ms(r['50%'])} | {ms(r['95%'])} | "
            f"{ms(r['99%'])} | {ms(r['Max Response Time'])} | {r['Failure Count']} |"
        )
    return out


def report(
    args, hello: list[dict], mix: list[dict], failures: list[dict], loads, cpu, users, shares, backlog=""
) -> str:
    agg = next(r for r in mix if r["Name"] == "Aggregated")
    h = next(r for r in hello if r["Name"] == "Aggregated")
    rps, p99, fails = float(agg["Requests/s"]), float(agg["99%"]), int(agg["Failure Count"])
    ok_rps = "met" if rps >= TARGET_RPS else "NOT met"
    ok_p99 = "met" if p99 < TARGET_P99_MS else "NOT met"
    ok_err = "met" if fails == 0 else "NOT met"
    mean = [sum(s[0] for s in loads) / len(loads)] if loads else [0.0]
    cpu_info = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu_info = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    lines = [
        START,
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs ({cpu_info}), "
        f"Python {platform.python_version()}; the stack (`make stack`: gunicorn "
        f"{os.environ.get('STACK_WORKERS') or (os.cpu_count() or 1) + 1} workers, PostgreSQL 15, Redis, Celery worker and beat) and locust share the machine",
        f"- offered load: about {args.offered:.0f} req/s, the whole mix's rates × {args.offered / FULL_MIX_RPS:.2f} "
        f"(`LOADTEST_OFFERED`; all of it offers about {FULL_MIX_RPS})",
        f"- steady load: {args.seconds} s, counted from {os.environ.get('LOADTEST_SETTLE_SECONDS', '20')} s after "
        f"all {users} simulated sessions were running (their first logins are not counted); the hello-world baseline ran "
        f"{args.hello_seconds} s just before, {os.environ.get('LOADTEST_HELLO_USERS', '16')} locust users without waits",
        f"- load average (1 min) during the mix: mean {mean[0]:.1f}, max {max((s[0] for s in loads), default=0):.1f}; "
        f"at the end {loads[-1][0]:.1f}, {loads[-1][1]:.1f}, {loads[-1][2]:.1f} (1, 5, 15 min)"
        if loads
        else "- load average: not sampled",
        f"- load generator: {cpu:.0f} CPU s for the mix ({cpu / max(1, args.seconds):.2f} of a CPU on average)",
        "- CPUs used on average during the mix: "
        + (", ".join(f"{k} {v:.2f}" for k, v in shares.items()) if shares else "not sampled"),
        *([backlog] if backlog else []),
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| throughput, mixed | {rps:.1f} req/s | ≥ {TARGET_RPS} ({ok_rps}), aim {AIM_RPS} |",
        f"| p50 / p95 / p99, all requests | {ms(agg['50%'])} / {ms(agg['95%'])} / {ms(agg['99%'])} ms | p99 < {TARGET_P99_MS} ms ({ok_p99}) |",
        f"| failures | {fails} of {agg['Request Count']} | none ({ok_err}) |",
        f"| baseline: hello-world `/hello/`, same gunicorn | {float(h['Requests/s']):.0f} req/s, p50 {ms(h['50%'])} ms, p99 {ms(h['99%'])} ms | |",
        f"| mixed ÷ hello | {rps / max(1.0, float(h['Requests/s'])):.2f} | |",
        "",
        *table(mix),
        "",
    ]
    if failures:
        lines += ["Failures:", ""]
        lines += [f"- {f['Method']} {f['Name']}: {f['Error']} ({f['Occurrences']}×)" for f in failures[:15]]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    if START in doc and END in doc:
        doc = doc[: doc.index(START)] + text + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip() + "\n\n## Province-day load test\n\n" + text + "\n"
    DOCS.write_text(doc, encoding="utf-8")
    say(f"wrote {DOCS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOADTEST_SECONDS", "600")))
    parser.add_argument(
        "--hello-seconds", type=int, default=int(os.environ.get("LOADTEST_HELLO_SECONDS", "30"))
    )
    parser.add_argument(
        "--offered",
        type=float,
        default=float(os.environ.get("LOADTEST_OFFERED") or FULL_MIX_RPS),
        help="requests/s to offer: the whole mix scaled in its proportions (default: all of it, 523)",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    started_here = False
    if stack("--status") != 0:
        say("no stack answers: starting one (make stack, in the background)")
        if stack("--detach") != 0:
            return 1
        started_here = True
    env = dict(
        os.environ,
        LOADTEST_PLAN=str(DATA_DIR / "loadtest.json"),
        LT_SCALE=f"{args.offered / FULL_MIX_RPS:.4f}",
    )
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        wait_for_jobs()
        users = users_in_mix(env)
        hello_users = int(os.environ.get("LOADTEST_HELLO_USERS", "16"))
        say(f"baseline: /hello/ for {args.hello_seconds} s, {hello_users} users")
        locust(["HelloUser"], hello_users, hello_users, args.hello_seconds, OUT / "hello", env)
        spawn = float(os.environ.get("LOADTEST_SPAWN_RATE", "4"))
        settle = int(os.environ.get("LOADTEST_SETTLE_SECONDS", "20"))
        ramp = int(users / spawn + 0.999) + settle
        env["LT_SETTLE_SECONDS"] = str(settle)
        say(
            f"mix: {users} sessions offering about {args.offered:.0f} req/s (LT_SCALE {env['LT_SCALE']}), "
            f"spawned at {spawn}/s, {settle} s to settle, then {args.seconds} s measured"
        )
        sampler = LoadSampler()
        before = open_tasks_by_step()
        threading.Timer(ramp, sampler.start).start()
        cpu = locust(MIX, users, spawn, args.seconds + ramp, OUT / "mix", env)
        sampler.done.set()
        backlog = backlog_line(before, open_tasks_by_step())
        text = report(
            args,
            read_stats(OUT / "hello"),
            read_stats(OUT / "mix"),
            read_failures(OUT / "mix"),
            sampler.samples,
            cpu,
            users,
            sampler.cpu_shares(),
            backlog,
        )
        print(text)
        if args.write_docs:
            write_docs(text)
    finally:
        if started_here:
            stack("--stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
