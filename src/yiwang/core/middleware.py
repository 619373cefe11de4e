from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import ActorContext, reset_actor, set_actor


def client_ip(request: HttpRequest) -> str:
    # Behind the province's load balancer the first X-Forwarded-For hop is the client; only trust
    # it when the deployment says a proxy is in front (YIWANG_TRUST_PROXY).
    from django.conf import settings

    if getattr(settings, "YIWANG_TRUST_PROXY", False):
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        path = request.path
        channel = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        token = set_actor(
            ActorContext(
                user_id=user.pk if authenticated else None,
                label=user.get_username() if authenticated else "anonymous",
                ip=client_ip(request),
                channel=channel,
            )
        )
        try:
            return self.get_response(request)
        finally:
            reset_actor(token)
