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
