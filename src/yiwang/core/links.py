"""Links to one view made many times on a page (a result list's guides, a case list, a case page's
materials, notices and action forms), from one ``reverse``: the links differ only in their arguments, so
resolving the URL pattern once per page and filling in each link's arguments gives the same
URLs as a ``{% url %}`` or ``reverse`` per link without matching the pattern again each time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

_PLACEHOLDER = "0"  # fits an int and a str path converter


def url_with_last(name: str, *args: Any) -> Callable[[Any], str]:
    """``lambda last: reverse(name, args=[*args, last])``, with the reverse made once here: the
    view's URL must end with its last argument and a slash. ``last`` is quoted as ``reverse``
    quotes it."""
    url = reverse(name, args=[*args, _PLACEHOLDER])
    tail = f"/{_PLACEHOLDER}/"
    if not url.endswith(tail):
        raise ImproperlyConfigured(f"{name}: {url} does not end with its last argument")
    prefix = url[: -len(tail) + 1]
    safe = RFC3986_SUBDELIMS + "/~:@"
    return lambda last: f"{prefix}{quote(str(last), safe=safe)}/"
