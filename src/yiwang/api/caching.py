"""HTTP caching of public answers: published catalogue data changes only when an item is
published, so a reverse proxy or browser may keep an answer for a short while.

``YIWANG_API_CACHE_SECONDS`` (default 60; 0 turns it off) sets ``Cache-Control: public,
max-age=N`` on successful answers of the catalogue routers only (never on account or other
per-user routers). Answers vary with ``Accept-Language`` (labels and messages are translated).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

DEFAULT_SECONDS = 60


def cache_seconds() -> int:
    try:
        return max(0, int(os.environ.get("YIWANG_API_CACHE_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def public_cache(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A ninja "view" decorator (wraps the operation, sees the final response)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        seconds = cache_seconds()
        if seconds and response.status_code == 200 and not response.has_header("Cache-Control"):
            patch_cache_control(response, public=True, max_age=seconds)
            patch_vary_headers(response, ("Accept-Language",))
        return response

    return wrapper
