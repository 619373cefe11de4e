"""``make bench``: the platform's benchmarks on a generated province (docs/benchmarks.md).

It prints this plan, with the time each step takes, before it starts:

1. Build the ``BENCH_ITEMS``-item province into ``BENCH_DATA_DIR`` (SQLite) once; reuse it after.
2. Search latency in-process (bench/search_latency.py).
3. CPU time per request in-process (bench/request_cost.py): hello, guide, search page.
4. Page throughput: ``yiwang serve`` (gunicorn) on 127.0.0.1 loaded from a second process by wrk,
   or by bench/pyload.py when wrk is not installed, in interleaved rounds with hello-world.
5. OIDC round trips (bench/oidc_roundtrip.py) on a temporary SQLite database of their own.
6. Only with ``BENCH_PG_URL`` (a PostgreSQL server, ``postgres://user@host:port``): the case
   lifecycle, the bundle lifecycle and the inbox latency, each on a database it creates on that
   server and drops, with a Redis server of its own where it queues jobs (bench/scratch.py).

The figures go to var/bench/results/ (one Markdown file per benchmark, and run_all.json);
docs/benchmarks.md changes only with ``BENCH_WRITE_DOCS=1``, which replaces each benchmark's
block of figures there (bench/report.py). Nothing is installed: a missing tool is named with the
command that installs it.

Environment: BENCH_ITEMS (70000), BENCH_DATA_DIR (var/bench/province-<items>), BENCH_ROUNDS (5),
BENCH_SECONDS (6 per run), BENCH_CONNECTIONS (8), BENCH_HOT_GUIDES (100), BENCH_LOADGEN (``python``
uses bench/pyload.py even when wrk is installed), BENCH_NICE (0; e.g. -10 as root on a shared
machine), BENCH_REINDEX (1; 0 skips rebuilding the search index of a reused province),
BENCH_PG_URL (unset: no PostgreSQL benchmarks), BENCH_PG_DB_PREFIX (yiwang_bench),
BENCH_INBOX_CASES (1000000) and BENCH_INBOX_OPEN (100000), BENCH_WRITE_DOCS (0).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
YIWANG = str(VENV_BIN / "yiwang")
ITEMS = int(os.environ.get("BENCH_ITEMS", "70000"))
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", ROOT / "var" / "bench" / f"province-{ITEMS}")).resolve()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
HOT_GUIDES = int(os.environ.get("BENCH_HOT_GUIDES", "100"))
COLD_GUIDES = 20000

INBOX_CASES = int(os.environ.get("BENCH_INBOX_CASES", "1000000"))
INBOX_OPEN = int(os.environ.get("BENCH_INBOX_OPEN", "100000"))
PG_URL = os.environ.get("BENCH_PG_URL", "").strip()
WRITE_DOCS = os.environ.get("BENCH_WRITE_DOCS", "0") == "1"

TARGET_SEARCH_P95_MS = 20.0
# Guide pages served per second ÷ hello-world's, over HTTP in the same rounds.
TARGET_GUIDE_RATIO = 0.5

sys.path.insert(0, str(BENCH))
import report as bench_report  # noqa: E402
from queries import QUERIES  # noqa: E402


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["YIWANG_DATA_DIR"] = str(DATA_DIR)
    e["DJANGO_SETTINGS_MODULE"] = "yiwang.settings"
    # The embedded default: SQLite, and the per-process memory cache instead of Redis.
    e.pop("DATABASE_URL", None)
    e.pop("REDIS_URL", None)
    e["DEBUG"] = "0"
    e.setdefault("LOG_LEVEL", "ERROR")
    return e


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env(), cwd=ROOT, check=True, **kw)


def json_of(script: str, *args: str) -> dict:
    out = run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- data ---------------------------------------------------------------------------------------


def ensure_province() -> tuple[dict, float | None]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run([YIWANG, "migrate", "--no-input", "-v0"])
    info = json_of("dbinfo.py", "1")
    built = None
    if info["items"] == 0:
        print(f"== building the {ITEMS}-item province into {DATA_DIR} (once) ==", flush=True)
        started = time.perf_counter()
        run([YIWANG, "generate-province", "--items", str(ITEMS)])
        built = time.perf_counter() - started
    else:
        if info["items"] != ITEMS:
            print(
                f"!! {DATA_DIR} holds {info['items']} items, not {ITEMS}; the figures are for "
                f"{info['items']}. Delete that directory to build {ITEMS}.",
                flush=True,
            )
        # The province is reused across code changes: the search index format may have changed
        # since it was built, so rebuild the index from the published versions.
        if os.environ.get("BENCH_REINDEX", "1") != "0":
            print("== rebuilding the search index of the reused province ==", flush=True)
            run([YIWANG, "rebuild_search_index", "-v0"])
    run([YIWANG, "collectstatic", "--no-input", "-v0"])
    return json_of("dbinfo.py", str(HOT_GUIDES + COLD_GUIDES)), built


# --- load generation ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/hello/", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("yiwang serve did not answer /hello/ in time")


def check_paths(base: str, paths: list[str]) -> list[str]:
    """Fetch a few paths once: a benchmark of error pages would measure nothing."""
    problems = []
    for p in paths[:5]:
        try:
            with urllib.request.urlopen(base + p, timeout=30) as r:
                if r.status != 200:
                    problems.append(f"{p}: HTTP {r.status}")
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            problems.append(f"{p}: {exc}")
    return problems


WRK_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def wrk_rps(base: str, paths: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = Path(tmp) / "rotate.lua"
        script.write_text(WRK_SCRIPT % listing)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "-s", str(script), base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", out)
    return rps, (int(bad.group(1)) if bad else 0) + (int(errors.group(1)) if errors else 0)


def python_rps(base: str, paths: list[str]) -> tuple[float, int]:
    """Fallback when wrk is missing: a separate process of keep-alive HTTP clients."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "pyload.py"), base, str(CONNECTIONS), str(SECONDS)],
        input="\n".join(paths),
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(proc.stdout)
    return data["rps"], data["errors"]


def load_generator() -> str:
    """wrk when installed (and not overridden by BENCH_LOADGEN=python), else bench/pyload.py."""
    if os.environ.get("BENCH_LOADGEN", "") == "python":
        return "python"
    return "wrk" if shutil.which("wrk") else "python"


def ratio(rounds: dict[str, list[float]], name: str) -> float:
    """Median over rounds of page/hello within the same round: other jobs on the machine move
    both figures of a round together, so the ratio is steadier than the ratio of medians."""
    pairs = [p / h for p, h in zip(rounds[name], rounds["hello"], strict=False) if h]
    return statistics.median(pairs) if pairs else 0.0


def throughput(codes: list[str]) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [YIWANG, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(base)
        # Guide: a hot set of HOT_GUIDES codes, the popular items a portal serves most (each worker
        # renders them once, then serves them from its page cache), and a cold set of the other
        # codes, where nearly every request renders a page no worker has seen yet.
        pages = {
            "hello": ["/hello/"],
            "guide": [f"/items/{c}/" for c in codes[:HOT_GUIDES]],
            "guide_cold": [f"/items/{c}/" for c in codes[HOT_GUIDES:]],
            "search": ["/search/?" + urllib.parse.urlencode({"q": q}) for _, q, f in QUERIES if q and not f],
        }
        problems = {name: check_paths(base, paths) for name, paths in pages.items()}
        tool = load_generator()
        measure = wrk_rps if tool == "wrk" else python_rps
        # Warm every worker's caches and connections before the measured rounds; the hot guide
        # set until a run serves it without rendering (each worker has rendered every page).
        for name, paths in pages.items():
            if name != "guide_cold":
                measure(base, paths)
        # Workers take requests at random, so warm until the rate stops climbing: at least three
        # runs, and two in a row within 10% of the one before (at most ten).
        history: list[float] = []
        for _ in range(10):
            history.append(measure(base, pages["guide"])[0])
            if len(history) >= 3 and all(history[-i] < history[-i - 1] * 1.1 for i in (1, 2)):
                break
        warmup = history
        rounds: dict[str, list[float]] = {name: [] for name in pages}
        errors: dict[str, int] = {name: 0 for name in pages}
        # The cold guide runs come last: they fill the workers' caches with pages nobody asks for
        # again, which would evict the hot set between rounds.
        schedule = [(r, name) for r in range(ROUNDS) for name in pages if name != "guide_cold"]
        schedule += [(r, "guide_cold") for r in range(ROUNDS)]
        for r, name in schedule:
            time.sleep(1.5)  # let requests still queued from the previous run drain
            rps, err = measure(base, pages[name])
            rounds[name].append(rps)
            errors[name] += err
            print(
                f"   round {r + 1} {name:<10} {rps:8.1f} req/s" + (f"  ({err} errors)" if err else ""),
                flush=True,
            )
        med = {name: statistics.median(v) for name, v in rounds.items()}
        return {
            "tool": tool,
            "connections": CONNECTIONS,
            "seconds": SECONDS,
            "rounds": rounds,
            "median": med,
            "errors": errors,
            "problems": {k: v for k, v in problems.items() if v},
            "guide_ratio": ratio(rounds, "guide"),
            "guide_cold_ratio": ratio(rounds, "guide_cold"),
            "search_ratio": ratio(rounds, "search"),
            "guide_codes": len(pages["guide"]),
            "guide_warmup": [round(x) for x in warmup],
            "guide_cold_codes": len(pages["guide_cold"]),
            "workers": int(os.environ.get("YIWANG_WORKERS", (os.cpu_count() or 1) * 2 + 1)),
            "search_queries": len(pages["search"]),
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


# --- report -----------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run_line(m: dict, info: dict) -> str:
    return (
        f"- run: {m['date']}; machine: {m['machine']}; load average {m['load']} at the start"
        + (f"; at nice {m['nice']} (BENCH_NICE)" if m["nice"] != "0" else "")
        + f"\n- data: {info['items']:,} items ({info['published']:,} published), "
        f"`yiwang generate-province --items {ITEMS}`, SQLite"
    )


def search_block(m: dict, info: dict, search: dict, cost: dict) -> str:
    lines = [
        run_line(m, info),
        f"- {search['queries']} queries of bench/queries.py, each once to warm up and then {search['repeat']} "
        f"times: {search['calls']} calls of `search_items`",
        "",
        "| figure | wall clock | CPU time | target |",
        "|---|---|---|---|",
        f"| p50 | {search['p50_ms']} ms | {search['cpu_p50_ms']} ms | |",
        f"| p95 | {search['p95_ms']} ms | {search['cpu_p95_ms']} ms | ≤ {TARGET_SEARCH_P95_MS:g} ms wall clock "
        f"({verdict(search['p95_ms'] <= TARGET_SEARCH_P95_MS)}) |",
        f"| p99 | {search['p99_ms']} ms | {search['cpu_p99_ms']} ms | |",
        f"| max | {search['max_ms']} ms | | |",
        f"| baseline: a hello-world request, CPU in-process (same run) | | {cost['hello_ms']} ms | |",
        "",
        "| kind of query | p50 | p95 |",
        "|---|---|---|",
        *(f"| {k} | {v['p50_ms']} ms | {v['p95_ms']} ms |" for k, v in search["by_label"].items()),
        "",
        "Slowest (median): "
        + "; ".join(f"`{r['q'] or '（空）'}` {r['median_ms']} ms" for r in search["slowest"]),
    ]
    if search["zero_hits"]:
        lines += ["", "No hits: " + "、".join(search["zero_hits"])]
    return "\n".join(lines)


def cost_block(m: dict, info: dict, cost: dict) -> str:
    return "\n".join(
        [
            run_line(m, info),
            "",
            "| page | CPU per request | hello ÷ page |",
            "|---|---|---|",
            f"| baseline: hello-world `/hello/` | {cost['hello_ms']} ms | 1.00 |",
            f"| guide, hot (cached per version) | {cost['guide_ms']} ms | {cost['guide_ratio']:.2f} |",
            f"| guide, cold (rendered) | {cost['guide_cold_ms']} ms | {cost['guide_cold_ratio']:.2f} |",
            f"| search page | {cost['search_ms']} ms | {cost['search_ratio']:.2f} |",
        ]
    )


def throughput_block(m: dict, info: dict, http: dict) -> str:
    tool = (
        f"`wrk -t1 -c{http['connections']}`"
        if http["tool"] == "wrk"
        else (f"bench/pyload.py ({http['connections']} keep-alive clients; wrk was not installed)")
    )
    rows = [
        ("baseline: hello-world `/hello/`", "hello", "1.00", ""),
        (
            f"guide, hot ({http['guide_codes']} codes)",
            "guide",
            f"{http['guide_ratio']:.2f}",
            f"≥ {TARGET_GUIDE_RATIO} ({verdict(http['guide_ratio'] >= TARGET_GUIDE_RATIO)})",
        ),
        (
            f"guide, cold ({http['guide_cold_codes']:,} codes)",
            "guide_cold",
            f"{http['guide_cold_ratio']:.2f}",
            "",
        ),
        (f"search ({http['search_queries']} queries)", "search", f"{http['search_ratio']:.2f}", ""),
    ]
    lines = [
        run_line(m, info),
        f"- `yiwang serve` (gunicorn, {http['workers']} sync workers) on 127.0.0.1, loaded by {tool} from a second "
        f"process, {http['seconds']} s a run, {ROUNDS} interleaved rounds",
        "",
        "| page | rounds (req/s) | median req/s | ÷ hello (median of the rounds' ratios) | target |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {', '.join(f'{x:.0f}' for x in http['rounds'][key])} | {http['median'][key]:.0f} | "
            f"{r} | {t} |"
            for label, key, r, t in rows
        ),
        "",
        f"Hot guide warm-up runs (req/s): {', '.join(str(x) for x in http['guide_warmup'])}.",
    ]
    if any(http["errors"].values()):
        lines += [
            "",
            "Errors (non-2xx or timeouts): " + ", ".join(f"{k} {v}" for k, v in http["errors"].items()),
        ]
    if http["problems"]:
        lines += [
            "",
            "Pages that did not answer 200 before the run: "
            + json.dumps(http["problems"], ensure_ascii=False),
        ]
    return "\n".join(lines)


# --- the plan -------------------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    return "under a minute" if seconds < 60 else f"about {round(seconds / 60)} min"


def pg_benchmarks() -> list[tuple[str, list[str], str]]:
    """(script, arguments, what it does and how long) of the PostgreSQL benchmarks."""
    return [
        (
            "case_lifecycle.py",
            ["--workers", "2", "--cases", "600", "--seconds", "30"],
            "case lifecycle: a new database filled with 2,000 items and the demo accounts, 2 workers for "
            "30 s (about 4 min)",
        ),
        (
            "bundle_lifecycle.py",
            ["--workers", "2", "--seconds", "30"],
            "bundle lifecycle: the same fill and a 7-branch bundle, 2 workers for 30 s (about 4 min)",
        ),
        (
            "inbox_latency.py",
            ["--cases", str(INBOX_CASES), "--open", str(INBOX_OPEN)],
            f"inbox latency: a new database filled with {INBOX_CASES:,} cases (BENCH_INBOX_CASES), "
            f"{INBOX_OPEN:,} open in one department, 600 page requests "
            f"({minutes(90 + INBOX_CASES * 0.0004)})",
        ),
    ]


def plan() -> list[str]:
    built = (DATA_DIR / "yiwang.sqlite3").exists()
    # Recorded on the 2-CPU machine of the figures: 400 s for 70,000 items, the bundles about 80 s.
    build_s = 110 + 400 * ITEMS / 70000
    # The search index of 2,000 items was rebuilt in 9 s on a loaded machine.
    reindex_s = 30 + ITEMS * 0.004 if os.environ.get("BENCH_REINDEX", "1") != "0" else 30
    http_s = ROUNDS * 4 * (SECONDS + 1.5) + 13 * SECONDS + 90  # rounds, warm-up, server start
    # bench/oidc_roundtrip.py reads the same variables with its own defaults.
    oidc_rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    oidc_seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    tool = load_generator()
    reuse = "migrate" + (", rebuild the search index (BENCH_REINDEX=0 skips it)" if reindex_s > 30 else "")
    lines = [
        f"1. province: {'reuse' if built else 'build'} {ITEMS:,} items in {DATA_DIR} "
        + (f"({reuse}: {minutes(reindex_s)})" if built else f"(once: {minutes(build_s)})"),
        "2. search latency in-process (under a minute)",
        "3. CPU time per request in-process (under a minute)",
        f"4. page throughput over HTTP: {ROUNDS} rounds × 4 pages × {SECONDS} s ({minutes(http_s)}), load from "
        + ("wrk" if tool == "wrk" else "bench/pyload.py"),
        f"5. OIDC round trips on a temporary SQLite database ({minutes(60 + 2 * oidc_rounds * oidc_seconds)})",
    ]
    if PG_URL:
        lines += [f"{6 + i}. {what}" for i, (_, _, what) in enumerate(pg_benchmarks())]
        server = urllib.parse.urlsplit(PG_URL)  # host and port only: the URL may hold a password
        prefix = os.environ.get("BENCH_PG_DB_PREFIX", "yiwang_bench")
        lines.append(
            f"   on {server.hostname}:{server.port or 5432}: each database is named {prefix}_<kind>_<random> "
            "and dropped at the end; each lifecycle benchmark starts its own redis-server"
        )
    else:
        lines.append("6. PostgreSQL benchmarks: skipped (BENCH_PG_URL=postgres://user@host:port runs them)")
    lines.append(
        "results: var/bench/results/; "
        + (
            "docs/benchmarks.md: its blocks of figures replaced (BENCH_WRITE_DOCS=1)"
            if WRITE_DOCS
            else "docs/benchmarks.md unchanged (BENCH_WRITE_DOCS=1 replaces its figures)"
        )
    )
    if tool == "python" and os.environ.get("BENCH_LOADGEN", "") != "python":
        lines.append(
            "install wrk (apt-get install wrk) for a load generator that takes less of the CPU the server "
            "needs; bench/pyload.py is used meanwhile"
        )
    return lines


def main() -> int:
    print("== make bench: the plan ==", flush=True)
    for line in plan():
        print(f"   {line}", flush=True)
    if nice := int(os.environ.get("BENCH_NICE", "0")):
        # On a machine shared with other jobs, a higher priority for the server, the load
        # generator and the search process (children inherit it) keeps them from measuring the
        # other jobs; the figures say so.
        os.nice(nice)
    m = {"machine": bench_report.machine(), "nice": str(os.nice(0))}
    info, built = ensure_province()
    print(f"== province: {info['items']} items, {info['published']} published ==", flush=True)
    if built is not None:
        print(f"   built in {built:.0f} s", flush=True)
    m["load"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    m["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    failed: list[str] = []

    print("== search latency (in-process) ==", flush=True)
    search = json_of("search_latency.py")
    print(
        f"   p50 {search['p50_ms']} ms  p95 {search['p95_ms']} ms  p99 {search['p99_ms']} ms   "
        f"(target p95 ≤ {TARGET_SEARCH_P95_MS:g} ms: {verdict(search['p95_ms'] <= TARGET_SEARCH_P95_MS)})",
        flush=True,
    )
    print("== CPU time per request in-process (Django test client) ==", flush=True)
    cost = json_of("request_cost.py")
    print(
        f"   hello {cost['hello_ms']} ms, guide {cost['guide_ms']} ms, cold guide {cost['guide_cold_ms']} ms, "
        f"search page {cost['search_ms']} ms",
        flush=True,
    )
    bench_report.publish("search_latency", search_block(m, info, search, cost), write_docs=WRITE_DOCS)
    bench_report.publish("request_cost", cost_block(m, info, cost), write_docs=WRITE_DOCS)

    print("== page throughput (gunicorn on 127.0.0.1, load from a second process) ==", flush=True)
    http = None
    try:
        http = throughput(info["codes"])
        med = http["median"]
        print(f"   hello  {med['hello']:8.1f} req/s (baseline)", flush=True)
        print(
            f"   guide  {med['guide']:8.1f} req/s  = {http['guide_ratio']:.2f} × hello "
            f"(target ≥ {TARGET_GUIDE_RATIO}: {verdict(http['guide_ratio'] >= TARGET_GUIDE_RATIO)})",
            flush=True,
        )
        print(
            f"   guide (cold) {med['guide_cold']:8.1f} req/s  = {http['guide_cold_ratio']:.2f} × hello",
            flush=True,
        )
        print(f"   search {med['search']:8.1f} req/s  = {http['search_ratio']:.2f} × hello", flush=True)
        bench_report.publish("throughput", throughput_block(m, info, http), write_docs=WRITE_DOCS)
    except Exception as exc:  # noqa: BLE001 - reported; the other benchmarks still run
        failed.append(f"throughput: {exc}")
        print(f"!! throughput not measured: {exc}", flush=True)

    others = [("oidc_roundtrip.py", [])]
    if PG_URL:
        others += [(script, args) for script, args, _ in pg_benchmarks()]
    for script, args in others:
        print(f"== {script} ==", flush=True)
        try:
            run([sys.executable, str(BENCH / script), *args, *(["--write-docs"] if WRITE_DOCS else [])])
        except subprocess.CalledProcessError as exc:
            failed.append(f"{script}: exit status {exc.returncode}")
            print(f"!! {script} failed: {exc}", flush=True)

    bench_report.RESULTS.mkdir(parents=True, exist_ok=True)
    (bench_report.RESULTS / "run_all.json").write_text(
        json.dumps(
            {
                "run": m,
                "province": {k: info[k] for k in ("items", "published")},
                "search": search,
                "request_cost": cost,
                "throughput": http,
                "failed": failed,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(
        f"== done: figures in {bench_report.RESULTS.relative_to(ROOT)}/"
        + ("; docs/benchmarks.md updated" if WRITE_DOCS else "; docs/benchmarks.md unchanged")
        + " ==",
        flush=True,
    )
    for f in failed:
        print(f"!! failed: {f}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
