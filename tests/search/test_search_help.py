"""Search that helps: the reader's region first, pinyin equal to Chinese, capped counts shown as
"1000+", sentences, and a message for an over-long query (issue 17, point 10)."""

from __future__ import annotations

import pytest

from tests import factories as f
from yiwang.catalog import services
from yiwang.catalog.models import Synonym
from yiwang.catalog.search import query as search_query
from yiwang.catalog.search import rebuild_index, search_items

from .conftest import _standard

pytestmark = pytest.mark.django_db


def item_ids(result) -> list[int]:
    return [v.item_id for v in result.items]


def publish(std, dept):
    item = f.implementation(std, dept)
    services.publish(item, actor_label="test")
    item.refresh_from_db()
    return item


@pytest.fixture
def certificates(catalogue):
    """户籍证明开具 in the province, both cities, the county and its township, and an item of the
    county that only mentions 户籍证明 among its materials."""
    regions = catalogue.regions
    std = _standard(
        "02006000900",
        ["居民身份证"],
        name="户籍证明开具",
        aliases="",
        item_type="public_service",
        department_kind="gaj",
        audience="person",
        levels="1234",
    )
    mention = _standard(
        "02006000800",
        ["户籍证明", "居民身份证"],
        name="户口迁移",
        aliases="",
        item_type="confirmation",
        department_kind="gaj",
        audience="person",
        levels="1234",
    )
    depts = {
        "province": f.department(regions["province"], kind="gaj", code="009", name="福建省公安厅"),
        "city": catalogue.depts["police_city"],
        "county": catalogue.depts["police_county"],
        "town": f.department(regions["town"], kind="gaj", code="009", name="鼓东街道派出所"),
        "other_city": catalogue.depts["police_xm"],
    }
    items = {key: publish(std, dept) for key, dept in depts.items()}
    items["county_mention"] = publish(mention, depts["county"])
    return items


def test_the_readers_region_first_then_above_then_below_then_the_rest(certificates):
    it = certificates
    plain = item_ids(search_items("户籍证明"))
    # Without a region: every name match (province, cities, county, township) before the mention.
    assert plain[-1] == it["county_mention"].pk and len(plain) == 6
    near = item_ids(search_items("户籍证明", prefer_region="350102"))
    assert near == [
        it["county"].pk,  # the reader's county, its name match
        it["county_mention"].pk,  # then its guide that mentions the words: relevance inside the tier
        it["province"].pk,  # then the regions above it, province before city
        it["city"].pk,
        it["town"].pk,  # then the regions below it
        it["other_city"].pk,  # then the rest
    ]
    assert search_items("户籍证明", prefer_region="350102").region_code == "350102"
    # A township reader: the township, then county, city and province, then the rest.
    town = item_ids(search_items("户籍证明", prefer_region="350102001"))
    assert town[:4] == [it["town"].pk, it["province"].pk, it["city"].pk, it["county"].pk]
    # An unknown region ranks as no region at all.
    assert item_ids(search_items("户籍证明", prefer_region="999999")) == plain
    # Combined with a filter: only the city's items, still the reader's county first.
    filtered = item_ids(search_items("户籍证明", region_code="350100", prefer_region="350102"))
    assert filtered == [it["county"].pk, it["county_mention"].pk, it["city"].pk, it["town"].pk]


@pytest.mark.parametrize("per_page", [1, 2, 4])
def test_pages_follow_the_region_tiers(certificates, per_page):
    whole = search_items("户籍证明", prefer_region="350102", per_page=100)
    paged: list[int] = []
    for page in range(1, 10):
        result = search_items("户籍证明", prefer_region="350102", page=page, per_page=per_page)
        paged += result.ids
        assert result.total == whole.total == 6
        if not result.has_next:
            break
    assert paged == whole.ids


def test_the_cache_keeps_each_regions_order(certificates, settings):
    settings.YIWANG_SEARCH_CACHE_SECONDS = 60
    county = search_items("户籍证明", prefer_region="350102").ids
    xiamen = search_items("户籍证明", prefer_region="350200").ids
    assert county != xiamen
    assert xiamen[0] == certificates["other_city"].current_version_id
    assert search_items("户籍证明", prefer_region="350102").ids == county


@pytest.fixture
def social(catalogue):
    """社保 in names, in guides only, and as 社会保险 (a synonym) in a guide only."""
    dept = catalogue.depts["hr_county"]
    body_only = _standard(
        "11007000900",
        ["参保人员的社保缴费记录"],
        name="退休待遇核定",
        aliases="",
        item_type="public_service",
        department_kind="rsj",
        audience="person",
        acceptance_conditions="达到法定退休年龄。",
        levels="123",
    )
    synonym_only = _standard(
        "11007000800",
        ["居民身份证"],
        name="失业金申领",
        aliases="",
        item_type="public_service",
        department_kind="rsj",
        audience="person",
        legal_basis="《中华人民共和国社会保险法》第四十五条",
        levels="123",
    )
    return {"body_only": publish(body_only, dept), "synonym_only": publish(synonym_only, dept)}


def test_pinyin_finds_what_the_chinese_word_finds(catalogue, social):
    chinese = search_items("社保")
    assert social["body_only"].pk in item_ids(chinese)
    for q in ("shebao", "SheBao"):
        pinyin = search_items(q)
        assert item_ids(pinyin) == item_ids(chinese) and pinyin.total == chinese.total
    Synonym.objects.create(term="社保", synonyms="社会保险")
    chinese = search_items("社保")
    pinyin = search_items("shebao")
    assert social["synonym_only"].pk in item_ids(chinese)
    assert item_ids(pinyin) == item_ids(chinese) and pinyin.total == chinese.total >= 4
    assert "社会保险" in pinyin.expanded_terms


def test_the_rebuilt_index_answers_pinyin_the_same(catalogue, social):
    before = item_ids(search_items("shebao"))
    assert rebuild_index() >= 10
    assert item_ids(search_items("shebao")) == before == item_ids(search_items("社保"))


@pytest.fixture
def newborn(catalogue):
    dept = catalogue.depts["police_county"]
    registration = _standard(
        "02006000700",
        ["出生医学证明", "父母双方户口簿", "父母双方居民身份证"],
        name="新生儿入户",
        aliases="新生儿落户",
        item_type="public_service",
        department_kind="gaj",
        audience="person",
        acceptance_conditions="新生儿出生后一个月内，随父或随母申报户口。",
        levels="123",
    )
    moving = _standard(
        "02006000600",
        ["户口簿", "居民身份证", "准予迁入证明"],
        name="户口迁移登记",
        aliases="",
        item_type="public_service",
        department_kind="gaj",
        audience="person",
        levels="123",
    )
    birth = _standard(
        "07006000600",
        ["居民身份证"],
        name="出生医学证明补发",
        aliases="",
        item_type="public_service",
        department_kind="gaj",
        audience="person",
        levels="123",
    )
    return {
        "registration": publish(registration, dept),
        "moving": publish(moving, dept),
        "birth": publish(birth, dept),
    }


def test_a_sentence_finds_the_right_item_first(newborn):
    q = "我想给刚出生的孩子办户口需要什么材料"
    result = search_items(q)
    ids = item_ids(result)
    assert ids[0] == newborn["registration"].pk
    assert {newborn["moving"].pk, newborn["birth"].pk} <= set(ids[1:])
    assert result.best_match and result.relaxed
    assert "出生" in result.query_tokens and "户口" in result.query_tokens
    assert "材料" not in result.query_tokens and "什么" not in result.query_tokens
    # The same sentence with the reader's region elsewhere keeps the best item first among equals.
    assert item_ids(search_items(q, prefer_region="350200"))[0] == newborn["registration"].pk


def test_keywords_are_not_a_sentence(newborn):
    # Three words that no item has together: no best-match fallback for keywords.
    assert search_items("护照 OR 出生").total == 0


def test_a_capped_count_reads_1000_plus(client, catalogue, monkeypatch):
    monkeypatch.setattr(search_query, "COUNT_CAP", 2)
    result = search_items("证")
    assert result.total == 2 and result.total_capped
    html = client.get("/search/", {"q": "证"}).content.decode()
    assert "找到 2+ 项事项" in html and "共找到 2 项" not in html
    client.cookies["django_language"] = "en"
    html = client.get("/search/", {"q": "证"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2+ services" in html


def test_an_over_long_query_gets_a_message_not_a_search(client, catalogue):
    response = client.get("/search/", {"q": "社" * 101})
    assert response.status_code == 200
    html = response.content.decode()
    assert "检索词最多 100 个字" in html and 'aria-invalid="true"' in html
    assert 'class="result-count"' not in html
    exactly = client.get("/search/", {"q": "社保" * 50}).content.decode()
    assert "检索词最多" not in exactly and 'class="result-count"' in exactly


def test_the_search_page_shows_and_changes_the_region(client, certificates):
    html = client.get("/search/", {"q": "户籍证明"}).content.decode()
    assert "排序：按相关度" in html and 'id="search-region-select"' in html
    response = client.post("/preferences/region/", {"region": "350102", "next": "/search/?q=户籍证明"})
    assert response.status_code == 302 and response.cookies["yiwang_region"].value == "350102"
    html = client.get("/search/", {"q": "户籍证明"}).content.decode()
    assert "排序：鼓楼区的事项在前" in html
    county_code = certificates["county"].code
    other_code = certificates["other_city"].code
    assert html.index(county_code) < html.index(other_code)
    client.post("/preferences/region/", {"region": "", "next": "/search/"})
    assert "排序：按相关度" in client.get("/search/", {"q": "户籍证明"}).content.decode()
