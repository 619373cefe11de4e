"""Small filters for the case pages (portal and workbench)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def absval(value: int | None) -> int | None:
    return abs(value) if value is not None else None


@register.inclusion_tag("workbench/_record_card.html")
def record_card(material) -> dict:
    """A registry or e-certificate material as a card (``cases.selectors.record_card``)."""
    from yiwang.cases.selectors import record_card as card_of

    return {"card": card_of(material.origin, material.record), "material": material}


@register.filter
def record_source(registry: str) -> str:
    """A record's source as providers write it (电子证照库, 人口库, 法人库), in the page's language."""
    from yiwang.cases.selectors import RECORD_SOURCES

    return str(RECORD_SOURCES.get(registry, registry))
