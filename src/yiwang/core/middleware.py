from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

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


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is refused before any view runs: no
    legitimate link carries one, and PostgreSQL refuses any text holding it (a server error
    for what is only bad input). Form fields need no check here: Django's form fields refuse
    NUL themselves, next to the field. Pages answer with the platform's 400 page saying which
    parameter; the API with
    its 422 naming the parameter (``api/errors.py``'s format)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._field_with_nul(request)
        if field is None:
            return self.get_response(request)
        message = _("参数“%(field)s”含有不允许的控制字符（NUL），请检查链接或输入。") % {"field": field}
        if request.path.startswith("/api/"):
            error = {"field": field, "location": "query", "message": message, "type": "nul_character"}
            return JsonResponse({"detail": message, "errors": [error]}, status=422)
        return render(request, "400.html", {"detail": message}, status=400)

    @staticmethod
    def _field_with_nul(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        query = request.META.get("QUERY_STRING", "")
        if "%00" not in query and "\x00" not in query:
            return None
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key.replace("\x00", "")
        return None
