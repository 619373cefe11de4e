"""The portal's lists as pages render them (templates: _item_rows, _options, _region_options):
values escaped, the chosen filters selected, the matched name highlighted, every guide link
reaching its guide."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import resolve

from tests import factories as f
from yiwang.catalog import services

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>护照加急'


def item_links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<h3 class="item-name"><a href="([^"]+)">', html)]


def assert_links_reach_guides(client, html: str, codes: set[str]) -> None:
    links = item_links(html)
    assert {resolve(link).kwargs["code"] for link in links} == codes
    for link in links:
        assert resolve(link).view_name == "portal:guide"
        assert client.get(link).status_code == 200


@pytest.fixture
def hostile(catalog):
    std = f.standard_item(
        "11004000900", name=HOSTILE, aliases="", audience="person", levels="123", department_kind="gaj"
    )
    dept = catalog.passport.department
    return services.publish(f.implementation(std, dept, promised_limit_days=3), actor_label="测试")


def test_browse_rows_link_to_their_guides(client, catalog):
    html = client.get("/items/").content.decode()
    assert_links_reach_guides(client, html, {catalog.food.code, catalog.social.code, catalog.passport.code})
    assert '<li class="badge">承诺5个工作日</li>' in html and "最多跑一次" in html


def test_a_name_with_markup_is_shown_as_text(client, hostile):
    for path in ("/items/", "/search/?q=加急"):
        html = client.get(path).content.decode()
        assert "<script>alert" not in html, path
        names = re.findall(r'<h3 class="item-name"><a href="[^"]+">(.*?)</a></h3>', html)
        assert HOSTILE in [unescape(re.sub(r"</?mark>", "", n)) for n in names], path
        assert hostile.code in {resolve(link).kwargs["code"] for link in item_links(html)}, path


def test_search_highlights_the_match_inside_the_link(client, catalog):
    html = client.get("/search/?q=护照").content.decode()
    assert re.search(r'<h3 class="item-name"><a href="[^"]+">[^<]*<mark>护照</mark>', html)
    assert_links_reach_guides(client, html, {catalog.passport.code})


def test_life_event_rows_link_to_their_guides(client, catalog):
    html = client.get("/life-events/e01/").content.decode()
    assert_links_reach_guides(client, html, {catalog.food.code})


def test_filters_show_the_chosen_options_selected(client, catalog):
    html = client.get(
        "/items/?audience=person&level=2&kind=gaj&type=public_service&region=350102"
    ).content.decode()
    for name, value in (("audience", "person"), ("level", "2"), ("kind", "gaj"), ("type", "public_service")):
        select = re.search(rf'<select id="f-\w+" name="{name}">(.*?)</select>', html, re.S).group(1)
        assert re.findall(r'<option value="([^"]*)" selected>', select) == [value], name
    region = re.search(r'<select id="f-region" name="region">(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)" selected>', region) == ["350102"]
    assert '<optgroup label="福州市"><option value="350100">福州市</option>' in region
    html = client.get("/items/").content.decode()
    assert " selected>" not in html  # nothing chosen: every picker on "全部"


def test_home_region_picker_selects_the_visitors_region(client, catalog):
    client.cookies["yiwang_region"] = "350102"
    html = client.get("/").content.decode()
    picker = re.search(r'<select id="region-select" name="region">(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)" selected>', picker) == ["350102"]
