"""The supervisor's live dashboard /workbench/dashboard/: the public 大屏's figures over the
reader's scope (the warning roles' scopes, as the figures page), with its stream and data."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from yiwang.supervision import dashboard, dashboard_views

from . import selectors
from .views import role_required


def _scope(request: HttpRequest) -> dashboard.DashboardScope:
    return selectors.dashboard_scope(request.user, request.work_roles)  # type: ignore[attr-defined]  # set by role_required


@require_GET
@role_required(selectors.may_watch_warnings)
def page(request: HttpRequest) -> HttpResponse:
    return dashboard_views.render_page(
        request, _scope(request), stream_url=reverse("workbench:dashboard_stream"), public=False
    )


@require_GET
@role_required(selectors.may_watch_warnings)
def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dashboard.dashboard_data(_scope(request)), json_dumps_params={"ensure_ascii": False})


def _scope_or_refusal(request: HttpRequest) -> dashboard.DashboardScope | HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    roles = selectors.work_roles(request.user)
    if not selectors.may_watch_warnings(roles, request.user):
        return render(request, "workbench/forbidden.html", status=403)
    return selectors.dashboard_scope(request.user, roles)


@require_GET
async def stream(request: HttpRequest) -> HttpResponseBase:
    # The user and roles are read in a thread: the session and the ORM are synchronous.
    scope = await sync_to_async(_scope_or_refusal)(request)
    if isinstance(scope, HttpResponse):
        return scope
    return dashboard_views.stream_response(request, scope)
