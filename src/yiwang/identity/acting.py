"""The company a signed-in person acts for in this browser session (切换身份 in the account
menu). The session keeps only the company's id; every read checks it again against what the
person may do now (``selectors.acting_option``), so a revoked or expired mandate ends it at the
next request. Signing out flushes the session, and the choice with it."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from .selectors import ActingOption, acting_options

SESSION_KEY = "identity.acting_as"


def current(request: HttpRequest, options: list[ActingOption] | None = None) -> ActingOption | None:
    """The company the request's account acts for, or None (as themself). A stored choice that
    no longer holds is dropped from the session. ``options``: ``acting_options`` of the
    request's account when the caller has them already."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    company_id = session.get(SESSION_KEY)
    if company_id is None:
        return None
    if options is None:
        options = acting_options(request.user)
    option = next((o for o in options if o.company_id == company_id), None)
    if option is None:
        del session[SESSION_KEY]
    return option


def remember(request: HttpRequest, company_id: int | None) -> None:
    if company_id is None:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = company_id


@dataclass(frozen=True)
class ActingMenu:
    """The account menu's 切换身份 part: the company acted for now and those the reader may
    switch to (both empty when signed out or acting for none)."""

    current: ActingOption | None
    options: list[ActingOption]


def acting_menu(request: HttpRequest) -> ActingMenu:
    """``ActingMenu`` of the request's account (the header's account area, portal/_account.html)."""
    options = acting_options(request.user)
    return ActingMenu(current(request, options), options)
