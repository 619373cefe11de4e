from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.catalog import selectors
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.selectors import BrowseFilters

pytestmark = pytest.mark.django_db


def codes_in(html: str) -> set[str]:
    return set(re.findall(r'href="/items/(\d{23})/"', html))


# --- home ------------------------------------------------------------------------------------


def test_home_shows_entries_themes_life_events_and_region_picker(client, catalog):
    html = client.get("/").content.decode()
    assert '<html lang="zh-Hans"' in html
    assert "一网通办政务服务平台" in html
    assert 'type="search"' in html and 'name="q"' in html
    for text in [
        "个人办事",
        "法人办事",
        "社会保障",
        "准营准办",
        "开办餐厅",
        "省级",
        "市级",
        "县级",
        "乡镇（街道）级",
        "公安",
    ]:
        assert text in html, text
    assert 'href="/items/?theme=p01&amp;audience=person"' in html
    assert 'href="/life-events/e01/"' in html
    assert 'href="/items/?level=3"' in html
    assert 'href="/items/?kind=gaj&amp;region=350000"' in html
    # The region picker defaults to the province and lists cities and counties.
    assert '<option value="350000" selected>' in html
    assert '<option value="350102">鼓楼区</option>' in html
    assert 'class="current-region">福建省<' in html


def test_region_cookie_is_kept_and_validated(client, catalog):
    response = client.post("/preferences/region/", {"region": "350102", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies["yiwang_region"].value == "350102"
    html = client.get("/").content.decode()
    assert 'class="current-region">鼓楼区<' in html
    assert '<option value="350102" selected>' in html
    # An unknown region removes the choice; an off-site "next" is not followed.
    response = client.post("/preferences/region/", {"region": "999999", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert response.cookies["yiwang_region"].value == ""
    assert 'class="current-region">福建省<' in client.get("/").content.decode()


def test_preferences_refuse_get(client, catalog):
    assert client.get("/preferences/region/").status_code == 405
    assert client.get("/preferences/large-text/").status_code == 405


def test_hello_world_still_served(client):
    response = client.get("/hello/")
    assert response.status_code == 200 and response.content == b"Hello, world"


# --- browse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"food", "social", "passport"}),
        ("audience=person", {"social", "passport"}),
        ("audience=company", {"food"}),
        ("theme=p01", {"social"}),
        ("theme=c01", {"food"}),
        ("kind=gaj", {"passport"}),
        ("kind=scjgj", {"food"}),
        ("region=350102", {"food"}),
        ("region=350100", {"food", "social", "passport"}),
        ("region=350200", set()),
        ("region=123456", set()),
        ("level=2", {"social", "passport"}),
        ("level=3", {"food"}),
        ("type=public_service", {"passport"}),
        ("audience=person&level=2&kind=rsj", {"social"}),
        # Values that cannot be valid are dropped, not fatal.
        ("audience=alien&level=9&kind=xx&type=yy&department=abc", {"food", "social", "passport"}),
    ],
)
def test_browse_filters(client, catalog, query, expected):
    response = client.get(f"/items/?{query}")
    assert response.status_code == 200
    wanted = {getattr(catalog, name).code for name in expected}
    assert codes_in(response.content.decode()) == wanted


def test_browse_by_department_id_and_row_content(client, catalog):
    html = client.get(f"/items/?department={catalog.county_market.pk}").content.decode()
    assert codes_in(html) == {catalog.food.code}
    assert "实施主体：鼓楼区市场监督管理局" in html
    row = html[html.index('class="item-row"') :]
    for text in [
        "食品经营许可",
        "鼓楼区市场监督管理局",
        "鼓楼区",
        "全程网办（四级）",
        "承诺5个工作日",
        "零跑动",
    ]:
        assert text in row, text
    passport = client.get("/items/?kind=gaj").content.decode()
    assert "网上预审（二级）" in passport and "最多跑一次" in passport and "承诺7个工作日" in passport


def test_browse_never_lists_drafts_or_old_versions(client, catalog):
    html = client.get("/items/").content.decode()
    assert catalog.draft.code not in html
    assert "共 3 项事项" in html


def test_browse_paginates(catalog):
    first = selectors.browse(BrowseFilters(), 1, per_page=2)
    second = selectors.browse(BrowseFilters(), 2, per_page=2)
    assert first.paginator.count == 3 and first.has_next() and not second.has_next()
    names = [r["name"] for r in first.object_list] + [r["name"] for r in second.object_list]
    assert sorted(names) == sorted(["食品经营许可", "社会保险参保登记", "普通护照签发"])
    assert second.object_list[0]["promised_limit_days"] in (5, 7)


def test_browse_page_links_keep_filters(client, catalog, monkeypatch):
    monkeypatch.setattr(selectors.browse, "__defaults__", (1, 1, None))
    html = client.get("/items/?audience=person").content.decode()
    assert 'href="?audience=person&amp;page=2"' in html
    assert "第 1 / 2 页" in html


def test_browse_query_count_is_fixed(client, catalog, django_assert_max_num_queries):
    client.get("/items/")  # warm the region picker cache
    with django_assert_max_num_queries(3):
        assert client.get("/items/?audience=person&region=350100").status_code == 200


# --- search -------------------------------------------------------------------------------------


def test_search_in_chinese_and_pinyin(client, catalog):
    html = client.get("/search/?q=社保").content.decode()
    assert codes_in(html) == {catalog.social.code}
    assert "“社保”共找到 1 项事项" in html
    html = client.get("/search/?q=huzhao").content.decode()
    assert codes_in(html) == {catalog.passport.code}
    assert "<mark>" in html  # the matched characters are highlighted
    html = client.get("/search/?q=%E6%8A%A4%E7%85%A7").content.decode()  # 护照
    assert codes_in(html) == {catalog.passport.code}
    assert "<mark>护照</mark>" in html


def test_search_filters_and_empty_query(client, catalog):
    assert codes_in(client.get("/search/?q=护照&audience=company").content.decode()) == set()
    assert codes_in(client.get("/search/?q=护照&audience=person").content.decode()) == {catalog.passport.code}
    assert codes_in(client.get("/search/?q=护照&level=3").content.decode()) == set()
    assert codes_in(client.get("/search/?q=shipin&region=350200").content.decode()) == set()
    html = client.get("/search/").content.decode()
    assert codes_in(html) == set() and "请输入事项名称" in html
    html = client.get("/search/?q=完全不存在的事项").content.decode()
    assert "没有找到相关事项" in html


def test_search_escapes_the_query(client, catalog):
    html = client.get("/search/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


# --- guide --------------------------------------------------------------------------------------


def test_guide_shows_every_element_group(client, catalog):
    response = client.get(f"/items/{catalog.food.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in [
        "基本信息",
        "受理条件",
        "申请材料",
        "办理流程",
        "办理时限",
        "收费",
        "办理地点和时间",
        "咨询投诉",
        "设定依据",
    ]:
        assert f">{heading}</h2>" in html, heading
    for text in [
        "食品经营许可",
        catalog.food.code,
        "01020000100",  # basic code
        "行政许可",
        "法人",
        "鼓楼区市场监督管理局",
        "鼓楼区（县级）",
        "承诺件",
        "第 2 版",
        catalog.food.published_at.astimezone().strftime("%Y-%m-%d"),
        "食品经营许可申请书",  # material table
        "营业执照",
        "电子证照",
        "受理",  # default steps
        "20个工作日",  # statutory
        "5个工作日",  # promised
        "零跑动",
        "《中华人民共和国食品安全法》第三十五条",
        "具有与经营的食品品种、数量相适应的经营场所。",
        "鼓楼区政务服务中心一楼综合窗口",
        "0591-12345",
        "准营准办",
        "开办餐厅",
    ]:
        assert text in html, text
    assert f'href="/items/{catalog.food.code}/versions/"' in html
    assert '<table class="materials">' in html and '<th scope="col">材料名称</th>' in html


def test_guide_404_for_unknown_draft_and_withdrawn(client, catalog):
    from yiwang.catalog import services

    for code in ["00000000000000000000000", catalog.draft.code, "x" * 80]:
        response = client.get(f"/items/{code}/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "未找到编码为" in html and "已发布事项" in html
        assert '<html lang="zh-Hans"' in html
    services.withdraw(catalog.passport.item, reason="测试停用")
    assert client.get(f"/items/{catalog.passport.code}/").status_code == 404
    assert client.get(f"/items/{catalog.passport.code}/versions/").status_code == 404
    assert catalog.passport.code not in client.get("/items/").content.decode()


def test_unknown_page_404_in_chinese(client, catalog):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面未找到" in response.content.decode()


def test_guide_queries_and_cache(client, catalog):
    cache.clear()
    url = f"/items/{catalog.food.code}/"
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    # the version's head, then its elements to render the body, then the ratings panel's rollup
    # row (no rating: no query of comments); each is cached apart
    assert len(cold) <= 3
    with CaptureQueriesContext(connection) as warm:
        second = client.get(url)
    assert len(warm) == 1  # the head only: the body comes from the cache
    assert "食品经营许可申请书" in second.content.decode()


def test_new_version_replaces_cached_guide(client, catalog):
    from yiwang.catalog import services

    url = f"/items/{catalog.food.code}/"
    assert "第 2 版" in client.get(url).content.decode()
    ServiceItem.objects.filter(pk=catalog.food.item_id).update(promised_limit_days=3)
    services.publish(ServiceItem.objects.get(pk=catalog.food.item_id), actor_label="测试")
    html = client.get(url).content.decode()
    assert "第 3 版" in html and "3个工作日" in html


def test_guide_head_is_remembered_for_the_ttl(client, catalog, settings, django_assert_num_queries):
    from yiwang.catalog import services
    from yiwang.portal import views

    settings.YIWANG_GUIDE_HEAD_TTL = 60
    views._HEADS.clear()
    url = f"/items/{catalog.food.code}/"
    client.get(url)
    with django_assert_num_queries(0):
        assert "第 2 版" in client.get(url).content.decode()
    ServiceItem.objects.filter(pk=catalog.food.item_id).update(promised_limit_days=3)
    services.publish(ServiceItem.objects.get(pk=catalog.food.item_id), actor_label="测试")
    assert "第 2 版" in client.get(url).content.decode()  # within the TTL
    views._HEADS.clear()  # the TTL has passed
    assert "第 3 版" in client.get(url).content.decode()


def test_version_history_lists_changes(client, catalog):
    response = client.get(f"/items/{catalog.food.code}/versions/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "第 2 版" in html and "第 1 版" in html and "当前版本" in html
    assert html.index("第 2 版") < html.index("第 1 版")
    changes = html[html.index('id="v2"') : html.index('id="v1"')]
    assert "承诺办结时限" in changes and "10个工作日" in changes and "5个工作日" in changes
    assert "首次发布" in html[html.index('id="v1"') :]


def test_version_history_query_count(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        client.get(f"/items/{catalog.food.code}/versions/")


def test_life_event_page(client, catalog):
    html = client.get("/life-events/e01/").content.decode()
    assert "开办餐厅" in html and catalog.food.code in html
    client.cookies["yiwang_region"] = "350200"  # 厦门: the 鼓楼区 item is not theirs
    assert catalog.food.code not in client.get("/life-events/e01/").content.decode()
    assert client.get("/life-events/none/").status_code == 404


# --- print, large text, languages ---------------------------------------------------------------


def test_print_stylesheet_and_print_view(client, catalog):
    url = f"/items/{catalog.food.code}/"
    html = client.get(url).content.decode()
    assert re.search(r'<link rel="stylesheet" href="/static/portal/print\.css[^"]*" media="print">', html)
    assert "data-print" in html and "打印" in html
    assert f"http://testserver{url}" in html  # the print footer names the page
    printed = client.get(url + "?print=1").content.decode()
    assert re.search(r'href="/static/portal/print\.css[^"]*" media="all"', printed)
    assert 'class=" print-view"' in printed or "print-view" in printed
    assert client.get("/static/portal/print.css").status_code == 200


def test_print_css_rules():
    from pathlib import Path

    import yiwang.portal

    css = (Path(yiwang.portal.__file__).parent / "static/portal/print.css").read_text()
    assert "size: A4" in css
    assert ".site-header" in css and ".main-nav" in css and ".no-print" in css
    assert "color: #000" in css
    portal_css = (Path(yiwang.portal.__file__).parent / "static/portal/portal.css").read_text()
    assert "@media print" in portal_css and ":focus-visible" in portal_css


def test_large_text_toggle(client, catalog):
    html = client.get("/").content.decode()
    assert 'id="large-text-toggle" aria-pressed="false"' in html
    response = client.post("/preferences/large-text/", {"large_text": "1", "next": "/items/"})
    assert response.status_code == 302 and response["Location"] == "/items/"
    assert response.cookies["yiwang_large_text"].value == "1"
    html = client.get("/items/").content.decode()
    assert '<html lang="zh-Hans" class="large-text">' in html
    assert 'aria-pressed="true"' in html and "标准版" in html
    response = client.post("/preferences/large-text/", {"large_text": "0", "next": "/"})
    assert response.cookies["yiwang_large_text"].value == ""
    assert 'class="large-text"' not in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("language", "lang_attr", "texts"),
    [
        ("en", "en", ["Services for individuals", "Search", "Person themes"]),
        ("zh-hant", "zh-Hant", ["個人辦事", "搜索辦事事項"]),
        ("zh-hans", "zh-Hans", ["个人办事", "搜索办事事项"]),
    ],
)
def test_language_switch(client, catalog, language, lang_attr, texts):
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert f'<html lang="{lang_attr}"' in html
    for text in texts:
        assert text in html, text


def test_guide_in_english(client, catalog):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(f"/items/{catalog.food.code}/").content.decode()
    assert "Application materials" in html and "Licensing" in html and "Version 2" in html
    # The cached Chinese body is not served to an English reader.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "申请材料" in client.get(f"/items/{catalog.food.code}/").content.decode()


# --- accessibility basics -----------------------------------------------------------------------


class FormControls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.landmarks: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit", "button"}:
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag in {"main", "nav", "header", "footer"}:
            self.landmarks.append(tag)


@pytest.mark.parametrize("path", ["/", "/items/", "/search/?q=社保", "GUIDE", "VERSIONS", "/no/such/"])
def test_accessibility_basics(client, catalog, path):
    path = path.replace("GUIDE", f"/items/{catalog.food.code}/").replace(
        "VERSIONS", f"/items/{catalog.food.code}/versions/"
    )
    html = client.get(path).content.decode()
    parser = FormControls()
    parser.feed(html)
    for control in parser.controls:
        assert control.get("id") in parser.label_for or control.get("aria-label"), control
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    assert {"main", "nav", "header", "footer"} <= set(parser.landmarks)
    assert '<a class="skip-link" href="#main">' in html and 'id="main"' in html
    assert '<meta name="viewport"' in html
    assert html.count("<h1") == 1


def test_search_offers_the_chosen_region(client, catalog):
    assert "只看" not in client.get("/search/?q=护照").content.decode()
    client.cookies["yiwang_region"] = "350100"
    html = client.get("/search/?q=护照").content.decode()
    assert 'href="?q=%E6%8A%A4%E7%85%A7&amp;region=350100"' in html and "只看福州市及下辖地区的事项" in html
    assert "只看" not in client.get("/search/?q=护照&region=350100").content.decode()
