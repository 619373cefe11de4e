"""core/templatetags/constant_urls.py: a ``{% url %}`` of literals, kept, gives what Django's
own tag gives, follows the script prefix and the URL configuration, and fails as it did."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError, defaulttags, engines
from django.test import override_settings
from django.urls import NoReverseMatch, set_script_prefix, set_urlconf
from django.utils.html import conditional_escape

from yiwang.core.templatetags.constant_urls import ConstantURLNode

TAGS = [
    "{% url 'portal:home' %}",
    "{% url 'portal:search' %}",
    "{% url 'workbench:inbox' %}",
    "{% url 'portal:my_case' 'FJ2026<&>' %}",
    "{% url 'portal:guide' code='11350100' %}",
    "{% url 'workbench:act' 7 'accept' %}",
    "{% url 'portal:search' as action %}[{{ action }}]",
]


def ours(source: str) -> str:
    return engines["django"].from_string(source).render({})


def djangos(source: str) -> str:
    # A plain Template has only Django's builtins: its {% url %} is Django's URLNode.
    return Template(source).render(Context())


@pytest.mark.parametrize("source", TAGS)
def test_the_same_text_as_djangos_tag_and_again_from_the_cache(source):
    assert ours(source) == djangos(source) != ""
    assert ours(source) == djangos(source)


def test_only_literal_tags_are_kept():
    nodes = (
        engines["django"].from_string("{% url 'portal:home' %}{% url 'portal:my_case' n %}").template.nodelist
    )
    assert type(nodes[0]) is ConstantURLNode
    assert type(nodes[1]) is defaulttags.URLNode
    assert ours("{% url 'portal:my_case' n %}".replace("n %", "'A' %")) == "/my/cases/A/"


def test_the_script_prefix_is_part_of_the_key():
    ours("{% url 'portal:search' %}")
    set_script_prefix("/province/")
    try:
        assert ours("{% url 'portal:search' %}") == "/province/search/"
    finally:
        set_script_prefix("/")
    assert ours("{% url 'portal:search' %}") == "/search/"


def test_the_url_configuration_is_part_of_the_key():
    assert ours("{% url 'portal:home' %}") == "/"
    with override_settings(ROOT_URLCONF="tests.core.constant_urls_conf"):
        assert ours("{% url 'portal:home' %}") == "/elsewhere/"
    set_urlconf("tests.core.constant_urls_conf")  # a request's own, as middleware may set it
    try:
        assert ours("{% url 'portal:home' %}") == "/elsewhere/"
    finally:
        set_urlconf(None)
    assert ours("{% url 'portal:home' %}") == "/"


def test_a_name_that_does_not_reverse_fails_as_before():
    with pytest.raises(NoReverseMatch):
        ours("{% url 'portal:no_such_page' %}")
    assert ours("{% url 'portal:no_such_page' as x %}[{{ x }}]") == "[]"
    with pytest.raises(TemplateSyntaxError):
        ours("{% url %}")


def test_reversed_once(monkeypatch):
    from yiwang.core.templatetags import constant_urls

    calls = []
    real = constant_urls.reverse
    monkeypatch.setattr(constant_urls, "reverse", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    monkeypatch.setattr(constant_urls, "_CACHE", {})
    for _ in range(3):
        assert ours("{% url 'portal:browse' %}{% url 'portal:browse' %}") == "/items//items/"
    assert len(calls) == 1


@pytest.mark.parametrize("number", ["FJ2026-0001", "a b?c#d%", "证照&<>", 7])
def test_url_last_is_the_url_tag_with_its_argument(number):
    from django.urls import reverse

    source = '{{ n|url_last:"portal:my_case" }}'
    rendered = engines["django"].from_string(source).render({"n": number})
    assert rendered == djangos("{% url 'portal:my_case' n %}".replace(" n ", f" '{number}' "))
    assert rendered == conditional_escape(reverse("portal:my_case", args=[number]))
    set_script_prefix("/province/")
    try:
        assert engines["django"].from_string(source).render({"n": number}).startswith("/province/")
    finally:
        set_script_prefix("/")
