"""Step-up: a page or an item may need a higher assurance level than the session has.

``require_acr(level)`` guards a view; ``stepup_url(request, level)`` is where to send a person
who is below ``level`` (login, real-name verification, TOTP enrolment or the TOTP code), with
``next`` pointing back to where they were. ``required_acr_for_item(code)`` reads the level an
item's published guide asks for (elements["min_assurance_level"]), for the application flow and
for the OIDC provider's ``acr_values``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from .mfa import has_confirmed_device
from .models import AssuranceLevel
from .sessions import account_level, current_acr


def _with_next(url: str, next_url: str, **extra: object) -> str:
    return f"{url}?{urlencode({'next': next_url, **extra})}"


def verification_url() -> str:
    """The accounts pages' real-name verification page (the account page until it exists)."""
    for name in ("accounts:verify", "accounts:home"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/account/"


def stepup_url(request: HttpRequest, level: int, next_url: str | None = None) -> str | None:
    """Where to send the person to reach ``level``; None if the session already has it."""
    next_url = next_url or request.get_full_path()
    if not request.user.is_authenticated:
        return _with_next(settings.LOGIN_URL, next_url)
    acr = current_acr(request)
    if acr >= level:
        return None
    if account_level(request.user) < min(level, AssuranceLevel.VERIFIED):
        # No second factor raises an unverified account: real-name verification comes first.
        return _with_next(verification_url(), next_url)
    if level <= AssuranceLevel.VERIFIED:
        # A verified account in a weaker session (started before verification): log in again.
        return _with_next(settings.LOGIN_URL, next_url)
    if has_confirmed_device(request.user):
        return _with_next(reverse("auth:mfa_verify"), next_url)
    return _with_next(reverse("auth:mfa"), next_url)


def require_acr(level: int) -> Callable:
    """View decorator: below ``level``, go through the step that raises it and come back."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            url = stepup_url(request, level)
            if url is None:
                return view(request, *args, **kwargs)
            if request.user.is_authenticated:
                messages.info(request, _("此项服务要求更高的认证等级，请先完成下一步认证。"))
            return HttpResponseRedirect(url)

        return wrapped

    return decorator


def required_acr_for_item(code: str) -> int:
    """The assurance level the published guide of item ``code`` requires (1 if none or unknown)."""
    from yiwang.catalog.selectors import current_version_head, version_elements

    head = current_version_head(code)
    if head is None:
        return AssuranceLevel.REGISTERED
    value = version_elements(head.pk).get("min_assurance_level")
    try:
        level = int(value)
    except (TypeError, ValueError):
        return AssuranceLevel.REGISTERED
    return max(AssuranceLevel.REGISTERED, min(level, AssuranceLevel.TWO_FACTOR))
