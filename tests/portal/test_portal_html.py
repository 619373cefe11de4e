"""portal_html: the option lists and guide links built in Python give the HTML the template
loops gave (escaped, the chosen option selected, the URL ``reverse`` makes)."""

from __future__ import annotations

from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from yiwang.portal.templatetags.portal_html import guide_href, region_options, select_options


def test_select_options_escapes_and_selects_by_value_text():
    html = select_options([("a", "甲"), (3, "<b>"), ("c&d", "丙")], 3)
    assert html == (
        '<option value="a">甲</option><option value="3" selected>&lt;b&gt;</option>'
        '<option value="c&amp;d">丙</option>'
    )
    assert "selected" not in select_options([("", "全部"), ("a", "甲")], "")
    assert "selected" not in select_options([("None", "x")], None)


def test_region_options_groups_by_city():
    groups = [
        {"name": "省", "regions": [{"code": "350000", "name": "省"}]},
        {"name": '市"', "regions": [{"code": "350100", "name": "市"}, {"code": "350102", "name": "区"}]},
    ]
    html = region_options(groups, "350102")
    assert html.startswith('<optgroup label="省"><option value="350000">省</option></optgroup>')
    assert '<optgroup label="市&quot;">' in html
    assert '<option value="350102" selected>区</option>' in html and html.count("selected") == 1


def test_guide_href_is_what_reverse_gives():
    for code in ("11350100MB0123456-001", "a b ç~"):
        assert guide_href(code) == reverse("portal:guide", args=[code])
    set_script_prefix("/gov/")
    try:
        assert guide_href("X1") == reverse("portal:guide", args=["X1"]) == "/gov" + "/items/X1/"
    finally:
        set_script_prefix("/")


@override_settings(LANGUAGE_CODE="zh-hans")
def test_the_tags_render_in_a_template():
    html = Template("{% load portal_html %}{% select_options c s %}|{{ code|guide_href }}").render(
        Context({"c": [("x", "叉")], "s": "x", "code": "C1"})
    )
    assert html == f'<option value="x" selected>叉</option>|{reverse("portal:guide", args=["C1"])}'


def test_url_with_last_gives_what_reverse_gives_and_refuses_a_view_it_cannot_serve():
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from yiwang.core.links import url_with_last

    material = url_with_last("workbench:material", 10)
    assert [material(pk) for pk in (0, 7, 123)] == [
        reverse("workbench:material", args=[10, pk]) for pk in (0, 7, 123)
    ]
    act = url_with_last("workbench:act", 3)
    assert act("accept") == reverse("workbench:act", args=[3, "accept"])
    with pytest.raises(ImproperlyConfigured):
        url_with_last("portal:case_receipt")  # its argument is not the end of its URL
