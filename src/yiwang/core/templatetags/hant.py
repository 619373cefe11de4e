"""``{% load hant %}`` ``{{ item.name|hant }}``: data in Traditional characters for a reader who
chose 繁體中文, unchanged in every other language (core/hant.py). Jinja2 templates have the same
filter (core/jinja2.py)."""

from __future__ import annotations

from django import template

from yiwang.core.hant import hant as _hant

register = template.Library()
# is_safe: the conversion changes only CJK characters, so a safe value stays safe.
register.filter("hant", _hant, is_safe=True)
