"""What the PostgreSQL benchmarks create for themselves and remove: a database on the server
``BENCH_PG_URL`` names, a Redis server of their own, and a data directory for the keys the
database's personal data is encrypted with.

``BENCH_PG_URL`` is the server (``postgres://user@host:port``, no database); unset, the
PostgreSQL benchmarks do not run. Each database is named ``BENCH_PG_DB_PREFIX`` (``yiwang_bench``)
``_<kind>_<random>``, so two runs on one server never meet; it is dropped at the end unless
``--db NAME`` named one to keep for the next run (the inbox benchmark's million-case fill, for
example). The Redis server listens on a free port of 127.0.0.1 without persistence and stops at
the end, so no benchmark touches a Redis database someone else uses.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PG_HELP = "set BENCH_PG_URL to the PostgreSQL server to create the benchmark's database on, e.g. postgres://postgres@127.0.0.1:5432"


def pg_server_url() -> str:
    """``BENCH_PG_URL`` without a database path; exits with what to set when it is missing."""
    url = os.environ.get("BENCH_PG_URL", "").strip()
    if not url:
        sys.exit(PG_HELP)
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("BENCH_PG_URL must be a postgres:// URL (postgres://user@host:port)")
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


def database_name(kind: str) -> str:
    prefix = os.environ.get("BENCH_PG_DB_PREFIX", "yiwang_bench")
    return f"{prefix}_{kind}_{secrets.token_hex(4)}"


def _admin(server: str, sql: str, params: list | None = None) -> list:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


@contextlib.contextmanager
def pg_database(kind: str, keep: str | None = None) -> Iterator[str]:
    """Yield the URL of a database for this run: a new uniquely named one, dropped at the end, or
    the database ``keep`` (created when missing, kept)."""
    server = pg_server_url()
    name = keep or database_name(kind)
    if not _admin(server, "SELECT 1 FROM pg_database WHERE datname = %s", [name]):
        _admin(server, f'CREATE DATABASE "{name}"')
    print(
        f"== PostgreSQL database {name} on {urlsplit(server).hostname}"
        + (" (kept: --db)" if keep else " (dropped at the end)")
        + " ==",
        flush=True,
    )
    try:
        yield f"{server}/{name}"
    finally:
        if not keep:
            # WITH (FORCE) ends this process's own connections too.
            _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def data_dir(kind: str, keep: str | None = None) -> Iterator[str]:
    """The data directory (encryption keys) that belongs with the database: a temporary one, or
    var/bench-pg/<database> beside a kept database."""
    if keep:
        path = ROOT / "var" / "bench-pg" / keep
        path.mkdir(parents=True, exist_ok=True)
        yield str(path)
        return
    path = tempfile.mkdtemp(prefix=f"yiwang-bench-{kind}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def own_redis() -> Iterator[str]:
    """A Redis server of this run's own (free port, no persistence), stopped at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit(
            "install redis-server (apt-get install redis-server): the benchmark queues its jobs in a Redis of its own"
        )
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="yiwang-bench-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        for _ in range(100):
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
