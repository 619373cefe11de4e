"""``make bench``: the platform's benchmarks on a 70,000-item province.

1. Build the province once into var/bench (reused when present).
2. Search latency in-process (bench/search_latency.py): p50/p95/p99 over a fixed list of
   citizen queries, each run several times.
3. Throughput of the guide page, the search page and Django's hello-world view, served by
   ``yiwang serve`` (gunicorn) on 127.0.0.1 and loaded by a second process (wrk, or a Python
   load generator when wrk is missing), in interleaved rounds; medians and ratios to hello.
4. Print the figures beside the targets and write docs/benchmarks.md.

Environment: BENCH_ITEMS (70000), BENCH_ROUNDS (5), BENCH_SECONDS (6 per run),
BENCH_CONNECTIONS (8), BENCH_HOT_GUIDES (100), BENCH_DATA_DIR (var/bench), BENCH_LOADGEN (wrk, or
python for the fallback load generator), BENCH_NICE (0; e.g. -10 as root on a shared machine), BENCH_REINDEX (1; 0 skips rebuilding the
search index of a reused province).
"""

from __future__ import annotations

import json
import os
import platform
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
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", ROOT / "var" / "bench")).resolve()
ITEMS = int(os.environ.get("BENCH_ITEMS", "70000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
HOT_GUIDES = int(os.environ.get("BENCH_HOT_GUIDES", "100"))
COLD_GUIDES = 20000

TARGET_SEARCH_P95_MS = 20.0
TARGET_GUIDE_RATIO = 0.5

sys.path.insert(0, str(BENCH))
from queries import QUERIES  # noqa: E402


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["YIWANG_DATA_DIR"] = str(DATA_DIR)
    e["DJANGO_SETTINGS_MODULE"] = "yiwang.settings"
    e.pop("DATABASE_URL", None)  # the benchmark runs on the embedded default (SQLite)
    e["DEBUG"] = "0"
    e.setdefault("LOG_LEVEL", "ERROR")
    return e


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env(), cwd=ROOT, check=True, **kw)


def json_of(script: str, *args: str) -> dict:
    out = run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- machine ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


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
            print(f"!! {DATA_DIR} holds {info['items']} items, not {ITEMS}: remove it to rebuild", flush=True)
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


def have_wrk() -> bool:
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("== installing wrk (apt-get install -y wrk) ==", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
    return shutil.which("wrk") is not None


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
        forced = os.environ.get("BENCH_LOADGEN", "")  # "python" forces the fallback generator
        tool = "python" if forced == "python" or not have_wrk() else "wrk"
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


def write_report(
    m: dict, info: dict, built: float | None, search: dict, http: dict | None, notes: list[str], cost: dict
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        "",
        "Written by `make bench` (`bench/run_all.py`); the figures below are from the last run.",
        "Nothing here runs in the test suite.",
        "",
        f"- date: {now}",
        f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}, Python {m['python']}",
        f"- load average (1, 5, 15 min) when the measurements started: {m['load']}; other jobs on the machine "
        "compete with the server and the load generator, so compare figures taken on a quiet machine"
        + (
            f"; the benchmark ran at nice {m['nice']} (BENCH_NICE) to keep them from dominating"
            if m["nice"] != "0"
            else ""
        ),
        f"- data: {info['items']:,} implementation items ({info['published']:,} published) generated by "
        f"`yiwang generate-province --items {ITEMS}` into `{DATA_DIR.relative_to(ROOT) if DATA_DIR.is_relative_to(ROOT) else DATA_DIR}` (SQLite, WAL)",
    ]
    if built is not None:
        lines.append(f"- building that province took {built:.0f} s on this machine")
    lines += [
        "",
        "## Search latency (server side, in-process)",
        "",
        f"`yiwang.catalog.search.search_items` called in one process for {search['queries']} fixed citizen queries "
        f"(1-, 2-, 3+-character words, pinyin, initials, with and without filters; `bench/queries.py`), "
        f"each once to warm up and then {search['repeat']} times: {search['calls']} timed calls.",
        "",
        "| figure | wall clock | CPU time of the call | target |",
        "|---|---|---|---|",
        f"| p50 | {search['p50_ms']} ms | {search['cpu_p50_ms']} ms | |",
        f"| p95 | {search['p95_ms']} ms | {search['cpu_p95_ms']} ms | ≤ {TARGET_SEARCH_P95_MS:g} ms wall clock "
        f"({verdict(search['p95_ms'] <= TARGET_SEARCH_P95_MS)}) |",
        f"| p99 | {search['p99_ms']} ms | {search['cpu_p99_ms']} ms | |",
        f"| max | {search['max_ms']} ms | | |",
        "",
        "Wall clock is what a reader waits for; the CPU time shows what the call costs when the process does "
        "not wait for a CPU held by other jobs.",
        "",
        "| kind of query | p50 | p95 |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v['p50_ms']} ms | {v['p95_ms']} ms |" for k, v in search["by_label"].items()]
    lines += [
        "",
        "Slowest queries (median): "
        + "; ".join(f"`{r['q'] or '（空）'}` {r['median_ms']} ms" for r in search["slowest"]),
    ]
    if search["zero_hits"]:
        lines += ["", "Queries with no hits: " + "、".join(search["zero_hits"])]
    lines += [
        "",
        "## CPU time per request (in-process)",
        "",
        "The whole middleware stack and view through Django's test client, no HTTP server, median CPU time "
        "(`bench/request_cost.py`). Requests per second on a machine shared with other jobs move with their load; "
        "CPU time does not, and hello's CPU time divided by a page's is the throughput ratio a CPU-bound server "
        "would reach.",
        "",
        "| page | CPU per request | hello ÷ page | target |",
        "|---|---|---|---|",
        f"| hello | {cost['hello_ms']} ms | 1.00 | |",
        f"| guide (hot, cached) | {cost['guide_ms']} ms | {cost['guide_ratio']:.2f} | ≥ {TARGET_GUIDE_RATIO} "
        f"({verdict(cost['guide_ratio'] >= TARGET_GUIDE_RATIO)}) |",
        f"| guide (cold, rendered) | {cost['guide_cold_ms']} ms | {cost['guide_cold_ratio']:.2f} | |",
        f"| search page | {cost['search_ms']} ms | {cost['search_ratio']:.2f} | |",
    ]
    lines += ["", "## Page throughput (gunicorn, loopback)", ""]
    if http is None:
        lines.append("Not measured in this run (see notes).")
    else:
        lines += [
            f"`yiwang serve` (gunicorn, {(os.cpu_count() or 1) * 2 + 1} sync workers) on 127.0.0.1, loaded by "
            f"{'`wrk -t1 -c' + str(http['connections']) + '`' if http['tool'] == 'wrk' else 'a Python keep-alive client process'} "
            f"from a second process for {http['seconds']} s per run, {ROUNDS} interleaved rounds "
            f"(hello, guide, search); the load generator shares the machine's CPUs with the server. "
            f"Guide (hot): `/items/<code>/` rotating over {http['guide_codes']} published codes, after a warm-up in which "
            f"every worker has rendered and cached them (the portal caches each rendered guide per version); guide (cold): "
            f"rotating over {http['guide_cold_codes']:,} other codes, so nearly every request renders a page; search: "
            f"`/search/?q=...` rotating over {http['search_queries']} queries; hello: Django's hello-world view `/hello/`. "
            "The portal's cache is the per-process memory cache (REDIS_URL unset), 20,000 entries per worker "
            "(a guide takes two).",
            "",
            "| page | rounds (req/s) | median req/s | ratio to hello (median of per-round ratios) | target |",
            "|---|---|---|---|---|",
            f"| hello | {', '.join(f'{x:.0f}' for x in http['rounds']['hello'])} | {http['median']['hello']:.0f} | 1.00 | ceiling |",
            f"| guide | {', '.join(f'{x:.0f}' for x in http['rounds']['guide'])} | {http['median']['guide']:.0f} | "
            f"{http['guide_ratio']:.2f} | ≥ {TARGET_GUIDE_RATIO} × hello ({verdict(http['guide_ratio'] >= TARGET_GUIDE_RATIO)}) |",
            f"| guide (cold) | {', '.join(f'{x:.0f}' for x in http['rounds']['guide_cold'])} | {http['median']['guide_cold']:.0f} | "
            f"{http['guide_cold_ratio']:.2f} | |",
            f"| search | {', '.join(f'{x:.0f}' for x in http['rounds']['search'])} | {http['median']['search']:.0f} | "
            f"{http['search_ratio']:.2f} | |",
        ]
        lines += ["", f"Hot guide warm-up runs (req/s): {', '.join(str(x) for x in http['guide_warmup'])}."]
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
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                      # builds var/bench once (about 8 minutes), then measures",
        "BENCH_ROUNDS=7 BENCH_SECONDS=10 make bench",
        "```",
        "",
    ]
    lines.append(END)
    text = "\n".join(lines) + "\n"
    path = ROOT / "docs" / "benchmarks.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        merge_into(path.read_text(encoding="utf-8") if path.exists() else "", text), encoding="utf-8"
    )
    return text


START = "# Benchmarks\n\n<!-- written by bench/run_all.py: start -->"
END = "<!-- written by bench/run_all.py: end -->"


def merge_into(existing: str, block: str) -> str:
    """Replace this script's part of docs/benchmarks.md and keep what other benchmarks wrote."""
    if START in existing and END in existing:
        before, _, rest = existing.partition(START)
        _, _, after = rest.partition(END)
        return before + block.rstrip("\n") + after
    # A file from before the markers: this script wrote everything up to its "Reproduce" code block.
    marker = "BENCH_ROUNDS=7 BENCH_SECONDS=10 make bench\n```\n"
    others = existing.partition(marker)[2] if marker in existing else ""
    return block + others


def main() -> int:
    m = machine()
    if nice := int(os.environ.get("BENCH_NICE", "0")):
        # On a machine shared with other jobs, a higher priority for the server, the load
        # generator and the search process (children inherit it) keeps them from measuring the
        # other jobs; the report says so.
        os.nice(nice)
    m["nice"] = str(os.nice(0))
    print(f"== machine: {m['nproc']} CPUs, {m['cpu']}, {m['memory']} ==", flush=True)
    info, built = ensure_province()
    print(f"== province: {info['items']} items, {info['published']} published ==", flush=True)
    notes: list[str] = []
    m["load"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== load average {m['load']} ==", flush=True)

    print("== search latency (in-process) ==", flush=True)
    search = json_of("search_latency.py")
    print(
        f"   p50 {search['p50_ms']} ms  p95 {search['p95_ms']} ms  p99 {search['p99_ms']} ms   "
        f"(target p95 ≤ {TARGET_SEARCH_P95_MS:g} ms: {verdict(search['p95_ms'] <= TARGET_SEARCH_P95_MS)}); "
        f"CPU time p50 {search['cpu_p50_ms']} ms p95 {search['cpu_p95_ms']} ms",
        flush=True,
    )

    print("== CPU time per request in-process (Django test client) ==", flush=True)
    cost = json_of("request_cost.py")
    print(
        f"   hello {cost['hello_ms']} ms, guide {cost['guide_ms']} ms ({cost['guide_ratio']} × hello), "
        f"cold guide {cost['guide_cold_ms']} ms, search page {cost['search_ms']} ms",
        flush=True,
    )

    print("== page throughput (gunicorn on 127.0.0.1, load from a second process) ==", flush=True)
    http = None
    try:
        http = throughput(info["codes"])
        med = http["median"]
        print(f"   hello  {med['hello']:8.1f} req/s (ceiling)", flush=True)
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
        if http["problems"]:
            notes.append("Some pages did not answer 200: " + json.dumps(http["problems"], ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 - the report says what failed
        notes.append(f"Throughput not measured: {exc}")
        print(f"!! throughput not measured: {exc}", flush=True)

    write_report(m, info, built, search, http, notes, cost)
    print("== written docs/benchmarks.md ==", flush=True)
    # The other benchmarks write their own sections of docs/benchmarks.md. The case lifecycle
    # and the inbox need the PostgreSQL on 127.0.0.1:5432 (BENCH_PG=0 skips them).
    others = [("oidc_roundtrip.py", [])]
    if os.environ.get("BENCH_PG", "1") != "0":
        others += [("case_lifecycle.py", ["--write-docs"]), ("inbox_latency.py", ["--write-docs"])]
    for script, args in others:
        print(f"== {script} ==", flush=True)
        try:
            run([sys.executable, str(BENCH / script), *args])
        except subprocess.CalledProcessError as exc:
            print(f"!! {script} failed: {exc}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
