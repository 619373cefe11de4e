"""Pages in 繁體中文 show the data in Traditional characters too; English pages label Chinese data
in English without mixing the two in one phrase, and count working days with the right plural."""

from __future__ import annotations

import re

import pytest

from yiwang.catalog import services

from .conftest import build_catalog

pytestmark = pytest.mark.django_db


def choose(client, language: str) -> None:
    assert client.post("/i18n/setlang/", {"language": language, "next": "/"}).status_code == 302


def test_guide_in_traditional_chinese_converts_the_data(client, catalog):
    choose(client, "zh-hant")
    html = client.get(f"/items/{catalog.social.code}/").content.decode()
    for text in [
        "社會保險參保登記",  # item name (title and basic information)
        "福州市人力資源和社會保障局",  # department
        "福州市（市級）",  # region with its level
        "《中華人民共和國社會保險法》第五十七條",  # legal basis
        "營業執照",  # material
        "鼓樓區政務服務中心一樓綜合窗口",  # where to apply
        "社會保障",  # theme
    ]:
        assert text in html, text
    for text in ["社会保险参保登记", "福州市人力资源和社会保障局", "鼓楼区政务服务中心"]:
        assert text not in html, text
    # The stored data is untouched, and a Simplified reader gets Simplified text (its own cached body).
    catalog.social.refresh_from_db()
    assert catalog.social.name == "社会保险参保登记"
    choose(client, "zh-hans")
    html = client.get(f"/items/{catalog.social.code}/").content.decode()
    assert "社会保险参保登记" in html and "福州市人力资源和社会保障局" in html


def test_search_and_browse_in_traditional_chinese(client, catalog):
    choose(client, "zh-hant")
    html = client.get("/search/?q=护照").content.decode()
    assert "普通<mark>護照</mark>簽發" in html  # the highlighted name, still highlighted
    assert "福州市公安局" in html and "普通护照签发" not in html
    html = client.get(f"/items/?department={catalog.county_market.pk}").content.decode()
    assert "食品經營許可" in html and "鼓樓區市場監督管理局" in html
    assert "食品经营许可" not in html
    html = client.get("/").content.decode()
    assert "開辦餐廳" in html and "準營準辦" in html  # life event and theme
    assert ">鼓樓區</option>" in html  # the region picker, its own cached fragment per language
    choose(client, "zh-hans")
    assert ">鼓楼区</option>" in client.get("/").content.decode()


def test_version_history_in_traditional_chinese(client, catalog):
    choose(client, "zh-hant")
    html = client.get(f"/items/{catalog.food.code}/versions/").content.decode()
    assert "版本記錄：食品經營許可" in html and "食品经营许可" not in html


def test_traditional_reader_searches_in_traditional_characters(client, catalog):
    choose(client, "zh-hant")
    html = client.get("/search/?q=護照").content.decode()
    assert "普通<mark>護照</mark>簽發" in html and "“護照”共找到 1 項事項" in html
    choose(client, "zh-hans")  # a Simplified reader's query is taken as typed
    assert "普通<mark>护照</mark>签发" in client.get("/search/?q=护照").content.decode()


def test_english_guide_labels_chinese_data_without_mixing(client, catalog):
    choose(client, "en")
    html = client.get(f"/items/{catalog.food.code}/").content.decode()
    assert "鼓楼区 (County)" in html
    assert not re.search(r"（[A-Za-z]", html), re.findall(r".{20}（[A-Za-z].{20}", html)
    # The standard steps have English names; the approval tag labels an English name.
    assert '<span class="step-name">Acceptance</span>' in html
    assert '<span class="step-name">受理</span>' not in html
    html = client.get(f"/items/{catalog.passport.code}/").content.decode()
    assert "At most one visit (需现场采集人像和指纹)" in html


def test_english_plurals_of_working_days(client, catalog):
    choose(client, "en")
    html = client.get(f"/items/{catalog.food.code}/").content.decode()
    assert "1 working day<" in html  # the acceptance step's limit
    assert "1 working days" not in html
    assert "20 working days" in html  # statutory limit


def test_one_day_promise_reads_singular_in_lists(client, db):
    catalog = build_catalog()
    item = type(catalog.social.item).objects.get(pk=catalog.social.item_id)
    item.promised_limit_days = 1
    item.save(update_fields=["promised_limit_days"])
    services.publish(item, actor_label="测试")
    choose(client, "en")
    html = client.get("/items/?audience=person").content.decode()
    assert "Promised in 1 working day<" in html
    assert "Promised in 7 working days<" in html  # the passport
    choose(client, "zh-hant")
    html = client.get("/items/?audience=person").content.decode()
    assert "承諾1個工作日" in html
