"""/api/search over the real search index (built by publish through the search hook)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytest.importorskip("yiwang.catalog.search")

pytestmark = pytest.mark.django_db


def codes(body: dict) -> list[str]:
    return [i["code"] for i in body["items"]]


def test_search_finds_published_items_with_summary_fields(client, data):
    response = client.get("/api/search", {"q": "食品经营"})
    assert response.status_code == 200
    body = response.json()
    it = data.items
    assert set(codes(body)) == {it.food_city.code, it.food_county.code, it.food_town.code}
    assert body["total"] == 3 and body["page"] == 1 and body["has_next"] is False
    city = next(i for i in body["items"] if i["code"] == it.food_city.code)
    assert city["version"] == 2 and city["promised_limit_days"] == 8
    assert city["department"]["name"] == "福州市市场监督管理局" and city["region"]["code"] == "350100"
    # Neither the draft nor the withdrawn 食品生产许可 is found.
    assert client.get("/api/search", {"q": "食品生产"}).json()["total"] == 0


def test_search_filters_and_pagination(client, data):
    it = data.items
    city = client.get("/api/search", {"q": "食品", "region": "350100"}).json()
    # Search always covers the region and everything below it.
    assert set(codes(city)) == {it.food_city.code, it.food_county.code, it.food_town.code}
    assert codes(client.get("/api/search", {"q": "食品", "level": 4}).json()) == [it.food_town.code]
    dept = client.get("/api/search", {"q": "食品", "department": data.departments.county_scj.pk}).json()
    assert codes(dept) == [it.food_county.code]
    assert client.get("/api/search", {"q": "食品", "audience": "person"}).json()["total"] == 0
    assert client.get("/api/search", {"q": "食品", "item_type": "licensing"}).json()["total"] == 3
    first = client.get("/api/search", {"q": "食品", "page_size": 2}).json()
    second = client.get("/api/search", {"q": "食品", "page_size": 2, "page": 2}).json()
    assert len(first["items"]) == 2 and first["has_next"] is True and first["pages"] == 2
    assert len(second["items"]) == 1 and second["has_next"] is False
    assert set(codes(first)) | set(codes(second)) == {
        it.food_city.code,
        it.food_county.code,
        it.food_town.code,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "证" * 101}, "q"),
        ({"q": "食品", "audience": "robot"}, "audience"),
        ({"q": "食品", "page": 0}, "page"),
        ({"q": "食品", "page": 501}, "page"),
        ({"q": "食品", "page_size": 101}, "page_size"),
        ({"q": "食品", "region": "888888"}, "region"),
        ({"q": "食品", "department": 888888}, "department"),
    ],
)
def test_search_bad_parameters(client, data, params, field):
    response = client.get("/api/search", params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_search_query_of_100_characters_is_accepted(client, data):
    assert client.get("/api/search", {"q": "证" * 100}).status_code == 200


def test_search_query_count_does_not_grow_with_the_page(client, data):
    # The search package's own queries differ per database (PostgreSQL adds a savepoint and
    # planner settings); what the API adds must not depend on how many items are shown.
    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get("/api/search", {"q": "食品", "region": "350000", "page_size": page_size}).json()
        assert len(body["items"]) == page_size
        return len(ctx.captured_queries)

    queries(1)  # process-wide caches (regions, translations) warm once, whatever ran before
    assert queries(1) == queries(3) <= 12


def test_search_ranks_the_readers_region_first(client, data):
    it = data.items
    plain = codes(client.get("/api/search", {"q": "食品经营"}).json())
    near = codes(client.get("/api/search", {"q": "食品经营", "near": "350102"}).json())
    assert set(near) == set(plain)
    # The county first, then the city above it, then what lies below it.
    assert near == [it.food_county.code, it.food_city.code, it.food_town.code]
    town = codes(client.get("/api/search", {"q": "食品经营", "near": it.food_town.region.code}).json())
    assert town[0] == it.food_town.code
    response = client.get("/api/search", {"q": "食品经营", "near": "999999"})
    assert response.status_code == 422 and "near" in response.content.decode()


def test_search_says_when_the_count_is_capped(client, data, monkeypatch):
    from yiwang.catalog.search import query as search_query

    assert client.get("/api/search", {"q": "食品经营"}).json()["total_capped"] is False
    monkeypatch.setattr(search_query, "COUNT_CAP", 2)
    body = client.get("/api/search", {"q": "食品经营"}).json()
    assert body["total"] == 2 and body["total_capped"] is True
