"""Failure behaviour (issue 6): a database outage is a clean 503, a stopped Redis degrades the
cache and does not block or fail job publishing. The outages are real: the database connection
is pointed at a closed port (PostgreSQL) or an unopenable file (SQLite), Redis at a closed port.
The crash script (crash/run.py, ``make crashtest``) does the same against real server restarts.
"""

from __future__ import annotations

import logging
import socket
import time

import pytest
from django.db import connection, connections
from django.test import Client

from yiwang.core.cache import DegradingRedisCache
from yiwang.core.outage import is_database_outage


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def broken_default_connection():
    """A connection like the default one, pointed where no database answers."""
    original = connections["default"]
    settings_dict = dict(original.settings_dict)
    if original.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=closed_port())
    else:
        settings_dict["NAME"] = "/nonexistent-dir/yiwang-down.sqlite3"
    return original, original.__class__(settings_dict, alias="default")


@pytest.fixture
def database_down(django_db_blocker):
    """The test's requests see the database down (the test database itself is left alone)."""
    original, broken = broken_default_connection()
    with django_db_blocker.unblock():
        connections["default"] = broken
        try:
            yield
        finally:
            broken.close()
            connections["default"] = original


def test_a_page_whose_view_needs_the_database_is_a_chinese_503_with_the_language_switch(database_down):
    resp = Client(raise_request_exception=False).get("/items/")
    assert resp.status_code == 503
    assert resp["Retry-After"] == "5"
    html = resp.content.decode()
    assert "服务暂时不可用" in html and "请稍后再试" in html
    assert 'action="/i18n/setlang/"' in html and 'name="csrfmiddlewaretoken"' in html
    assert 'value="en"' in html and 'value="zh-hant"' in html
    assert "Traceback" not in html


def test_a_session_load_in_a_middleware_is_a_503_too(database_down):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32  # SessionMiddleware reads it from the database
    resp = client.get("/my/cases/")
    assert resp.status_code == 503
    assert "服务暂时不可用" in resp.content.decode()


def test_the_503_page_speaks_the_chosen_language(database_down):
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "en"
    resp = client.get("/items/")
    assert resp.status_code == 503
    assert resp["Content-Language"] == "en"
    assert '<html lang="en">' in resp.content.decode()


def test_the_api_answers_a_json_problem(database_down):
    resp = Client(raise_request_exception=False).get("/api/regions/")
    assert resp.status_code == 503
    assert resp["Content-Type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 503 and body["detail"] == "服务暂时不可用，请稍后再试。"


@pytest.mark.django_db
def test_service_resumes_after_the_outage_without_a_restart(client):
    from tests.portal.conftest import build_catalog

    build_catalog()
    original, broken = broken_default_connection()
    connections["default"] = broken
    try:
        assert client.get("/items/", {"page": 1}).status_code == 503
    finally:
        broken.close()
        connections["default"] = original  # the database is back; nothing else is reset
    assert client.get("/items/", {"page": 1}).status_code == 200


@pytest.mark.django_db
def test_a_bug_is_still_a_500_not_a_503():
    from django.contrib.auth import get_user_model
    from django.db import IntegrityError, transaction

    get_user_model().objects.create(username="twice")
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        get_user_model().objects.create(username="twice")
    assert not is_database_outage(info.value)
    with pytest.raises(Exception) as info, connection.cursor() as cur:
        cur.execute("SELECT no_such_column FROM no_such_table")
    assert not is_database_outage(info.value)  # SQLite calls this an OperationalError too


# --- Redis stopped: the cache degrades -----------------------------------------------------------------


def down_cache(**options) -> DegradingRedisCache:
    return DegradingRedisCache(
        f"redis://127.0.0.1:{closed_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options}},
    )


def test_a_stopped_redis_reads_as_an_empty_cache(caplog):
    cache = down_cache()
    with caplog.at_level(logging.WARNING, logger="yiwang.cache"):
        started = time.monotonic()
        assert cache.get("k", "default") == "default"
        cache.set("k", 1)
        assert cache.add("k", 1) is True  # a rate-limit window starts at one
        assert cache.incr("k") == 1
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("k") is False
        assert cache.delete("k") is False
        assert cache.get_or_set("g", 7) == 7
        elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    warnings = [r for r in caplog.records if r.name == "yiwang.cache"]
    assert len(warnings) == 1, "one warning per outage, not one per call"


def test_after_a_failure_redis_is_not_asked_again_until_the_retry_interval(monkeypatch):
    cache = down_cache(RETRY_SECONDS=60)
    assert cache.get("k") is None
    assert cache.is_down
    calls = []
    monkeypatch.setattr(type(cache), "_cache", property(lambda self: calls.append(1)))
    assert cache.get("k") is None and cache.add("k", 1) is True
    assert calls == []


def test_a_running_redis_is_used(settings):
    """The same class against the shared Redis (a database number nobody else uses)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    cache = DegradingRedisCache("redis://127.0.0.1:6379/13", {"OPTIONS": {}})
    key = f"faults-{time.time_ns()}"
    assert cache.add(key, 5, timeout=10) is True
    assert cache.add(key, 6, timeout=10) is False
    assert cache.incr(key) == 6
    assert cache.get(key) == 6
    cache.delete(key)
    assert not cache.is_down
    # One redis.Redis per pool, made once, not one per call.
    assert cache._cache.get_client(key) is cache._cache.get_client(key, write=True)


def test_a_delete_is_tried_even_within_the_retry_interval():
    """A delete ends something (a session): one dropped after a short failure would leave the old
    value readable when Redis answers again."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    cache = DegradingRedisCache("redis://127.0.0.1:6379/13", {"OPTIONS": {"RETRY_SECONDS": 60}})
    key = f"faults-delete-{time.time_ns()}"
    cache.set(key, "session", timeout=10)
    cache._down_until = time.monotonic() + 60  # as after a failure a moment ago
    cache.delete(key)
    cache._down_until = 0.0
    assert cache.get(key) is None


@pytest.mark.django_db
def test_pages_and_rate_limits_work_with_redis_stopped(settings, client):
    from tests.portal.conftest import build_catalog

    catalog = build_catalog()
    stopped = {
        "BACKEND": "yiwang.core.cache.DegradingRedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    # As in production with REDIS_URL: the rate limits count in Redis too (core/ratelimit.py).
    settings.CACHES = {"default": stopped, "ratelimit": {**stopped, "KEY_PREFIX": "rl"}}
    settings.YIWANG_RATE_LIMIT_STORE = "cache"
    started = time.monotonic()
    assert client.get("/").status_code == 200
    assert client.get(f"/items/{catalog.food.item.code}/").status_code == 200  # the cached guide
    assert client.get("/search/", {"q": "护照"}).status_code == 200  # rate-limited through the cache
    assert client.get("/api/regions/").status_code == 200  # the cached API
    assert time.monotonic() - started < 5


# --- Redis stopped: publishing a job neither blocks nor fails the request -----------------------------

PUBLISH = """
import time, django
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", "core", verbosity=0)
from yiwang.cases.tasks import send_outbox
from yiwang.core.models import DeferredJob
assert not settings.CELERY_TASK_ALWAYS_EAGER
t = time.monotonic()
result = send_outbox.delay([1])
print(result is None, round(time.monotonic() - t, 3), list(DeferredJob.objects.values_list("task", flat=True)))
"""


def test_publishing_to_a_stopped_broker_returns_at_once_without_raising(tmp_path):
    """The production settings (REDIS_URL set, Redis stopped) and the real task, in a child."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiwang.settings",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "YIWANG_DATA_DIR": str(tmp_path),
        "YIWANG_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", PUBLISH], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    published_none, seconds, kept = out.stdout.split(maxsplit=2)
    assert published_none == "True"
    assert float(seconds) < 2.0
    assert kept.strip() == "['cases.send_outbox']"
    assert "cases.send_outbox not published" in out.stderr


def test_a_job_that_meets_a_database_outage_is_retried_later(monkeypatch):
    """PublishSafeTask: OperationalError from the database asks Celery for a retry with a
    backoff (the worker re-queues it), any other error fails as before."""
    from celery import Celery
    from celery.exceptions import Retry
    from django.db.utils import OperationalError

    app = Celery("faults-retry", task_cls="yiwang.core.jobs:PublishSafeTask")
    failures = [OperationalError("server closed the connection unexpectedly")]

    @app.task(name="faults.flaky")
    def flaky() -> str:
        if failures:
            raise failures.pop()
        return "done"

    asked: list[dict] = []

    def retry(**kw):
        asked.append(kw)
        raise Retry("retry", when=kw.get("countdown"))

    monkeypatch.setattr(flaky, "retry", retry)
    with pytest.raises(Retry):
        flaky()
    assert isinstance(asked[0]["exc"], OperationalError) and asked[0]["countdown"] == 2
    assert flaky() == "done"
    failures.append(ValueError("a bug"))
    with pytest.raises(ValueError):
        flaky()
    assert len(asked) == 1


@pytest.mark.django_db
def test_a_job_published_while_the_broker_is_down_is_kept_and_published_later(caplog):
    """Redis down: the job goes to the database (no exception, no wait); Redis back: the
    periodic republish sends it and removes the row."""
    from celery import Celery

    from yiwang.core import jobs
    from yiwang.core.models import DeferredJob

    down = Celery(
        "faults-down",
        task_cls="yiwang.core.jobs:PublishSafeTask",
        broker=f"redis://127.0.0.1:{closed_port()}/0",
    )
    down.conf.broker_connection_timeout = 1.0
    down.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}

    @down.task(name="faults.notice")
    def notice(case_id: int, kind: str) -> None: ...

    with caplog.at_level(logging.WARNING, logger="yiwang.jobs"):
        assert notice.delay(7, "receipt") is None
        notice.apply_async(args=[8, "receipt"], countdown=30)
    kept = list(DeferredJob.objects.values_list("task", "args", "eta"))
    assert [(t, a) for t, a, _eta in kept] == [
        ("faults.notice", [7, "receipt"]),
        ("faults.notice", [8, "receipt"]),
    ]
    assert kept[0][2] is None and kept[1][2] is not None
    assert "kept for core.republish_jobs" in caplog.text

    # Still down: nothing is lost, nothing is sent.
    down.set_current()
    assert jobs.republish() == 0
    assert DeferredJob.objects.count() == 2

    # Back (an in-memory broker stands in for Redis here; crash/run.py does it with Redis).
    up = Celery("faults-up", broker="memory://")
    up.set_current()
    try:
        assert jobs.republish() == 2
        assert DeferredJob.objects.count() == 0
        with up.connection_for_read() as conn:
            queue = conn.SimpleQueue("celery")
            bodies = [queue.get(timeout=1) for _ in range(2)]
            assert [m.headers["task"] for m in bodies] == ["faults.notice", "faults.notice"]
            assert bodies[1].headers["eta"] is not None
            queue.close()
    finally:
        from yiwang import celery_app

        celery_app.set_current()


def test_the_republish_job_is_scheduled():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["republish-jobs"]["task"] == "core.republish_jobs"
