"""``{% url %}`` that reverses a link made only of constants once, not on every render, and
``|url_last`` for a list's links to one view that differ only in their last argument.

Registered as a template builtin (settings.TEMPLATES ``builtins``), so it takes the place of
Django's own tag in every template without a ``{% load %}``. A ``{% url 'portal:home' %}`` gives
the same text on every page, yet Django's tag reverses it each time: about 60 to 120
microseconds on this project's machines, and the portal's header alone has thirteen. Here a tag
whose view name and arguments are all literals keeps its result, keyed by everything else that
``reverse`` reads: the script prefix, the URL configuration in force (settings or per request)
and the current application namespace. Any tag with a variable in it is Django's own node,
untouched. A name that does not reverse is not kept, so it raises (or, with ``as``, gives "")
exactly as before. Tested against Django's tag in tests/core/test_constant_urls.py.

``{{ c.number|url_last:"portal:my_case" }}`` is ``{% url 'portal:my_case' c.number %}`` for a view
whose URL ends with that one argument (``core.links.url_with_last``): one reverse per view, script
prefix and URL configuration instead of one per row. Unlike ``reverse`` it does not check the
argument against the URL's pattern (a slash in a ``str`` argument gives a link that finds
nothing instead of an error), so use it for values the view itself made, like case numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import template
from django.conf import settings
from django.template import defaulttags
from django.template.base import FilterExpression, Variable
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

from yiwang.core.links import url_with_last

register = template.Library()
_CACHE: dict[tuple[Any, ...], str] = {}
_CACHE_MAX = 4096


def _literal(expression: FilterExpression) -> bool:
    return not expression.filters and not isinstance(expression.var, Variable)


class ConstantURLNode(defaulttags.URLNode):
    def render(self, context: template.Context) -> str:
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        args = tuple(a.var for a in self.args)
        kwargs = tuple(sorted((k, v.var) for k, v in self.kwargs.items()))
        key = (
            self.view_name.var,
            args,
            kwargs,
            current_app,
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
        )
        url = _CACHE.get(key)
        if url is None:
            try:
                url = reverse(self.view_name.var, args=args, kwargs=dict(kwargs), current_app=current_app)
            except NoReverseMatch:
                return super().render(context)  # Django's own raising, or "" with ``as``
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = url
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> defaulttags.URLNode:
    node = defaulttags.url(parser, token)
    if all(_literal(e) for e in (node.view_name, *node.args, *node.kwargs.values())):
        node.__class__ = ConstantURLNode
    return node


@functools.lru_cache(maxsize=256)
def _link_maker(name: str, script_prefix: str, urlconf: str) -> Callable[[Any], str]:
    return url_with_last(name)


def link_maker(name: str) -> Callable[[Any], str]:
    """``url_with_last(name)`` for the current script prefix and URL configuration, made once."""
    return _link_maker(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@register.filter
def url_last(value: Any, name: str) -> str:
    """``{% url name value %}`` for a view whose URL ends with its only argument."""
    return link_maker(name)(value)
