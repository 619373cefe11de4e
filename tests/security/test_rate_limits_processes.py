"""Rate limits hold across separate processes (gunicorn workers, several web nodes): counted in
one shared store (core.ratelimit), a limit of N allows exactly N, however many processes share
the load. Each child is a real process with its own Django, database connection and caches."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

import yiwang
from yiwang.portal.applicant_pages import LOOKUP_LIMIT, LOOKUP_WINDOW

pytestmark = pytest.mark.django_db

CHILD = Path(__file__).with_name("ratelimit_child.py")
PROCESSES = 5


@pytest.fixture
def child_env(tmp_path) -> dict[str, str]:
    """The environment of a process of this deployment, on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DJANGO_SETTINGS_MODULE"] = "yiwang.settings"
    env["PYTHONPATH"] = str(Path(yiwang.__file__).parents[1])
    env["YIWANG_RATE_LIMIT_STORE"] = settings.YIWANG_RATE_LIMIT_STORE
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        # The test database lives in this process's memory: the children get its migrated
        # schema in a file, as the embedded default's processes share one file.
        path = tmp_path / "shared.sqlite3"
        target = sqlite3.connect(path)
        target.execute("PRAGMA journal_mode=WAL")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                "ORDER BY rowid"
            )
            statements = [row[0] for row in cursor.fetchall()]
        for statement in statements:
            try:
                target.execute(statement)
            except sqlite3.OperationalError as exc:  # a full-text index's own tables
                assert "already exists" in str(exc), exc
        target.commit()
        target.close()
        env.pop("DATABASE_URL", None)
        env["YIWANG_SQLITE_PATH"] = str(path)
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


def run_together(env: dict[str, str], args: list[str], window: int) -> list[list]:
    """Start the children, wait until each is warm, let them all go at once, collect results."""
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            line = child.stdout.readline().strip()
            assert line == "ready", child.stderr.read()
        # All requests in one fixed window: start early in one if the current ends soon.
        if (left := window - time.time() % window) < window / 3:
            time.sleep(left + 0.2)
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def test_case_lookup_allows_exactly_its_limit_across_processes(child_env):
    tries = 16  # 5 processes x 16 = 80 tries against a limit of 10 a minute
    url = "/cases/lookup/?number=35010020261207000001&code=ABCDEF"
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    results = run_together(child_env, ["request", url, str(tries), address, "/cases/lookup/"], LOOKUP_WINDOW)
    statuses = [s for r in results for s in r]
    assert len(statuses) == PROCESSES * tries
    assert set(statuses) <= {404, 429}  # allowed (no such case) or refused
    assert statuses.count(404) == LOOKUP_LIMIT


def test_api_throttle_allows_exactly_its_rate_across_processes(child_env):
    child_env["YIWANG_API_THROTTLE"] = "7/m"
    address = f"203.0.113.{secrets.randbelow(250) + 1}"
    results = run_together(child_env, ["request", "/api/health", "6", address, "/api/openapi.json"], 60)
    statuses = [s for r in results for s in r]
    assert statuses.count(200) == 7 and statuses.count(429) == PROCESSES * 6 - 7


def test_counting_is_exact_under_contention(child_env):
    """Many increments of one bucket at once: exactly ``limit`` hits are allowed."""
    bucket = f"contention:{secrets.token_hex(4)}"
    results = run_together(child_env, ["hit", bucket, "60", "100"], 60)
    waits = [w for r in results for w in r]
    assert len(waits) == PROCESSES * 60
    assert waits.count(0) == 100
