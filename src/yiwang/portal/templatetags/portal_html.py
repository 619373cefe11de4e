"""Parts of the portal's long lists built in Python rather than by a template loop: a search or
browse page's filter panel has about 140 options (the region picker alone about 100) and a result
page 20 guide links, and the template engine's per-node cost (a ``{% url %}`` is a reverse each
time) made those loops the largest part of the pages (docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape  # what django.utils.html.escape calls, without its lazy-argument wrapper
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from yiwang.core.templatetags.constant_urls import link_maker

register = template.Library()


def _options(choices: Iterable[tuple[Any, Any]], selected: Any) -> str:
    chosen = None if selected is None or selected == "" else str(selected)
    parts = []
    for value, label in choices:
        # str() first: the choices' labels are lazy translations, and escaping the proxy itself
        # looks it up several times over (a third of a search page's escaping).
        text = str(value)
        mark = " selected" if chosen is not None and text == chosen else ""
        parts.append(f'<option value="{escape(text)}"{mark}>{escape(str(label))}</option>')
    return "".join(parts)


@register.simple_tag
def select_options(choices: Iterable[tuple[Any, Any]], selected: Any = None) -> SafeString:
    """``<option value="v" [selected]>label</option>`` for each (value, label), escaped."""
    return mark_safe(_options(choices, selected))  # noqa: S308 - every value and label escaped above


@register.simple_tag
def region_options(groups: Iterable[dict[str, Any]], selected: Any = None) -> SafeString:
    """The region picker: an ``<optgroup>`` per city (``catalog.selectors.region_choices``)."""
    return mark_safe(  # noqa: S308 - every name and code escaped
        "".join(
            f'<optgroup label="{escape(str(g["name"]))}">'
            + _options(((r["code"], r["name"]) for r in g["regions"]), selected)
            + "</optgroup>"
            for g in groups
        )
    )


@register.filter
def guide_href(code: Any) -> str:
    """``{% url 'portal:guide' code %}`` without a reverse per row."""
    return link_maker("portal:guide")(code)


def _item_row(row: dict[str, Any], guide_url: Callable[[Any], str], badges_label: str) -> str:
    name = row.get("name_html") or escape(str(row.get("name", "")))  # name_html: escaped by highlight
    return (
        '\n  <li class="item-row">\n'
        f'    <h3 class="item-name"><a href="{escape(guide_url(row["code"]))}">{name}</a></h3>\n'
        f'    <p class="item-meta"><span class="item-dept">{escape(str(row.get("department_name", "")))}</span>'
        f' · <span class="item-region">{escape(str(row.get("region_name", "")))}</span></p>\n'
        f'    <ul class="badges" aria-label="{badges_label}">\n'
        f'      <li class="badge depth-{escape(str(row.get("online_depth", "")))}">'
        f"{escape(str(row.get('depth_label', '')))}</li>\n"
        f'      <li class="badge">{escape(str(row.get("limit_label", "")))}</li>\n'
        f'      <li class="badge">{escape(str(row.get("visits_label", "")))}</li>\n'
        "    </ul>\n"
        "  </li>\n"
    )


@register.simple_tag
def item_rows(rows: Iterable[dict[str, Any]]) -> SafeString:
    """A result or listing page's ``<ol>`` of guides (``catalog.selectors.normalize_row`` rows),
    every value escaped; ``name_html`` is the highlighted name, already escaped."""
    guide_url = link_maker("portal:guide")
    badges_label = escape(gettext("办理信息"))
    body = "".join(_item_row(row, guide_url, badges_label) for row in rows)
    return mark_safe(f'<ol class="item-list">\n{body}\n</ol>')  # noqa: S308 - every value escaped
