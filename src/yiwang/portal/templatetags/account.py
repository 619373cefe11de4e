"""``{{ user|account_name }}``: the signed-in name of the page header (portal/_account.html)."""

from __future__ import annotations

from django import template

from yiwang.identity.selectors import display_name

register = template.Library()


@register.filter
def account_name(user) -> str:
    return display_name(user)
