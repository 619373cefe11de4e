"""Shared fixtures. Tests run on whatever DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import pytest


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
