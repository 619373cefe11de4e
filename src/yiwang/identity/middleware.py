"""Request middleware of the login-security part: session timeouts (``sessions``) and the
second factor required of administrators in the back office."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .models import AssuranceLevel
from .sessions import SessionTimeoutMiddleware, current_acr, is_administrator

__all__ = ["AdminSecondFactorMiddleware", "SessionTimeoutMiddleware"]


class AdminSecondFactorMiddleware:
    """Administrators (catalogue, platform and data administrators, superusers) reach the back
    office (/admin/, including pages mounted below it) only in a session with acr 3: without a
    TOTP device they are sent to enrol, with one to enter a code, and come back afterwards.

    A middleware rather than ``AdminSite.has_permission`` so that every page under /admin/ is
    covered, also the ones not built on the admin site, and so that the person is told what to
    do instead of being shown the login form again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._prefix: str | None = None

    def prefix(self) -> str:
        if self._prefix is None:
            self._prefix = reverse("admin:index")
        return self._prefix

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefix()):
            user = getattr(request, "user", None)
            if (
                user is not None
                and user.is_authenticated
                and current_acr(request) < AssuranceLevel.TWO_FACTOR
                and is_administrator(user)
            ):
                from .mfa import has_confirmed_device

                target = "auth:mfa_verify" if has_confirmed_device(user) else "auth:mfa"
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)
