"""core/hant.py: data in Traditional characters for 繁體中文, and nowhere else."""

from __future__ import annotations

import threading

import pytest
from django.template import engines
from django.utils import translation
from django.utils.safestring import SafeData, mark_safe

from yiwang.core import hant as hant_module
from yiwang.core.hant import hant, hant_data, is_hant, to_hans, to_hant


@pytest.mark.parametrize(
    ("simplified", "traditional"),
    [
        ("营业执照", "營業執照"),
        ("仓山区", "倉山區"),
        ("福州市市场监督管理局", "福州市市場監督管理局"),
        ("食品经营许可证", "食品經營許可證"),
        ("头发", "頭髮"),  # a one-to-many character chosen by phrase
        ("发展", "發展"),
    ],
)
def test_converter_gives_traditional_characters(simplified, traditional):
    assert to_hant(simplified) == traditional


def test_s2t_keeps_proper_names_free_of_regional_vocabulary():
    # s2twp would make 软件 軟體 and 信息 資訊: a published name keeps its words.
    assert to_hant("软件和信息服务业") == "軟件和信息服務業"


def test_search_words_back_to_simplified():
    assert to_hans("普通護照簽發") == "普通护照签发"
    assert to_hans("社保 huzhao") == "社保 huzhao"


def test_text_without_chinese_and_empty_values_come_back_as_they_are():
    assert to_hant("") == ""
    assert to_hant("350102 ABC") == "350102 ABC"


def test_long_text_is_converted_too():
    text = "申请人应当提交营业执照。" * 40
    assert len(text) > hant_module.CACHED_LENGTH
    assert to_hant(text) == "申請人應當提交營業執照。" * 40


def test_safe_html_stays_safe_and_valid():
    value = mark_safe("<mark>营业</mark>执照 &amp; 证明")
    converted = to_hant(value)
    assert converted == "<mark>營業</mark>執照 &amp; 證明"
    assert isinstance(converted, SafeData)
    assert not isinstance(to_hant("营业 <b>"), SafeData)


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hant", "倉山區"), ("zh-hans", "仓山区"), ("en", "仓山区")]
)
def test_filter_converts_only_for_traditional_readers(language, expected):
    with translation.override(language):
        assert is_hant() is (language == "zh-hant")
        assert hant("仓山区") == expected
        django_engine = engines["django"].from_string("{% load hant %}{{ name|hant }}")
        assert django_engine.render({"name": "仓山区"}) == expected
        jinja = engines["jinja2"].from_string("{{ name|hant }}")
        assert jinja.render({"name": "仓山区"}) == expected


def test_filter_leaves_other_values_alone():
    with translation.override("zh-hant"):
        assert hant(None) is None
        assert hant(5) == 5
        # Escaping still happens after the conversion.
        django_engine = engines["django"].from_string("{% load hant %}{{ name|hant }}")
        assert django_engine.render({"name": "<营业>"}) == "&lt;營業&gt;"
        jinja = engines["jinja2"].from_string("{{ name|hant }}|{{ html|hant }}")
        assert jinja.render({"name": "<营业>", "html": mark_safe("<mark>营业</mark>")}) == (
            "&lt;營業&gt;|<mark>營業</mark>"
        )


def test_hant_data_converts_every_string_value_and_no_key():
    data = {"name": "营业执照", "items": [{"名称": "仓山区", "n": 3}], "pair": ("发票", None)}
    with translation.override("zh-hant"):
        assert hant_data(data) == {
            "name": "營業執照",
            "items": [{"名称": "倉山區", "n": 3}],
            "pair": ("發票", None),
        }
    assert data["name"] == "营业执照"  # a copy: the stored value is untouched
    with translation.override("en"):
        assert hant_data(data) is data


def test_one_converter_per_process_under_threads(monkeypatch):
    made = []
    real = hant_module._opencc

    monkeypatch.setattr(hant_module, "_converter", None)
    hant_module._cached.cache_clear()

    import opencc

    class Counting(opencc.OpenCC):
        def __init__(self, config):
            made.append(config)
            super().__init__(config)

    monkeypatch.setattr(opencc, "OpenCC", Counting)
    results = []

    def work(i):
        results.append(to_hant(f"营业执照{i}号"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made == [hant_module.CONFIG]
    assert sorted(results) == sorted(f"營業執照{i}號" for i in range(8))
    assert real() is hant_module._converter
    hant_module._cached.cache_clear()
