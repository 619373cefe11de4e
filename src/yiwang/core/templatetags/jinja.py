"""``{% jinja_include "app/_partial.html" name=value ... %}``: a Jinja2 partial (core/jinja2.py)
inside a page of Django's template language, so that a piece both kinds of page show (the signed-in
header) has one source. The partial sees ``request``, ``csrf_input`` and ``csrf_token`` (what
Django's Jinja2 backend gives every template rendered with a request) and only the values named in
the tag, not the including page's context. ``{% jinja_fragment "name" %}``: one that depends on
the language only, rendered once per process and language (``core.jinja2.fragment``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from yiwang.core.jinja2 import fragment

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja_include(context: template.Context, template_name: str, **values: Any) -> SafeString:
    html = render_to_string(template_name, values, context.get("request"), using="jinja2")
    return mark_safe(html)  # noqa: S308 - a template's output, every value autoescaped


@register.simple_tag
def jinja_fragment(template_name: str) -> SafeString:
    """``fragment(template_name)`` of core/jinja2.py: a partial rendered once per process and
    language."""
    return mark_safe(str(fragment(template_name)))  # noqa: S308 - a template's output, autoescaped
