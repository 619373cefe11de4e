"""Search end to end: items published through catalog.services, searched through the index."""

from __future__ import annotations

import pytest

from yiwang.catalog import services
from yiwang.catalog.models import ServiceItem, Synonym
from yiwang.catalog.search import highlight, rebuild_index, search_items

pytestmark = pytest.mark.django_db


def codes(result) -> list[str]:
    return [v.code for v in result.items]


def item_ids(result) -> list[int]:
    return [v.item_id for v in result.items]


def test_two_character_words(catalogue):
    items = catalogue.items
    result = search_items("护照")
    # The three passport items by name first (city level before county), then the guide that
    # only mentions 护照 among its materials.
    assert item_ids(result) == [
        items["passport_city"].pk,
        items["passport_xm"].pk,
        items["passport_county"].pk,
        items["work_permit_prov"].pk,
    ]
    assert result.total == 4
    assert all(v.is_current for v in result.items)
    assert result.items[0].region.name == "福州市"  # select_related
    assert result.items[0].department.name == "福州市公安局"


def test_social_security_abbreviation(catalogue):
    assert item_ids(search_items("社保")) == [catalogue.items["social_card_county"].pk]


def test_single_character(catalogue):
    result = search_items("证")
    names = [v.name for v in result.items]
    # 证 in a name or alias (食品经营许可证) before 证 in the materials or result name; then
    # shorter names first.
    assert names[:2] == ["食品经营许可", "居民身份证换领"]
    assert set(names) >= {"普通护照签发", "外国人来华工作许可", "社会保障卡申领", "居民身份证换领"}


@pytest.mark.parametrize("q", ["shebao", "sb", "SheBao", "shebaok", "sbk"])
def test_pinyin_finds_social_security(catalogue, q):
    assert item_ids(search_items(q))[:1] == [catalogue.items["social_card_county"].pk]


@pytest.mark.parametrize("q", ["huzhao", "HuZhao"])
def test_pinyin_finds_passport(catalogue, q):
    # Full pinyin finds what 护照 finds: the names, and the guide that mentions 护照 in its
    # materials (外国人来华工作许可), in the same order.
    assert item_ids(search_items(q)) == item_ids(search_items("护照"))
    assert {v.name for v in search_items(q).items} == {"普通护照签发", "外国人来华工作许可"}


def test_initials_search_names_only(catalogue):
    assert {v.name for v in search_items("hz").items} == {"普通护照签发"}


def test_code_and_code_prefix(catalogue):
    item = catalogue.items["food_county"]
    assert item_ids(search_items(item.code)) == [item.pk]
    assert item.pk in item_ids(search_items(item.code[:11]))


def test_synonyms_apply_at_query_time(catalogue):
    registration = catalogue.items["registration_county"].pk

    def strict_ids(q):
        result = search_items(q)
        return [] if result.relaxed else item_ids(result)

    assert registration not in strict_ids("社会保险登记")
    synonym = Synonym.objects.create(term="参保", synonyms="社会保险,社保")
    result = search_items("社会保险登记")
    assert registration in item_ids(result) and not result.relaxed
    assert "参保登记" in result.expanded_terms
    synonym.delete()
    assert registration not in strict_ids("社会保险登记")


def test_identity_card_synonym(catalogue):
    Synonym.objects.create(term="身份证", synonyms="居民身份证,二代证")
    result = search_items("二代证")
    assert result.items[0].name == "居民身份证换领"


def test_region_subtree_filter(catalogue):
    c = catalogue
    city = search_items("护照", region_code="350100")
    assert item_ids(city) == [c.items["passport_city"].pk, c.items["passport_county"].pk]
    county = search_items("护照", region_code="350102")
    assert item_ids(county) == [c.items["passport_county"].pk]
    assert search_items("护照", region_code="350102001").total == 0
    assert search_items("护照", region_code="999999").total == 0
    assert search_items("护照", region_code="350000").total == 4


def test_department_audience_type_level_filters(catalogue):
    c = catalogue
    assert item_ids(search_items("护照", department_id=c.depts["police_xm"].pk)) == [
        c.items["passport_xm"].pk
    ]
    assert item_ids(search_items("护照", audience="company")) == [c.items["work_permit_prov"].pk]
    assert search_items("护照", audience="person").total == 3
    assert item_ids(search_items("证", item_type="public_service")) == [c.items["social_card_county"].pk]
    assert item_ids(search_items("护照", level=1)) == [c.items["work_permit_prov"].pk]
    assert search_items("护照", level=3).total == 1


def test_empty_query_lists_filtered_items_in_code_order(catalogue):
    everything = search_items("")
    assert everything.total == len(catalogue.items)
    assert codes(everything) == sorted(codes(everything))
    county = search_items(None, region_code="350102", audience="person")
    assert {v.name for v in county.items} == {"普通护照签发", "社会保障卡申领", "居民身份证换领"}
    assert codes(county) == sorted(codes(county))


def test_pagination(catalogue):
    first = search_items("证", per_page=2)
    second = search_items("证", per_page=2, page=2)
    assert first.total == second.total >= 5
    assert first.has_next and len(first.items) == 2
    assert not set(item_ids(first)) & set(item_ids(second))
    whole = search_items("证", per_page=50)
    assert item_ids(whole)[:4] == item_ids(first) + item_ids(second)
    beyond = search_items("证", page=99)
    assert beyond.items == [] and not beyond.has_next
    assert search_items("证", page=-3, per_page=10_000).page == 1


HOSTILE = [
    '"',
    "*",
    "护照*",
    'NEAR("护照" "办理")',
    "护照 OR 社保",
    "a:b",
    "(((",
    "'; DROP TABLE catalog_search_doc; --",
    "\\",
    "%",
    "_",
    "护" * 300,
    "AND",
    "-护照",
    "^护照",
    "护照:*",
    "'护照':A",
    "!!",
    "\x00",
    "护照😀",
    "²³¹",
    "ǚ lǚ nǘ",
    "\u202e护照",
    "ｓｈｅｂａｏ",
    "x_护照 n_社保 f_r_350100",
]


def test_hostile_input_never_raises(catalogue):
    for q in HOSTILE:
        result = search_items(q)
        assert result.total >= 0, q
        assert len(result.query) <= 100
        search_items(
            q, region_code=q[:12], item_type=q, department_id=q, level=q, audience=q, page=q, per_page=q
        )


def test_operators_are_words(catalogue):
    assert search_items("护照 OR 社保").total == 0  # AND of three words, no item has all
    assert search_items('"护照"').total == 4
    assert search_items("%").total == 0


def test_bad_filter_values_do_not_raise(catalogue):
    assert search_items("护照", department_id="x").total == 0
    assert search_items("护照", level=9).total == 0
    assert search_items("护照", audience="martian").total == 4
    assert search_items("护照", item_type="no such type").total == 0


def test_index_follows_republish_and_withdraw(catalogue):
    item = catalogue.items["food_county"]
    assert item_ids(search_items("食品")) == [item.pk]
    ServiceItem.objects.filter(pk=item.pk).update(name="食品小作坊登记")
    item.refresh_from_db()
    services.publish(item, actor_label="test")
    result = search_items("小作坊")
    assert item_ids(result) == [item.pk]
    assert result.items[0].number == 2 and result.items[0].is_current
    assert search_items("食品").total == 1  # one row per item, not per version
    services.withdraw(item, reason="撤销")
    assert search_items("小作坊").total == 0
    assert search_items("食品").total == 0


def test_rebuild_index_gives_the_same_results(catalogue):
    before = [item_ids(search_items(q)) for q in ("护照", "证", "sb", "")]
    done = []
    assert rebuild_index(progress=lambda n, total: done.append((n, total))) == len(catalogue.items)
    assert done[-1] == (len(catalogue.items), len(catalogue.items))
    assert [item_ids(search_items(q)) for q in ("护照", "证", "sb", "")] == before


def test_highlight():
    assert highlight("普通护照签发", "护照") == "普通<mark>护照</mark>签发"
    assert highlight("社保卡申领", "shebao") == "<mark>社保</mark>卡申领"
    assert highlight("社保卡申领", "sb") == "<mark>社保</mark>卡申领"
    assert highlight("<b>护照</b>", "护照") == "&lt;b&gt;<mark>护照</mark>&lt;/b&gt;"
    assert highlight("居民身份证", "身份证明") == "居民<mark>身份证</mark>"
    assert highlight("职工参保登记", "社会保险", extra_terms=["参保"]) == "职工<mark>参保</mark>登记"
    assert highlight("护照", "") == "护照"
    assert highlight("社会保障卡申领", "社保卡") == "<mark>社</mark>会<mark>保</mark>障<mark>卡</mark>申领"


def test_rebuild_command(catalogue):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rebuild_search_index", stdout=out)
    assert f"{len(catalogue.items)} items" in out.getvalue()
    assert search_items("护照").total == 4


def test_every_page_of_one_continues_the_ranking(catalogue):
    whole = item_ids(search_items("证", per_page=100))
    paged = [item_ids(search_items("证", per_page=1, page=p)) for p in range(1, len(whole) + 2)]
    assert [ids[0] for ids in paged if ids] == whole
    assert paged[-1] == []


def test_exact_then_prefix_then_name_then_body(catalogue):
    c = catalogue
    # Exact name beats everything; an alias starting with the query (社保卡申领 for 社保卡)
    # is a prefix match.
    assert item_ids(search_items("社会保障卡申领")) == [c.items["social_card_county"].pk]
    assert item_ids(search_items("社保卡"))[:1] == [c.items["social_card_county"].pk]
    # 护照: the passport items have the alias 护照办理 (prefix tier); the work permit mentions
    # 护照 only in its materials (body tier).
    ranked = item_ids(search_items("护照"))
    assert ranked[-1] == c.items["work_permit_prov"].pk
    # Exact initials and pinyin of an alias count as exact: hzbl is 护照办理.
    assert {v.name for v in search_items("hzbl").items} == {"普通护照签发"}


def test_count_is_capped(catalogue, monkeypatch):
    from yiwang.catalog.search import query

    monkeypatch.setattr(query, "COUNT_CAP", 3)
    result = search_items("证", per_page=2)
    assert result.total == 3 and result.total_capped
    assert len(search_items("证", per_page=2, page=2).items) == 1
    assert search_items("护照", region_code="350102").total_capped is False


def test_question_falls_back_to_its_main_words(catalogue):
    c = catalogue
    result = search_items("怎么办理护照")
    assert result.relaxed and result.query_tokens == ["护照"]
    assert item_ids(result)[0] == c.items["passport_city"].pk
    strict = search_items("护照")
    assert not strict.relaxed
    assert search_items("怎么办理火星签证").total == 0


def test_rebuild_command_can_recreate_the_tables(catalogue):
    from django.core.management import call_command

    call_command("rebuild_search_index", "--recreate", stdout=None)
    assert item_ids(search_items("护照"))[-1] == catalogue.items["work_permit_prov"].pk


def test_bulk_publish_indexes_every_item(catalogue):
    from tests import factories as f

    std = f.standard_item(
        "11020000300",
        name="个体工商户名称自主申报",
        aliases="",
        item_type="public_service",
        audience="person",
        levels="34",
    )
    county_market = catalogue.depts["market_county"]
    town_office = f.department(
        catalogue.regions["town"], kind="xzzf", code="001", name="鼓东街道便民服务中心"
    )
    items = [f.implementation(std, county_market), f.implementation(std, town_office)]
    assert search_items("名称自主申报").total == 0  # drafts are not searchable
    assert services.bulk_publish(items, actor_label="test") == 2
    result = search_items("名称自主申报")
    assert sorted(item_ids(result)) == sorted(i.pk for i in items)
    # County before township (same name length), and the township item is below 鼓楼区.
    assert item_ids(result) == [items[0].pk, items[1].pk]
    assert item_ids(search_items("名称自主申报", region_code="350102001")) == [items[1].pk]
    assert item_ids(search_items("gtgsh", level=4)) == [items[1].pk]
