"""What the figures (效能) add to a staff action, and how far they lag the cases, on PostgreSQL
(not part of the test suite).

    BENCH_PG_URL=postgres://postgres@127.0.0.1:5432 \
        .venv/bin/python bench/figures_cost.py [--workers 2] [--cases 300] [--seconds 15] [--rounds 2]
        [--fold-every 3] [--db NAME] [--write-docs]

The case lifecycle of bench/case_lifecycle.py (submit, accept, review, decide, deliver, close,
the real services and actions, ``--workers`` processes) is run in alternating rounds in the same
run: without the figures (the supervision receivers' figure calls replaced by no-ops: no delta
row, no reuse query) and with them, ``--rounds`` of each, every round on fresh drafts prepared
before the rounds start (one real draft, copied). All along, one more process plays the Celery beat
job: every ``--fold-every`` seconds it folds the deltas (``figures.fold``) and records the age
of the oldest delta it folded (the lag of the figures behind the cases) and the fold's time.
Hello-world (Django's view through the test client, one process) is measured before and after.

The figures go to var/bench/results/figures_cost.md, and with ``--write-docs`` into
docs/benchmarks.md (bench/report.py). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import case_lifecycle as lc  # noqa: E402
import report as bench_report  # noqa: E402
import scratch  # noqa: E402

TARGET_OVERHEAD_PERCENT = 10.0
TARGET_LAG_S = 5.0
FIGURE_HOOKS = ("case_submitted", "case_accepted", "case_refused", "correction_requested", "case_decided")


def _figures_off() -> None:
    from yiwang.supervision import figures

    for name in FIGURE_HOOKS:
        setattr(figures, name, lambda *a, **k: None)


def clone_drafts(app, n: int) -> list:
    """``n`` copies of a complete draft (its row and its material rows, the stored files shared):
    the applicant's side is not what this bench measures, and each real upload runs the
    sanitizer in a process of its own."""
    import uuid

    from yiwang.cases.models import Application, CaseMaterial

    materials = list(CaseMaterial.objects.filter(application=app, replaced=False))
    copies = []
    for _ in range(n):
        copy = Application.objects.get(pk=app.pk)
        copy.pk, copy.idempotency_key = None, uuid.uuid4().hex
        copy.save(force_insert=True)
        for m in materials:
            m.pk, m.application_id, m.case_id = None, copy.pk, None
        CaseMaterial.objects.bulk_create(materials)
        copies.append(copy)
    return copies


def _hooks(on: bool, saved: dict) -> None:
    from yiwang.supervision import figures

    for name in FIGURE_HOOKS:
        setattr(figures, name, saved[name] if on else (lambda *a, **k: None))


def worker(idx: int, item_id: int, cases: int, seconds: float, rounds: int, barrier, out) -> None:
    """Prepare the drafts of every round, then for each round (without, with the figures, in
    turn) wait for the others and run submit→close until its share of drafts or ``seconds`` run
    out."""
    lc._setup_django()
    from yiwang.supervision import figures

    saved = {name: getattr(figures, name) for name in FIGURE_HOOKS}
    timers = lc.Timers()
    timers.install()
    try:
        item, applicant, staff = lc._actors(item_id)
        _hooks(False, saved)  # no delta before the clock: it would count as lag
        lc.one_case(item, applicant, staff)  # warm caches
        drafts = clone_drafts(lc.draft(item, applicant), cases * 2 * rounds)
    except BaseException:
        barrier.abort()
        raise
    for r in range(2 * rounds):
        with_figures = r % 2 == 1
        _hooks(with_figures, saved)
        batch = drafts[r * cases : (r + 1) * cases]
        barrier.wait()
        timers.reset()
        started, cpu0 = time.perf_counter(), time.process_time()
        n, errors = 0, 0
        for app in batch:
            if time.perf_counter() - started >= seconds:
                break
            try:
                lc.lifecycle(app, applicant, staff)
                n += 1
            except Exception as exc:
                errors += 1
                if errors <= 3:
                    print(f"worker {idx}: {type(exc).__name__}: {exc}", file=sys.stderr)
        out.put(
            {
                "round": r,
                "figures": with_figures,
                "cases": n,
                "errors": errors,
                "elapsed": time.perf_counter() - started,
                "cpu": time.process_time() - cpu0,
                "queries": timers.queries,
                "sql": timers.sql,
            }
        )


def folder(every: float, stop, out) -> None:
    """The beat job's part: fold every ``every`` seconds; the age of the oldest delta each fold
    found (measured just before it) and the fold's time."""
    lc._setup_django()
    from django.utils import timezone

    from yiwang.supervision import figures

    lags, folds, folded = [], [], 0
    while not stop.is_set():
        t0 = time.perf_counter()
        oldest = figures.lag().oldest
        if oldest is not None:
            lags.append((timezone.now() - oldest).total_seconds())
        f0 = time.perf_counter()
        folded += figures.fold()
        folds.append(time.perf_counter() - f0)
        stop.wait(max(0.0, every - (time.perf_counter() - t0)))
    out.put({"lags": lags, "folds": folds, "folded": folded})


def rounds_of(args, item_id: int) -> tuple[list[dict], dict]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(args.workers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, item_id, args.cases, args.seconds, args.rounds, barrier, out))
        for i in range(args.workers)
    ]
    for p in procs:
        p.start()
    stop, fold_out = ctx.Event(), ctx.Queue()
    fold_proc = ctx.Process(target=folder, args=(args.fold_every, stop, fold_out))
    rounds = []
    try:
        barrier.wait(timeout=1800)
        fold_proc.start()
        for r in range(2 * args.rounds):
            if r:
                barrier.wait(timeout=600)
            results = [out.get(timeout=args.seconds + 300) for _ in procs]
            cases = sum(x["cases"] for x in results)
            wall = max(x["elapsed"] for x in results)
            summary = {
                "figures": r % 2 == 1,
                "cases": cases,
                "errors": sum(x["errors"] for x in results),
                "rate": cases / wall,
                "ms_per_case": sum(x["elapsed"] for x in results) / max(cases, 1) * 1000,
                "cpu_ms_per_case": sum(x["cpu"] for x in results) / max(cases, 1) * 1000,
                "queries_per_case": sum(x["queries"] for x in results) / max(cases, 1),
            }
            print(
                f"{'with' if summary['figures'] else 'without'} figures: {cases} cases, "
                f"{summary['rate']:.1f} cases/s, {summary['ms_per_case']:.1f} ms and "
                f"{summary['queries_per_case']:.1f} statements per case",
                flush=True,
            )
            rounds.append(summary)
        time.sleep(args.fold_every * 2)  # the last deltas folded
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    fold = fold_out.get(timeout=120)
    fold_proc.join(timeout=30)
    return rounds, fold


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(args) -> dict:
    lc._setup_django()
    from django.db import connection

    from yiwang.supervision import figures

    info = lc.prepare()
    figures.fold()  # what earlier runs and the preparation left: not this run's lag
    hello = lc.hello_rps()
    connection.close()
    rounds, fold = rounds_of(args, info["item"])
    hello_after = lc.hello_rps()
    figures.fold()
    connection.close()

    def mean(key: str, on: bool) -> float:
        return statistics.mean(r[key] for r in rounds if r["figures"] == on)

    lags, folds = fold["lags"], fold["folds"]
    hello_med = statistics.mean([hello, hello_after])
    off_rate, on_rate = mean("rate", False), mean("rate", True)
    off_ms, on_ms = mean("ms_per_case", False), mean("ms_per_case", True)
    steps = 6  # submit, accept, review, decide, deliver, close
    return {
        "workers": args.workers,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "hello_rps": round(hello_med, 0),
        "off_rate": round(off_rate, 1),
        "on_rate": round(on_rate, 1),
        "off_ms_per_case": round(off_ms, 1),
        "on_ms_per_case": round(on_ms, 1),
        "overhead_percent": round((on_ms - off_ms) / off_ms * 100, 1),
        "off_ratio_to_hello": round(off_rate / hello_med, 4),
        "on_ratio_to_hello": round(on_rate / hello_med, 4),
        "off_queries": round(mean("queries_per_case", False), 1),
        "on_queries": round(mean("queries_per_case", True), 1),
        "off_cpu_ms": round(mean("cpu_ms_per_case", False), 1),
        "on_cpu_ms": round(mean("cpu_ms_per_case", True), 1),
        "per_action_ms_added": round((on_ms - off_ms) / steps, 2),
        "lag_max_s": round(max(lags), 2) if lags else None,
        "lag_p95_s": round(_pct(lags, 0.95), 2) if lags else None,
        "lag_median_s": round(statistics.median(lags), 2) if lags else None,
        "lag_samples": len(lags),
        "fold_ms_p95": round(_pct(folds, 0.95) * 1000, 1) if folds else None,
        "folds": len(folds),
        "fold_every": args.fold_every,
        "errors": sum(r["errors"] for r in rounds),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def block(r: dict) -> str:
    met = "met" if r["overhead_percent"] <= TARGET_OVERHEAD_PERCENT else "NOT met"
    lag_met = "met" if r["lag_max_s"] is not None and r["lag_max_s"] <= TARGET_LAG_S else "NOT met"
    return "\n".join(
        [
            f"- run: {bench_report.stamp()}; load average {', '.join(map(str, r['load_avg']))} at the end",
            f"- {r['workers']} worker processes, {r['rounds']} rounds of {r['seconds']:g} s without and with "
            f"the figures, alternating; a fold every {r['fold_every']:g} s while the figures are on",
            "",
            "| figure | without figures | with figures | target |",
            "|---|---|---|---|",
            f"| lifecycle throughput | {r['off_rate']} cases/s | {r['on_rate']} cases/s | |",
            f"| wall time per case per worker | {r['off_ms_per_case']} ms | {r['on_ms_per_case']} ms | "
            f"+{r['overhead_percent']} % (≤ {TARGET_OVERHEAD_PERCENT:g} %: {met}) |",
            f"| worker CPU per case | {r['off_cpu_ms']} ms | {r['on_cpu_ms']} ms | |",
            f"| SQL statements per case | {r['off_queries']} | {r['on_queries']} | |",
            f"| cases/s ÷ hello-world ({r['hello_rps']:g} req/s) | {r['off_ratio_to_hello']} | "
            f"{r['on_ratio_to_hello']} | |",
            f"| figures' lag behind the cases (oldest delta at a fold, {r['lag_samples']} folds) | | "
            f"median {r['lag_median_s']} s, p95 {r['lag_p95_s']} s, max {r['lag_max_s']} s | "
            f"≤ {TARGET_LAG_S:g} s ({lag_met}) |",
            f"| one fold (p95 of {r['folds']}) | | {r['fold_ms_p95']} ms | |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0, help="at most this long per round")
    parser.add_argument("--cases", type=int, default=300, help="drafts per worker per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each kind")
    parser.add_argument("--fold-every", type=float, default=3.0)
    parser.add_argument("--db", help="use and keep this database (created when missing) instead of a new one")
    parser.add_argument("--write-docs", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    lc._env()
    with (
        scratch.pg_database("cases", args.db) as database_url,
        scratch.data_dir("cases", args.db) as data_dir,
        scratch.own_redis() as redis_url,
    ):
        os.environ.update(DATABASE_URL=database_url, YIWANG_DATA_DIR=data_dir, REDIS_URL=redis_url)
        report = run(args)
    bench_report.publish("figures_cost", block(report), write_docs=args.write_docs)
    print(block(report))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
