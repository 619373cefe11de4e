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


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the person chose another language with the switcher.

    Django's LocaleMiddleware follows the browser's Accept-Language; a provincial portal
    speaks Chinese first (a foreign-language browser in a service hall must not flip the
    counter's screen to English), so on pages only the language cookie set by /i18n/setlang/
    counts. API clients have no cookie: for /api/ the Accept-Language header decides.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        else:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            supported = {code for code, _name in settings.LANGUAGES}
            language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.headers.get("Vary", "")
        if "Cookie" not in patch_vary:
            response.headers["Vary"] = f"{patch_vary}, Cookie" if patch_vary else "Cookie"
        return response
