"""Public portal pages. Reads go through ``yiwang.catalog.selectors``; views only pick parameters."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.bundles import page_selectors as bundle_pages
from yiwang.catalog import selectors
from yiwang.catalog.models import Audience, ItemType
from yiwang.catalog.search import highlight
from yiwang.core.hant import is_hant, to_hans
from yiwang.core.links import url_with_last
from yiwang.core.params import page_param
from yiwang.regions.models import DepartmentKind, RegionLevel
from yiwang.supervision import rating_selectors

from . import bundle_region
from . import guide as guide_module
from .context_processors import LARGE_TEXT_COOKIE, REGION_COOKIE
from .context_processors import portal as portal_context

ONE_YEAR = 365 * 24 * 3600
# A published version never changes, so its rendered guide may live as long as the cache keeps it.
GUIDE_CACHE_SECONDS = 24 * 3600
MAX_QUERY_LENGTH = 100
# Stands for the reader's CSRF token in cached pages; cannot occur in escaped page text.
CSRF_PLACEHOLDER = "@@yiwang-csrf-token@@"
# The header's account area (portal/_account.html) of a cached guide page: put in per reader.
ACCOUNT_PLACEHOLDER = "@@yiwang-account@@"
# The ratings panel (好差评) of a cached guide page: changes with every rating of the item, so it
# is cached apart (dropped by supervision.ratings when a rating is saved) and put in per response.
RATINGS_PLACEHOLDER = "@@yiwang-ratings@@"


def hello(request: HttpRequest) -> HttpResponse:
    """Django's hello world: the ceiling that benchmarks compare every page against."""
    return HttpResponse("Hello, world")


def _filter_options() -> dict:
    return {
        "audience_options": [(Audience.PERSON, _("个人办事")), (Audience.COMPANY, _("法人办事"))],
        "level_options": RegionLevel.choices,
        "kind_options": DepartmentKind.choices,
        "type_options": ItemType.choices,
    }


def _region_picker() -> dict[str, Any]:
    """What ``portal/_region_options.html`` needs. The picker's options are a cached fragment
    (one per chosen region) kept as long as ``region_choices`` keeps the list they are made of,
    so the list is read only when the fragment is not in the cache."""
    return {
        "region_groups": SimpleLazyObject(selectors.region_choices),
        "region_picker_seconds": selectors.HOME_CACHE_SECONDS,
    }


def _with_guide_links(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each list row (``catalog.selectors.normalize_row``) its guide page's ``guide_url``:
    one ``reverse`` for the whole list rather than a ``{% url %}`` per row. Item codes are made
    by the platform, so the pattern check ``reverse`` would make per row adds nothing."""
    guide_url = url_with_last("portal:guide")
    for row in rows:
        row["guide_url"] = guide_url(row["code"])
    return rows


def _item_rows(request: HttpRequest, rows: list[dict[str, Any]]) -> SafeString:
    """The list of guides of a result or listing page, by the Jinja2 engine
    (portal/jinja2/portal/_item_rows.html): a page prints up to a hundred rows of eight values
    each, most of its rendering under Django's engine."""
    html = render_to_string("portal/_item_rows.html", {"rows": rows}, request, using="jinja2")
    return mark_safe(html)  # noqa: S308 - a template's output, every value autoescaped


def home(request: HttpRequest) -> HttpResponse:
    region = selectors.user_region(request.COOKIES.get(REGION_COOKIE))
    catalogue = selectors.home_catalogue()
    life_event_url = url_with_last("portal:life_event")
    # A life event with an online bundle (一件事) in the reader's region opens that bundle.
    chosen = bundle_region.chosen_region(request)
    online = bundle_pages.life_event_bundles(chosen) if chosen is not None else {}
    bundle_url = url_with_last("portal:bundle_guide")
    context = {
        **catalogue,
        "life_events": [
            {**ev, "href": bundle_url(online[ev["code"]].code), "online": True}
            if ev["code"] in online
            else {**ev, "href": life_event_url(ev["code"])}
            for ev in catalogue["life_events"]
        ],
        **_filter_options(),
        **_region_picker(),
        "region": region,
    }
    return render(request, "portal/home.html", context)


def browse(request: HttpRequest) -> HttpResponse:
    filters = selectors.BrowseFilters.from_params(request.GET)
    filter_region = selectors.region_by_code(filters.region_code)
    page = selectors.browse(filters, page_param(request.GET.get("page")), region=filter_region)
    context = {
        **_filter_options(),
        "filters": filters,
        "page": page,
        "pager": _pager(page.number, page.paginator.num_pages, page.has_next()),
        "rows": page.object_list,
        "rows_html": _item_rows(request, _with_guide_links(page.object_list)),
        "query_string": _query_string(filters.as_params()),
        "theme": selectors.theme_by_code(filters.theme),
        "department": selectors.department_by_id(filters.department_id),
        "filter_region": filter_region,
        **_region_picker(),
    }
    return render(request, "portal/browse.html", context)


def search(request: HttpRequest) -> HttpResponse:
    typed = (request.GET.get("q") or "").strip()
    too_long = len(typed) > MAX_QUERY_LENGTH
    q = typed[:MAX_QUERY_LENGTH]
    # The catalogue is indexed in Simplified characters: a 繁體中文 reader's 護照 finds 护照.
    terms = to_hans(q) if is_hant() else q
    filters = selectors.BrowseFilters.from_params(request.GET)
    page_number = page_param(request.GET.get("page"))
    # The reader's region (the home page's picker, or this page's): ranked first.
    ranking_region = selectors.region_by_code(request.COOKIES.get(REGION_COOKIE) or "")
    prefer = ranking_region.code if ranking_region else None
    result = (
        selectors.search_published(terms, filters, page_number, prefer_region=prefer)
        if q and not too_long
        else None
    )
    rows = _with_guide_links(result.rows) if result else []
    if result is not None:
        for row in rows:
            row["name_html"] = highlight(row["name"], terms, result.expanded_terms)
    context = {
        **_filter_options(),
        "rows_html": _item_rows(request, rows),
        "q": q,
        "filters": filters,
        "result": result,
        "pager": _pager(result.page, result.num_pages, result.has_next) if result else None,
        "rows": rows,
        "query_string": _query_string({"q": q, **filters.as_params()}),
        **_region_picker(),
        "user_region": _chosen_region(request) if result and not filters.region_code else None,
        "ranking_region": ranking_region,
        "query_error": (
            _("检索词最多 %(max)d 个字，请缩短后再搜索（现在 %(count)d 个字）。")
            % {"max": MAX_QUERY_LENGTH, "count": len(typed)}
            if too_long
            else ""
        ),
    }
    return render(request, "portal/search.html", context)


_HEADS: dict[str, tuple[float, object]] = {}
_HEADS_MAX = 20000


def _current_head(code: str):
    """The current version's head, remembered in this worker for YIWANG_GUIDE_HEAD_TTL seconds.

    Hot guides are read thousands of times between two publications; this spares the one query
    a cached page still needed. A new publication shows within the TTL (default 2 s).
    """
    ttl = getattr(settings, "YIWANG_GUIDE_HEAD_TTL", 2.0)
    if ttl <= 0:
        return selectors.current_version_head(code)
    now = time.monotonic()
    hit = _HEADS.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    head = selectors.current_version_head(code)
    if len(_HEADS) >= _HEADS_MAX:
        _HEADS.clear()
    _HEADS[code] = (now + ttl, head)
    return head


def guide(request: HttpRequest, code: str) -> HttpResponse:
    """The guide page, served from a whole-page cache keyed by version, language and mode.

    The page is the same for every reader except the CSRF token of the header forms and the
    header's account area (who is signed in), so it is rendered once with placeholders and each
    response puts the reader's token and account area in. A new
    version has a new id, hence new keys: publishing never serves a stale guide. One indexed
    query per request when cached, two when not.
    """
    version = _current_head(code)
    if version is None:
        return _item_not_found(request, code)
    print_mode = request.GET.get("print") == "1"
    large_text = request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"
    language = get_language()
    signed_in = request.user.is_authenticated
    page_key = (
        f"portal:guide-page:{version.pk}:{language}:{int(large_text)}:{int(print_mode)}:"
        f"{int(signed_in)}:{request.scheme}://{request.get_host()}"
    )
    page = cache.get(page_key)
    if page is None:
        page = _render_guide_page(request, version, language, print_mode)
        if not signed_in:
            # Every anonymous reader sees the same account area (登录 back to this guide, 注册):
            # it is part of their cached page.
            page = page.replace(ACCOUNT_PLACEHOLDER, _account_area(request, next_path=request.path))
        cache.set(page_key, page, GUIDE_CACHE_SECONDS)
    if signed_in:
        page = page.replace(ACCOUNT_PLACEHOLDER, _account_area(request))
    page = page.replace(RATINGS_PLACEHOLDER, _ratings_panel(version.item_id, language))
    response = HttpResponse(page.replace(CSRF_PLACEHOLDER, get_token(request)))
    patch_vary_headers(response, ("Cookie",))
    return response


def _ratings_panel(item_id: int, language: str) -> str:
    """The guide's satisfaction score and published comments, from the item's rating rollup."""
    key = rating_selectors.guide_cache_key(item_id, language)
    panel = cache.get(key)
    if panel is None:
        panel = render_to_string("portal/_guide_ratings.html", {"r": rating_selectors.guide_ratings(item_id)})
        cache.set(key, panel, GUIDE_CACHE_SECONDS)
    return panel


def _account_area(request: HttpRequest, next_path: str = "") -> str:
    """The header's account area (portal/_account.html); ``next_path``: where 登录 returns to,
    else the page's own address."""
    return render_to_string("portal/_account.html", {"next_path": next_path}, request, using="jinja2")


def _render_guide_page(request: HttpRequest, version, language: str, print_mode: bool) -> str:
    body_key = f"portal:guide:{version.pk}:{language}"
    body = cache.get(body_key)
    if body is None:
        context = {**guide_module.guide_context(selectors.version_elements(version.pk)), "version": version}
        body = render_to_string("portal/_guide_body.html", context)
        cache.set(body_key, body, GUIDE_CACHE_SECONDS)
    path = request.path + ("?print=1" if print_mode else "")
    context = {
        **portal_context(request),
        "request": request,
        "csrf_token": CSRF_PLACEHOLDER,
        "account_placeholder": ACCOUNT_PLACEHOLDER,
        "ratings_placeholder": RATINGS_PLACEHOLDER,
        "next_url": path,
        "version": version,
        "guide_body": mark_safe(body),  # noqa: S308 - rendered by our own autoescaping template
        "print_mode": print_mode,
        "page_url": request.build_absolute_uri(request.path),
    }
    # No request here: a plain Context keeps the per-reader CSRF token out of the cached page.
    return render_to_string("portal/guide.html", context)


def versions(request: HttpRequest, code: str) -> HttpResponse:
    history = selectors.version_history(code)
    if not history:
        return _item_not_found(request, code)
    rows = [{"version": v, "changes": guide_module.change_rows(v.changes)} for v in history]
    return render(request, "portal/versions.html", {"current": history[0], "history": rows, "code": code})


def life_event(request: HttpRequest, code: str) -> HttpResponse:
    event = selectors.life_event(code)
    if event is None:
        return render(request, "404.html", {"message": _("未找到该“一件事”。")}, status=404)
    region = selectors.user_region(request.COOKIES.get(REGION_COOKIE))
    # The list is the same for every visitor of a region: a cached fragment (life_event.html)
    # for HOME_CACHE_SECONDS, like the browse counts, so the rows are read only on a miss.
    rows = SimpleLazyObject(
        lambda: _with_guide_links(selectors.life_event_versions(event, region.code if region else None))
    )
    context = {
        **_filter_options(),
        "event": event,
        "rows": rows,
        "rows_html": SimpleLazyObject(lambda: _item_rows(request, rows)),
        "region": region,
        "rows_seconds": selectors.HOME_CACHE_SECONDS,
    }
    return render(request, "portal/life_event.html", context)


def _chosen_region(request: HttpRequest):
    """The region the reader picked on the home page, if they picked one below the province."""
    region = selectors.region_by_code(request.COOKIES.get(REGION_COOKIE) or "")
    return region if region is not None and region.parent_id else None


def _item_not_found(request: HttpRequest, code: str) -> HttpResponse:
    message = _("未找到编码为 %(code)s 的已发布事项。该事项可能不存在、尚未发布或已停用。") % {
        "code": code[:40]
    }
    return render(request, "404.html", {"message": message}, status=404)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_POST
def set_region(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(_safe_next(request))
    region = selectors.region_by_code((request.POST.get("region") or "").strip())
    if region is None:
        response.delete_cookie(REGION_COOKIE)
    else:
        response.set_cookie(
            REGION_COOKIE,
            region.code,
            max_age=ONE_YEAR,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@require_POST
def set_large_text(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("large_text") == "1":
        response.set_cookie(
            LARGE_TEXT_COOKIE, "1", max_age=ONE_YEAR, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
        )
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE)
    return response


def _query_string(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v})


def _pager(number: int, num_pages: int, has_next: bool) -> dict:
    return {
        "has_other": number > 1 or has_next,
        "has_previous": number > 1,
        "has_next": has_next,
        "previous": number - 1,
        "next": number + 1,
        "number": number,
        "num_pages": max(num_pages, number),
    }
