"""Shared fixtures. Tests run on whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import os
import re

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (make test, CI) each worker has its own database (pytest-django adds
    the worker's suffix) and, here, its own Redis database: a test that clears the cache must
    not clear another worker's. Runs before any cache connection is made."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    from django.conf import settings

    if not worker.startswith("gw") or not getattr(settings, "REDIS_URL", ""):
        return
    n = int(worker[2:])
    url = settings.REDIS_URL
    match = re.search(r"/(\d+)$", url)
    base = int(match.group(1)) if match else 0
    index = base - n if base >= n else base + n
    own = (url[: match.start()] if match else url.rstrip("/")) + f"/{index}"
    for cache in settings.CACHES.values():
        if cache.get("LOCATION") == url:
            cache["LOCATION"] = own
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        if getattr(settings, name, None) == url:
            setattr(settings, name, own)
    os.environ["REDIS_URL"] = own  # for the processes tests start


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests publish and read back at once: no per-worker memory of guide heads.
    settings.YIWANG_GUIDE_HEAD_TTL = 0
    # ... and many tests write the search index directly: no search result cache either
    # (tests/search/test_results_cache.py turns it on).
    settings.YIWANG_SEARCH_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _reset_language():
    """A request in English must not leave English active for the next test."""
    from django.utils import translation

    yield
    translation.activate("zh-hans")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with empty rate-limit buckets (core/security.py): the whole suite comes
    from one address in one process, and would otherwise pass the search limit."""
    from yiwang.core.security import reset_rate_limits

    reset_rate_limits()
