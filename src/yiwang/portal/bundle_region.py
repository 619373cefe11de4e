"""The region whose bundles (一件事) a reader is shown: the one chosen on ``/bundles/``
(``?region=<code>``, remembered in the session), else the one picked on the home page's region
picker when it is below the province. None: the reader has not said where they live (the
identity records no place of residence: the ID number's region is where the card was issued)."""

from __future__ import annotations

from django.http import HttpRequest

from yiwang.catalog import selectors as catalog_selectors
from yiwang.regions.models import Region

from .context_processors import REGION_COOKIE

SESSION_KEY = "yiwang_bundles_region"


def chosen_region(request: HttpRequest) -> Region | None:
    for code in (request.session.get(SESSION_KEY), request.COOKIES.get(REGION_COOKIE)):
        region = catalog_selectors.region_by_code(str(code or ""))
        if region is not None and region.parent_id:
            return region
    return None


def remember(request: HttpRequest, region: Region | None) -> None:
    if region is None:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = region.code
