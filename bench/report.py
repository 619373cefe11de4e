"""Where a benchmark's figures go: always a file under var/bench/results/, and the benchmark's
block of docs/benchmarks.md only when asked (``--write-docs``; ``BENCH_WRITE_DOCS=1 make bench``).

docs/benchmarks.md is written by hand around the blocks: each block sits between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` and holds that benchmark's last recorded
figures; nothing else of the page is rewritten.
"""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "var" / "bench" / "results"


def machine() -> str:
    """One line: CPUs, CPU model, memory, OS, Python."""
    cpu, mem = platform.processor() or "unknown", "unknown"
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, AttributeError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem} memory, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def stamp() -> str:
    """When and where: the date and the machine."""
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}"


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def replace_block(text: str, name: str, block: str) -> str:
    """``text`` with the block ``name`` replaced; ValueError when its markers are missing."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"docs/benchmarks.md has no single {start} ... {end} block")
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    return f"{before}{start}\n{block.strip()}\n{end}{after}"


def publish(name: str, block: str, *, write_docs: bool) -> Path:
    """Write the figures to var/bench/results/NAME.md and, when asked, into docs/benchmarks.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(block.strip() + "\n", encoding="utf-8")
    print(f"== figures written to {path.relative_to(ROOT)} ==", flush=True)
    if write_docs:
        DOCS.write_text(replace_block(DOCS.read_text(encoding="utf-8"), name, block), encoding="utf-8")
        print(f"== docs/benchmarks.md: block {name} replaced ==", flush=True)
    return path
