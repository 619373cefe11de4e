"""core/jinja2.py: the Jinja2 engine's templates get Django's links, static files, translations
and escaping."""

from __future__ import annotations

from django.template import engines
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_url_static_and_escaping():
    assert render('{{ url("portal:guide", "X1") }}') == reverse("portal:guide", args=["X1"])
    assert render('{{ static("portal/portal.css") }}').endswith("portal/portal.css")
    assert render("{{ v }}|{{ s }}", v="<b>&", s=mark_safe("<i>ok</i>")) == "&lt;b&gt;&amp;|<i>ok</i>"


def test_translations_follow_the_active_language():
    source = '{{ _("没有待办任务。") }}|{{ ngettext("%(num)s 个工作日", "%(num)s 个工作日", 2) }}'
    with translation.override("zh-hans"):
        assert render(source).startswith("没有待办任务。")
    with translation.override("en"):
        text = render(source)
    assert "没有" not in text.split("|")[0]
    with translation.override("en"):
        assert render("{{ get_current_language() }}") == "en"


def test_fragment_is_rendered_once_per_language():
    """``fragment``: a language-only partial, kept per process and language (core/jinja2.py)."""
    from yiwang.core import jinja2 as core_jinja2

    core_jinja2._fragments.clear()
    with translation.override("zh-hans"):
        hans = render('{{ fragment("workbench/_nav.html") }}')
        assert render('{{ fragment("workbench/_nav.html") }}') == hans
        assert "待办" in hans and reverse("workbench:counter") in hans
    with translation.override("en"):
        en = render('{{ fragment("workbench/_nav.html") }}')
    assert en != hans and "待办" not in en
    assert {k[1] for k in core_jinja2._fragments if k[0] == "workbench/_nav.html"} == {"zh-hans", "en"}


def test_jinja_include_puts_a_jinja2_partial_in_a_django_page(rf):
    """``{% jinja_include %}``: the partial sees the request and only the values named."""
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/somewhere/?a=1")
    request.user = AnonymousUser()
    page = engines["django"].from_string(
        '{% load jinja %}<p>{% jinja_include "portal/_account.html" next_path="/back/" %}</p>'
    )
    html = page.render({"next_path": "/ignored/"}, request)
    assert 'id="login-link"' in html and "next=/back/" in html
