"""Settings come from the environment, and the `yiwang` command runs the platform's commands.

Each case imports the settings in a fresh interpreter with only the variables it names, so the
embedded default and each scale-out engine are checked as a deployment would set them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import json, yiwang.settings as s; print(json.dumps({"
    "'db': s.DATABASES['default']['ENGINE'], 'init': s.DATABASES['default'].get('OPTIONS', {}).get('init_command', ''),"
    "'cache': s.CACHES['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'storage': s.STORAGES['default']['BACKEND'], 'bucket': s.STORAGES['default'].get('OPTIONS', {}).get('bucket_name'),"
    "'db_options': {k: v for k, v in s.DATABASES['default'].get('OPTIONS', {}).items() if k != 'init_command'},"
    "'health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'], 'sessions': s.SESSION_ENGINE,"
    "'gc': s.YIWANG_GC_THRESHOLD}))"
)


def _settings(tmp_path: Path, **env: str) -> dict:
    # CI exports some of these for the PostgreSQL stage; each case names its own.
    engine_vars = {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "YIWANG_S3_BUCKET"}
    clean = {k: v for k, v in os.environ.items() if k not in engine_vars}
    clean.update({"YIWANG_DATA_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_embedded_default(tmp_path):
    s = _settings(tmp_path)
    assert s["db"] == "django.db.backends.sqlite3" and "journal_mode=WAL" in s["init"]
    assert s["cache"].endswith("LocMemCache") and s["eager"] is True
    assert s["storage"] == "django.core.files.storage.FileSystemStorage"
    assert "server_side_binding" not in s["db_options"]
    # Sessions in the database: a local-memory cache would be each worker process's own.
    assert s["sessions"] == "yiwang.identity.backends"
    assert s["health_checks"] is False and s["gc"] == 50000


def test_scale_out_engines_from_the_environment(tmp_path):
    s = _settings(
        tmp_path,
        DATABASE_URL="postgres://u@db.example:5432/yiwang",
        REDIS_URL="redis://cache.example:6379/0",
        YIWANG_S3_BUCKET="yiwang-files",
    )
    assert s["db"] == "django.db.backends.postgresql"  # Django's own backend
    assert s["cache"].endswith("RedisCache") and s["broker"] == "redis://cache.example:6379/0"
    assert s["eager"] is False
    assert s["storage"] == "storages.backends.s3.S3Storage" and s["bucket"] == "yiwang-files"
    # PostgreSQL: statements bound on the server and prepared on their fifth run per connection.
    assert s["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}
    # Sessions read from Redis, written to both; no SELECT 1 per request (core/dbcheck.py).
    assert s["sessions"] == "django.contrib.sessions.backends.cached_db"
    assert s["health_checks"] is False


def test_health_checks_and_the_garbage_collector_from_the_environment(tmp_path):
    s = _settings(
        tmp_path,
        DATABASE_URL="postgres://u@db.example:5432/yiwang",
        DB_CONN_HEALTH_CHECKS="1",
        YIWANG_GC_THRESHOLD="0",
    )
    assert s["health_checks"] is True and s["gc"] == 0


def test_prepared_statements_can_be_turned_off_for_a_pooler(tmp_path):
    s = _settings(tmp_path, DATABASE_URL="postgres://u@db.example:5432/yiwang", DB_PREPARED_STATEMENTS="0")
    assert s["db_options"] == {}


def test_yiwang_command_maps_hyphens(tmp_path):
    yiwang = Path(sys.executable).with_name("yiwang")
    env = {**os.environ, "YIWANG_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run([str(yiwang), "migrate", "-v0"], env=env, check=True, capture_output=True)
    out = subprocess.run([str(yiwang), "verify-audit"], env=env, check=True, capture_output=True, text=True)
    assert "audit chain intact" in out.stdout


@pytest.mark.django_db
def test_postgresql_prepares_a_repeated_statement():
    """On PostgreSQL the same query run again on one connection is planned once (the settings
    above), and a query with other parameter values reuses that prepared statement."""
    from django.db import connection

    from yiwang.regions.models import Region

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for code in range(6):
        list(Region.objects.filter(code=f"9{code:05d}").values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cur.fetchall()]
    assert any('FROM "regions_region"' in q and '"code" = $1' in q for q in prepared), prepared


def test_serving_processes_collect_garbage_less_often(settings):
    """yiwang.wsgi raises the youngest generation's threshold to YIWANG_GC_THRESHOLD (a page's
    short-lived objects die by reference counting first); 0 keeps CPython's defaults."""
    import gc

    from yiwang.core.serving import tune_garbage_collector

    before = gc.get_threshold()
    try:
        settings.YIWANG_GC_THRESHOLD = 0
        tune_garbage_collector()
        assert gc.get_threshold() == before
        settings.YIWANG_GC_THRESHOLD = 40000
        tune_garbage_collector()
        assert gc.get_threshold() == (40000, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
