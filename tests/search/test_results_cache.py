"""The search result cache (catalog/search/results_cache.py): a cached page is the uncached one,
and every write to the index or the synonyms shows in the very next search."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.catalog.search import results_cache, search_items

from . import test_search

pytestmark = pytest.mark.django_db

QUERIES = ["护照", "证", "sb", "社保", "", "营业执照", "huzhao", "食品"]


@pytest.fixture
def cached(settings):
    settings.YIWANG_SEARCH_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def page(result) -> tuple:
    return (result.ids, result.total, result.has_next, result.expanded_terms, result.relaxed)


def test_a_cached_page_is_the_uncached_one(catalogue, settings):
    settings.YIWANG_SEARCH_CACHE_SECONDS = 0
    plain = {(q, p): page(search_items(q, page=p, per_page=2)) for q in QUERIES for p in (1, 2)}
    settings.YIWANG_SEARCH_CACHE_SECONDS = 60
    cache.clear()
    for _round in range(2):  # filled, then read back
        assert {(q, p): page(search_items(q, page=p, per_page=2)) for q in QUERIES for p in (1, 2)} == plain
    region = catalogue.regions["other_city"].code
    assert search_items("护照", region_code=region).ids != search_items("护照").ids


def test_a_repeated_search_reads_only_the_synonyms_state(catalogue, cached):
    first = search_items("护照", load_items=False)
    with CaptureQueriesContext(connection) as queries:
        again = search_items("护照", load_items=False)
    assert page(again) == page(first)
    assert len(queries) == 1 and "count(*)" in queries[0]["sql"]


@pytest.mark.parametrize(
    "behaviour",
    [
        test_search.test_index_follows_republish_and_withdraw,
        test_search.test_synonyms_apply_at_query_time,
        test_search.test_rebuild_index_gives_the_same_results,
        test_search.test_pagination,
    ],
    ids=lambda f: f.__name__,
)
def test_search_behaviour_holds_with_the_cache(catalogue, cached, behaviour):
    behaviour(catalogue)


def test_a_page_cached_before_the_commit_is_not_served_after_it(
    catalogue, cached, django_capture_on_commit_callbacks
):
    from yiwang.catalog import services
    from yiwang.catalog.models import ServiceItem

    item = catalogue.items["food_county"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ServiceItem.objects.filter(pk=item.pk).update(name="食品小作坊登记")
        item.refresh_from_db()
        services.publish(item, actor_label="test")
        # Another reader's search between the write and its commit caches a page under the
        # moved generation (here it sees the write; on another connection it would not).
        search_items("小作坊")
        before_commit = results_cache.generation()
    for callback in callbacks:
        callback()
    assert results_cache.generation() > before_commit
    with CaptureQueriesContext(connection) as queries:
        search_items("小作坊", load_items=False)
    assert len(queries) > 1  # searched again, not served from the page cached before the commit


@pytest.mark.parametrize(("redis_url", "expected"), [("", 0), ("redis://127.0.0.1:6379/13", 60)])
def test_on_by_default_only_with_a_shared_cache(redis_url, expected):
    """Each worker's local-memory cache would keep its pages after another worker published."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "YIWANG_SEARCH_CACHE_SECONDS")}
    env["REDIS_URL"] = redis_url
    code = "import yiwang.settings as s; print(s.YIWANG_SEARCH_CACHE_SECONDS)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout.strip().splitlines()[-1]) == expected
