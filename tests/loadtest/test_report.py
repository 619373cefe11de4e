"""The load test's report (bench/loadtest/run.py): the figures against the target, and the open
tasks by step before and after the mix, which move the figures (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run():
    spec = importlib.util.spec_from_file_location("lt_run", ROOT / "bench" / "loadtest" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(name: str, count: int, rps: float, p99: int, failures: int = 0) -> dict[str, str]:
    return {
        "Type": "GET" if name != "Aggregated" else "",
        "Name": name,
        "Request Count": str(count),
        "Failure Count": str(failures),
        "Requests/s": str(rps),
        "50%": "150",
        "95%": "270",
        "99%": str(p99),
        "Max Response Time": "900.5",
    }


def test_backlog_line_names_every_step_before_and_after():
    run = _run()
    line = run.backlog_line({"accept": 900, "decide": 600}, {"accept": 910, "deliver": 3})
    assert line == (
        "- open tasks by step, before → after the mix: accept 900 → 910, decide 600 → 0, deliver 0 → 3"
    )
    assert run.backlog_line({}, {}) == "- open tasks by step: not read"


def test_unreachable_database_leaves_the_line_out_not_the_report(monkeypatch):
    run = _run()
    monkeypatch.setattr(run, "PG", "postgres://nobody@127.0.0.1:1")
    assert run.open_tasks_by_step() == {}


def test_report_states_the_target_and_the_backlog():
    run = _run()
    args = argparse.Namespace(offered=523.0, seconds=600, hello_seconds=30)
    mix = [row("wb case", 1000, 100.0, 300), row("Aggregated", 3000, 352.6, 330)]
    hello = [row("Aggregated", 90000, 2646.0, 14)]
    backlog = run.backlog_line({"decide": 500}, {"decide": 0})
    text = run.report(args, hello, mix, [], [(4.0, 3.0, 2.0)], 142.0, 94, {"web": 1.27}, backlog)
    assert "| throughput, mixed | 352.6 req/s | ≥ 330 (met), aim 500 |" in text
    assert "p99 < 500 ms (met)" in text and "| failures | 0 of 3000 | none (met) |" in text
    assert "| mixed ÷ hello | 0.13 | |" in text
    assert "- open tasks by step, before → after the mix: decide 500 → 0" in text
    slow = run.report(args, hello, [row("Aggregated", 3000, 300.0, 600, failures=2)], [], [], 1.0, 94, {})
    assert "≥ 330 (NOT met)" in slow and "p99 < 500 ms (NOT met)" in slow and "none (NOT met)" in slow
