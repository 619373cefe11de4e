"""The public 大屏 /dashboard/ (province-wide, no personal data) and the stream both dashboards
share. Thin: the figures come from ``supervision.dashboard``."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from . import dashboard


def render_page(
    request: HttpRequest, scope: dashboard.DashboardScope, *, stream_url: str, public: bool
) -> HttpResponse:
    data = dashboard.dashboard_data(scope)
    context = {"data": data, "stream_url": stream_url, "public": public, "today_keys": dashboard.TODAY_KEYS}
    return render(request, "supervision/dashboard.html", context)


def stream_response(request: HttpRequest, scope: dashboard.DashboardScope) -> StreamingHttpResponse:
    """``text/event-stream`` of the scope's figures: held open and pushed under ASGI, one event
    per connection under WSGI (module docstring of ``supervision.dashboard``)."""
    language = translation.get_language()
    last_id = request.headers.get("Last-Event-ID", "")
    content = (
        dashboard.async_stream(scope, language=language, last_id=last_id)
        if isinstance(request, ASGIRequest)
        else dashboard.sync_stream(scope, language=language, last_id=last_id)
    )
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    return render_page(request, dashboard.PUBLIC, stream_url=reverse("dashboard:stream"), public=True)


@require_GET
def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dashboard.dashboard_data(dashboard.PUBLIC), json_dumps_params={"ensure_ascii": False})


@require_GET
async def stream(request: HttpRequest) -> StreamingHttpResponse:
    return stream_response(request, dashboard.PUBLIC)
