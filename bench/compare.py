"""``make bench-compare BASE=<rev> [HEAD=<rev>]``: two revisions measured back to back on this machine.

    python bench/compare.py BASE [HEAD] [--repeat N] [--loadtest-seconds S]

Each revision's tree is exported from git (``git archive``: no worktree, no checkout, the
repository is left as it is) into ``var/bench/compare/``, and the benchmarks of *this* checkout's
bench/ run against that tree's code (``PYTHONPATH``), so both revisions are measured by the same
scripts on the same data:

1. Pages (the embedded default, SQLite): the ``BENCH_ITEMS``-item province (2,000 here) is built
   once by BASE's generator and kept (``var/bench/compare/province-<items>-<base>``); HEAD gets a
   fresh copy of it, migrated by HEAD. For each revision in turn: CPU time per request in-process
   (bench/request_cost.py) and page throughput over HTTP (gunicorn loaded by wrk, interleaved
   rounds with hello-world; ``BENCH_ROUNDS`` 3, ``BENCH_SECONDS`` 5). ``--repeat N`` runs
   BASE, HEAD N times alternately and takes the median of each figure.
2. With ``--loadtest-seconds S`` (``COMPARE_LOADTEST_SECONDS``), the province-day mix of
   ``make loadtest`` for S seconds against ``make stack`` started on each revision's code in
   turn (BASE first, then HEAD; the same database, ``STACK_DB``, ``STACK_ITEMS`` and the other
   ``STACK_*`` variables as ``make stack`` reads them).

The table compares each page's ratio to hello-world measured in the same run, which other jobs on
the machine move less than either figure, and gives the change of HEAD against BASE in per cent.
It is printed and written to ``var/bench/results/compare.md`` (and ``compare.json``), and with
``--write-docs`` (``BENCH_WRITE_DOCS=1``) into docs/benchmarks.md's ``compare`` block.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = ROOT / "var" / "bench" / "compare"

sys.path.insert(0, str(BENCH))
import report as bench_report  # noqa: E402

# (key, label): CPU time per request, in-process; the ratio is hello's CPU time ÷ the page's.
COST_PAGES = [
    ("guide_ms", "guide, hot: CPU per request"),
    ("guide_cold_ms", "guide, cold: CPU per request"),
    ("search_ms", "search page: CPU per request"),
]
# (key, label): requests/s over HTTP; the ratio is the median of the rounds' page ÷ hello.
HTTP_PAGES = [
    ("guide", "guide, hot: req/s over HTTP"),
    ("guide_cold", "guide, cold: req/s over HTTP"),
    ("search", "search: req/s over HTTP"),
]


def say(msg: str) -> None:
    print(f"[compare] {msg}", flush=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def export(rev: str) -> tuple[str, Path]:
    """The revision's commit and a directory holding its tree (made once per commit)."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = WORK / f"src-{sha[:12]}"
    if not (tree / "src" / "yiwang" / "settings.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile() as archive:
            subprocess.run(["git", "archive", "--format=tar", sha], cwd=ROOT, check=True, stdout=archive)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                tar.extractall(tree, filter="data")
    return sha, tree


def code_env(tree: Path, **extra: str) -> dict[str, str]:
    """The environment that runs the yiwang of ``tree`` (its ``src`` first on the import path)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


# --- pages -----------------------------------------------------------------------------------------


def measure_pages(out: Path) -> None:
    """Run in a child with the revision's code on the path: build or reuse the province, then the
    CPU time per request and the throughput of run_all.py; the figures go to ``out`` (JSON)."""
    import run_all

    info, built = run_all.ensure_province()
    cost = run_all.json_of("request_cost.py")
    print(f"   CPU per request: {cost}", flush=True)
    http = run_all.throughput(info["codes"])
    out.write_text(json.dumps({"items": info["items"], "built_s": built, "cost": cost, "http": http}))


def pages_of(tree: Path, data_dir: Path, items: int) -> dict:
    env = code_env(
        tree,
        BENCH_DATA_DIR=str(data_dir),
        BENCH_ITEMS=str(items),
        BENCH_ROUNDS=os.environ.get("BENCH_ROUNDS", "3"),
        BENCH_SECONDS=os.environ.get("BENCH_SECONDS", "5"),
        # One load generator on one address would pass the per-client rate limits (make bench).
        YIWANG_RATE_SEARCH="off",
        YIWANG_API_THROTTLE="0",
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pages.json"
        subprocess.run([sys.executable, __file__, "--measure-pages", str(out)], env=env, cwd=ROOT, check=True)
        return json.loads(out.read_text())


def page_ratios(run: dict) -> dict[str, float]:
    cost, http = run["cost"], run["http"]
    ratios = {key: cost["hello_ms"] / cost[key] for key, _ in COST_PAGES if cost.get(key)}
    ratios.update({key: http[f"{key}_ratio"] for key, _ in HTTP_PAGES})
    ratios["hello_rps"] = http["median"]["hello"]
    ratios["hello_ms"] = cost["hello_ms"]
    return ratios


# --- load test -------------------------------------------------------------------------------------


def aggregated(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        return next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")


def cpu_shares(printed: str) -> dict[str, float]:
    """The CPUs each part used on average during the mix, from run.py's report line
    "CPUs used on average during the mix: web 1.27, database 0.22, ..."."""
    line = next((ln for ln in printed.splitlines() if "CPUs used on average during the mix:" in ln), "")
    shares = {}
    for part in line.split(":", 1)[-1].split(","):
        name, _, value = part.strip().rpartition(" ")
        with contextlib.suppress(ValueError):
            shares[name] = float(value)
    return shares


def loadtest_of(tree: Path, seconds: int) -> dict:
    """``make stack`` on the revision's code, the mix for ``seconds``, the stack stopped."""
    env = code_env(
        tree,
        YIWANG_RATE_SEARCH="off",
        YIWANG_RATE_UPLOAD="off",
        YIWANG_RATE_REGISTER="off",
        YIWANG_API_THROTTLE="0",
    )
    stack = [sys.executable, str(ROOT / "deploy" / "stack.py")]
    if subprocess.call([*stack, "--status"], env=env, cwd=ROOT) == 0:
        raise SystemExit(
            "a stack already answers on STACK_PORT: stop it (make stack-stop) or pick another port"
        )
    subprocess.run([*stack, "--detach"], env=env, cwd=ROOT, check=True)
    try:
        run = [sys.executable, str(BENCH / "loadtest" / "run.py"), "--seconds", str(seconds)]
        printed = subprocess.run(run, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
        print(printed, flush=True)
    finally:
        subprocess.call([*stack, "--stop"], env=env, cwd=ROOT)
    out = Path(os.environ.get("STACK_DATA_DIR", ROOT / "var" / "stack")).resolve() / "loadtest"
    hello, mix = aggregated(out / "hello_stats.csv"), aggregated(out / "mix_stats.csv")
    shares = cpu_shares(printed)
    mix_rps = max(1e-6, float(mix["Requests/s"]))
    return {
        # CPU time per mixed request: what other jobs on the machine do not move (their share
        # of the CPUs lowers the requests per second, not the CPU each request costs).
        "web_cpu_ms": 1000 * shares.get("web", 0.0) / mix_rps,
        "database_cpu_ms": 1000 * shares.get("database", 0.0) / mix_rps,
        "other_jobs_cpus": shares.get("other jobs", 0.0),
        "hello_rps": float(hello["Requests/s"]),
        "mix_rps": float(mix["Requests/s"]),
        "ratio": float(mix["Requests/s"]) / max(1.0, float(hello["Requests/s"])),
        "p50_ms": float(mix["50%"]),
        "p99_ms": float(mix["99%"]),
        "requests": int(mix["Request Count"]),
        "failures": int(mix["Failure Count"]),
    }


# --- report ----------------------------------------------------------------------------------------


def change(before: float, after: float) -> str:
    return f"{(after / before - 1) * 100:+.1f} %" if before else "—"


def table(base: str, head: str, pages: dict[str, list[dict]], loads: dict[str, dict], meta: dict) -> str:
    lines = [
        f"- run: {meta['date']}; machine: {meta['machine']}; load average {meta['load']} at the start",
        f"- BASE {base[:12]}, HEAD {head[:12]}",
    ]
    if pages[base]:
        b, h = (
            {k: statistics.median(r[k] for r in pages[rev]) for k in pages[rev][0]} for rev in (base, head)
        )
        lines += [
            f"- pages: {meta['items']:,}-item province (SQLite) built by BASE, the same data for both; "
            f"{meta['repeat']} × (BASE, HEAD) alternately, medians",
            "",
            "| page ÷ hello-world, same run | BASE | HEAD | change |",
            "|---|---|---|---|",
        ]
        for key, label in [*COST_PAGES, *HTTP_PAGES]:
            lines.append(f"| {label} | {b[key]:.3f} | {h[key]:.3f} | {change(b[key], h[key])} |")
        lines += [
            f"| baseline: hello-world CPU per request | {b['hello_ms']:.3f} ms | {h['hello_ms']:.3f} ms | "
            f"{change(b['hello_ms'], h['hello_ms'])} |",
            f"| baseline: hello-world req/s over HTTP | {b['hello_rps']:.0f} | {h['hello_rps']:.0f} | "
            f"{change(b['hello_rps'], h['hello_rps'])} |",
        ]
    if loads:
        lb, lh = loads[base], loads[head]
        lines += [
            "",
            f"Province-day mix (`make loadtest`, {meta['loadtest_seconds']} s of steady load, `make stack` with "
            f"STACK_ITEMS={os.environ.get('STACK_ITEMS', '70000')}; BASE then HEAD on the same database):",
            "",
            "| figure | BASE | HEAD | change |",
            "|---|---|---|---|",
            f"| mixed ÷ hello | {lb['ratio']:.3f} | {lh['ratio']:.3f} | {change(lb['ratio'], lh['ratio'])} |",
            f"| mixed req/s | {lb['mix_rps']:.1f} | {lh['mix_rps']:.1f} | {change(lb['mix_rps'], lh['mix_rps'])} |",
            f"| baseline: hello-world req/s | {lb['hello_rps']:.0f} | {lh['hello_rps']:.0f} | "
            f"{change(lb['hello_rps'], lh['hello_rps'])} |",
            f"| web CPU per mixed request | {lb['web_cpu_ms']:.2f} ms | {lh['web_cpu_ms']:.2f} ms | "
            f"{change(lb['web_cpu_ms'], lh['web_cpu_ms'])} |",
            f"| PostgreSQL CPU per mixed request | {lb['database_cpu_ms']:.2f} ms | {lh['database_cpu_ms']:.2f} ms | "
            f"{change(lb['database_cpu_ms'], lh['database_cpu_ms'])} |",
            f"| other jobs on the machine (CPUs) | {lb['other_jobs_cpus']:.2f} | {lh['other_jobs_cpus']:.2f} | |",
            f"| p50 / p99 ms | {lb['p50_ms']:.0f} / {lb['p99_ms']:.0f} | {lh['p50_ms']:.0f} / {lh['p99_ms']:.0f} | |",
            f"| failures | {lb['failures']} of {lb['requests']} | {lh['failures']} of {lh['requests']} | |",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("COMPARE_REPEAT", "1")))
    parser.add_argument(
        "--loadtest-seconds", type=int, default=int(os.environ.get("COMPARE_LOADTEST_SECONDS", "0"))
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        default=os.environ.get("BENCH_WRITE_DOCS", "0") == "1",
        help="replace the compare block of docs/benchmarks.md",
    )
    parser.add_argument(
        "--no-pages",
        action="store_true",
        default=os.environ.get("COMPARE_PAGES", "1") == "0",
        help="only the load test (COMPARE_PAGES=0)",
    )
    parser.add_argument("--measure-pages", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_pages:
        measure_pages(args.measure_pages)
        return 0
    if not args.base:
        parser.error("name the BASE revision (make bench-compare BASE=<rev>)")
    items = int(os.environ.get("BENCH_ITEMS", "2000"))
    (base, base_tree), (head, head_tree) = export(args.base), export(args.head)
    say(f"BASE {args.base} = {base[:12]} in {base_tree.relative_to(ROOT)}")
    say(f"HEAD {args.head} = {head[:12]} in {head_tree.relative_to(ROOT)}")
    meta = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": bench_report.machine(),
        "load": bench_report.load(),
        "items": items,
        "repeat": args.repeat,
        "loadtest_seconds": args.loadtest_seconds,
    }
    base_data = WORK / f"province-{items}-{base[:12]}"
    head_data = WORK / f"province-{items}-{base[:12]}-for-{head[:12]}"
    pages: dict[str, list[dict]] = {base: [], head: []}
    for n in range(0 if args.no_pages else args.repeat):
        say(f"pages, round {n + 1}/{args.repeat}: BASE (builds its province once)")
        pages[base].append(page_ratios(pages_of(base_tree, base_data, items)))
        if n == 0:
            shutil.rmtree(head_data, ignore_errors=True)
            shutil.copytree(base_data, head_data, ignore=shutil.ignore_patterns("static"))
        say(f"pages, round {n + 1}/{args.repeat}: HEAD (on a copy of BASE's province)")
        pages[head].append(page_ratios(pages_of(head_tree, head_data, items)))
    loads: dict[str, dict] = {}
    if args.loadtest_seconds > 0:
        for sha, tree, name in ((base, base_tree, "BASE"), (head, head_tree, "HEAD")):
            say(f"province-day mix on {name}: make stack, then {args.loadtest_seconds} s of load")
            loads[sha] = loadtest_of(tree, args.loadtest_seconds)
    text = table(base, head, pages, loads, meta)
    print(text, flush=True)
    bench_report.publish("compare", text, write_docs=args.write_docs)
    (bench_report.RESULTS / "compare.json").write_text(
        json.dumps({"meta": meta, "base": base, "head": head, "pages": pages, "loadtest": loads}, indent=1),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
