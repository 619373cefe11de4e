"""The benchmarks' own plumbing (bench/report.py, bench/scratch.py, bench/run_all.py): figures go
to docs/benchmarks.md only when asked, each benchmark has its block there, and the PostgreSQL
benchmarks create and drop their own database and run their own Redis."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_a_block_is_replaced_and_nothing_else():
    report = _load("report")
    text = "intro\n<!-- bench:a -->\nold a\n<!-- /bench:a -->\nmiddle\n<!-- bench:b -->\nold b\n<!-- /bench:b -->\n"
    out = report.replace_block(text, "a", "new a\n")
    assert out == text.replace("old a", "new a")
    with pytest.raises(ValueError, match="bench:c"):
        report.replace_block(text, "c", "x")


def test_figures_reach_the_docs_only_when_asked(tmp_path, monkeypatch):
    report = _load("report")
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# B\n<!-- bench:x -->\nold\n<!-- /bench:x -->\n", encoding="utf-8")
    monkeypatch.setattr(report, "DOCS", docs)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "ROOT", tmp_path)
    report.publish("x", "| new |", write_docs=False)
    assert (tmp_path / "results" / "x.md").read_text(encoding="utf-8") == "| new |\n"
    assert "old" in docs.read_text(encoding="utf-8")
    report.publish("x", "| new |", write_docs=True)
    assert docs.read_text(encoding="utf-8") == "# B\n<!-- bench:x -->\n| new |\n<!-- /bench:x -->\n"


def test_every_benchmark_that_writes_figures_has_its_block_in_the_docs():
    docs = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    names = set()
    for path in BENCH.rglob("*.py"):
        names |= set(re.findall(r'publish\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert {"search_latency", "request_cost", "throughput", "case_lifecycle", "bundle_lifecycle"} <= names
    assert {"inbox_latency", "oidc_roundtrip"} <= names
    for name in [*names, "loadtest"]:
        assert docs.count(f"<!-- bench:{name} -->") == 1 and docs.count(f"<!-- /bench:{name} -->") == 1, name


def test_one_meaning_per_variable_and_nothing_installed():
    """BENCH_PG_URL is the PostgreSQL server everywhere (there is no on/off BENCH_PG), no script
    names a fixed benchmark database or empties a Redis database, and none runs apt-get."""
    for path in BENCH.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"BENCH_PG\b(?!_)", text), path
        assert 'apt-get", "install' not in text and "'apt-get'" not in text, path
        assert not re.search(r"(?i)flushdb|flushall|scan_iter", text), path
        assert "yiwang_bench_cases" not in text and 'yiwang_bench_inbox"' not in text, path


@pytest.mark.django_db
def test_pg_database_is_new_each_run_and_dropped(monkeypatch, settings):
    if not settings.IS_POSTGRES:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    import psycopg
    from django.db import connection

    scratch = _load("scratch")
    db = settings.DATABASES["default"]
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    monkeypatch.setenv("BENCH_PG_URL", server + "/ignored")
    monkeypatch.setenv("BENCH_PG_DB_PREFIX", f"{connection.settings_dict['NAME']}_scratch")

    def exists(name: str) -> bool:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())

    with scratch.pg_database("t") as first, scratch.pg_database("t") as second:
        names = [urlsplit(u).path.lstrip("/") for u in (first, second)]
        assert names[0] != names[1] and all(exists(n) for n in names)
        with psycopg.connect(first) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not any(exists(n) for n in names)


def test_pg_benchmarks_need_a_server_url(monkeypatch):
    scratch = _load("scratch")
    monkeypatch.delenv("BENCH_PG_URL", raising=False)
    with pytest.raises(SystemExit, match="BENCH_PG_URL"):
        scratch.pg_server_url()
    monkeypatch.setenv("BENCH_PG_URL", "1")
    with pytest.raises(SystemExit, match="postgres://"):
        scratch.pg_server_url()


def test_own_redis_is_a_server_of_its_own():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    import redis

    scratch = _load("scratch")
    with scratch.own_redis() as url:
        port = urlsplit(url).port
        assert port != 6379
        client = redis.Redis.from_url(url)
        client.set("k", "v")
        assert client.dbsize() == 1
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, socket_connect_timeout=0.5).ping()


def test_make_bench_plan_says_what_it_skips_and_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_PG_URL", raising=False)
    monkeypatch.delenv("BENCH_WRITE_DOCS", raising=False)
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    run_all = _load("run_all")
    monkeypatch.setattr(run_all.shutil, "which", lambda name: None)
    text = "\n".join(run_all.plan())
    assert "PostgreSQL benchmarks: skipped" in text and "BENCH_PG_URL" in text
    assert "docs/benchmarks.md unchanged" in text
    assert "install wrk (apt-get install wrk)" in text
    assert "build 70,000 items" in text
