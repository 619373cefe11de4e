"""Bounded query counts (no N+1) and the configurable rate limit."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import factories as f
from tests.api.conftest import rolled_back
from yiwang.catalog import services

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def many(data, django_db_blocker):
    """Twenty more published items, so an N+1 would show as twenty extra queries."""
    with django_db_blocker.unblock(), rolled_back():
        themes = [data.themes.company]
        for n in range(20):
            std = f.standard_item(f"0102{n + 10:05d}00", name=f"测试许可{n}")
            std.themes.set(themes)
            services.publish(f.implementation(std, data.departments.county_scj), actor_label="test")
        yield data


@pytest.fixture
def no_throttle(monkeypatch):
    """The handlers' own queries; the throttle's one statement is counted in
    ``test_the_throttle_costs_one_statement``."""
    monkeypatch.setenv("YIWANG_API_THROTTLE", "off")


@pytest.mark.parametrize(
    ("url", "params", "max_queries"),
    [
        # Items: COUNT, the page's keys, the page's rows (+ one lookup per region, department or
        # theme named by a filter, + one to see whether the province is the only root).
        ("/api/items/", {"page_size": 100}, 3),
        ("/api/items/", {"page_size": 100, "region": "350000", "subtree": "true", "theme": "c01"}, 6),
        ("/api/items/", {"page_size": 100, "region": "350100", "subtree": "true"}, 4),
        ("/api/items/", {"audience": "company", "level": 3, "department_kind": "scjgj"}, 3),
        ("/api/regions/", {"page_size": 100}, 2),
        ("/api/departments/", {"region": "350000", "subtree": "true"}, 3),
        ("/api/standard-items/", {"page_size": 100}, 2),
        ("/api/themes/", {}, 2),
        ("/api/life-events/", {}, 3),
    ],
)
def test_list_query_counts_do_not_grow_with_the_page(
    client, many, no_throttle, django_assert_max_num_queries, url, params, max_queries
):
    with django_assert_max_num_queries(max_queries):
        response = client.get(url, params)
    assert response.status_code == 200
    assert response.json()["items"]


def test_detail_query_counts(client, many, no_throttle, django_assert_max_num_queries):
    code = many.items.food_city.code
    with django_assert_max_num_queries(1):
        assert client.get(f"/api/items/{code}").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get(f"/api/items/{code}/versions").status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/api/regions/350102001").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get(f"/api/departments/{many.departments.county_scj.pk}").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/api/standard-items/01020000100").status_code == 200


def test_the_throttle_costs_one_statement(client, data, django_assert_num_queries, monkeypatch):
    monkeypatch.setenv("YIWANG_API_THROTTLE", "off")
    client.get("/api/health")
    monkeypatch.setenv("YIWANG_API_THROTTLE", "100/m")
    with django_assert_num_queries(1 if settings.YIWANG_RATE_LIMIT_STORE == "database" else 0):
        assert client.get("/api/health").status_code == 200


def test_rate_limit_answers_429_in_chinese(client, data, monkeypatch):
    monkeypatch.setenv("YIWANG_API_THROTTLE", "3/m")
    for _ in range(3):
        assert client.get("/api/themes/").status_code == 200
    response = client.get("/api/themes/")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("请求过于频繁")
    assert int(response["Retry-After"]) >= 1
    # Another client address has its own count.
    assert client.get("/api/themes/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_rate_limit_ignores_a_forged_forwarded_for_header(client, data, monkeypatch):
    monkeypatch.setenv("YIWANG_API_THROTTLE", "2/m")
    for n in range(2):
        assert client.get("/api/themes/", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}").status_code == 200
    assert client.get("/api/themes/", HTTP_X_FORWARDED_FOR="1.2.3.99").status_code == 429


@pytest.mark.parametrize("value", ["0", "off"])
def test_rate_limit_can_be_turned_off(client, data, monkeypatch, value):
    monkeypatch.setenv("YIWANG_API_THROTTLE", value)
    for _ in range(30):
        assert client.get("/api/health").status_code == 200


def test_public_answers_may_be_cached_briefly(client, data, monkeypatch):
    response = client.get("/api/themes/")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert "Accept-Language" in response["Vary"]
    # Errors are not cached.
    assert not client.get("/api/items/0").has_header("Cache-Control")
    assert not client.get("/api/items/", {"page": 0}).has_header("Cache-Control")
    monkeypatch.setenv("YIWANG_API_CACHE_SECONDS", "0")
    assert not client.get("/api/themes/").has_header("Cache-Control")
