"""The three date formats the case pages print, without Django's general ``date`` filter.

``|date:"Y-m-d"`` goes through format lookups and a format parser on every call, and a case
page's timeline prints two per event and a list of cases one per row; these three formats are
fixed, so they need neither. These give the same text, in the current time zone as ``date`` does
(``expects_localtime``), and the same empty string for nothing or for a value that is no date
(tests/core/test_date_filters.py compares them with ``date`` over many values and zones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template

register = template.Library()


def _formatted(value: Any, text: Callable[[Any], str]) -> str:
    """``text(value)``, or "" for nothing or for a value that is no date, as ``date`` gives."""
    if value in (None, ""):
        return ""
    try:
        return text(value)
    except AttributeError:
        return ""


@register.filter(expects_localtime=True, is_safe=False)
def ymd(value: Any) -> str:
    """``|date:"Y-m-d"``."""
    return _formatted(value, lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d}")


@register.filter(expects_localtime=True, is_safe=False)
def ymd_hm(value: Any) -> str:
    """``|date:"Y-m-d H:i"`` of a date and time."""
    return _formatted(value, lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}")


@register.filter(expects_localtime=True, is_safe=False)
def iso(value: Any) -> str:
    """``|date:"c"`` (ISO 8601, as a ``<time datetime>`` wants it)."""
    return _formatted(value, lambda v: v.isoformat())
