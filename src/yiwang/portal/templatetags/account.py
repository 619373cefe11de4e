"""The page header's account area (portal/_account.html): ``{{ user|account_name }}``, the
signed-in name, and ``{% acting_menu as acting %}``, the company the reader acts for now and
the companies they may switch to (切换身份)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from yiwang.identity import acting as identity_acting
from yiwang.identity.selectors import ActingOption, acting_options, display_name

register = template.Library()


@register.filter
def account_name(user) -> str:
    return display_name(user)


@dataclass(frozen=True)
class ActingMenu:
    current: ActingOption | None
    options: list[ActingOption]


@register.simple_tag(takes_context=True)
def acting_menu(context) -> ActingMenu:
    request = context.get("request")
    if request is None:
        return ActingMenu(None, [])
    options = acting_options(request.user)
    return ActingMenu(identity_acting.current(request, options), options)
