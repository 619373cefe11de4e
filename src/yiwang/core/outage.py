"""A database outage answers 503, not 500 (issue 6, docs/deployment.md "Failure behaviour").

When PostgreSQL restarts or fails over, every request that needs it raises ``OperationalError``
or ``InterfaceError``. That is not a bug of the page: the person should read "the service is
briefly unavailable, try again" in their language, a load balancer should see 503 (not count
the node as broken), and an API client should get a JSON problem with ``Retry-After``.
Nothing is restarted: before each request the middleware drops a kept connection the server has
closed (``core.dbcheck``), so the first request after a restart opens a fresh one.

Two entry points, because Django turns an exception into a 500 response at the layer where it
happens: ``DatabaseOutageMiddleware.process_exception`` for views (the usual case), and
``server_error`` (``handler500``) for the middlewares before the view (the session and user
loads). The page is rendered without context processors or ``request.user``: they would ask
the database again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults

from yiwang.core.dbcheck import drop_closed_connections

log = logging.getLogger("yiwang.outage")

RETRY_AFTER_SECONDS = 5
HTML_LANG = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "en": "en"}


def is_database_outage(exc: BaseException | None) -> bool:
    """The database cannot be reached or dropped the connection (not a bad query)."""
    seen = 0
    while exc is not None and seen < 5:  # Django wraps the driver's error; look one or two deep
        if isinstance(exc, (OperationalError, InterfaceError)):
            # SQLite reports a missing table or a bad statement as OperationalError: a bug, not
            # an outage.
            return not any(m in str(exc) for m in ("no such ", "syntax error"))
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def outage_response(request: HttpRequest) -> HttpResponse:
    detail = _("服务暂时不可用，请稍后再试。")
    if wants_json(request):
        # RFC 9457 problem details; ``detail`` as in every other API error body.
        response: HttpResponse = JsonResponse(
            {"type": "about:blank", "title": _("服务暂时不可用"), "status": 503, "detail": detail},
            status=503,
            content_type="application/problem+json",
        )
    else:
        language = translation.get_language() or settings.LANGUAGE_CODE
        html = get_template("core/503.html").render(
            {
                "message": detail,
                "html_lang": HTML_LANG.get(language.lower(), language),
                "language_choices": settings.LANGUAGES,
                "current_language": language,
                # The language switch posts with a CSRF token; making one needs no database.
                "csrf_token": get_token(request),
                "next_url": request.get_full_path(),
                "retry_after": RETRY_AFTER_SECONDS,
            }
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """Drop kept connections the database server has closed before the request uses them
    (``core.dbcheck``), and turn a view's ``OperationalError``/``InterfaceError`` into the 503
    page or problem."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # SQLite connections have no socket to look at: the embedded default skips the walk.
        self.check_connections = any(connections[alias].vendor != "sqlite" for alias in connections)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.check_connections:
            drop_closed_connections()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        log.warning("database unavailable (%s): 503 for %s", type(exception).__name__, request.path)
        return outage_response(request)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: a database outage raised before the view (a middleware) is a 503 too."""
    if is_database_outage(sys.exc_info()[1]):
        return outage_response(request)
    return defaults.server_error(request, template_name=template_name)
