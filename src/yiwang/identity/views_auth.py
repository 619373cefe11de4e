"""Login, second factor, sessions and logout pages (/auth/). Thin: the rules live in
``authentication``, ``mfa``, ``sessions`` and ``stepup``."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from yiwang.core.middleware import client_ip

from . import mfa, sessions
from .authentication import known_accounts, mask_ip, password_login, remember_device
from .models import AccountSession

PENDING = "yiwang_pending_mfa"  # {"uid", "at", "next"}: password checked, code still to come
PENDING_SECONDS = 300

TIMEOUT_NOTICES = {
    sessions.REASON_IDLE: gettext_lazy("您长时间未操作，为保护账户安全已自动退出，请重新登录。"),
    sessions.REASON_ABSOLUTE: gettext_lazy("登录已超过最长有效时间，为保护账户安全已自动退出，请重新登录。"),
    sessions.REASON_LOGOUT: gettext_lazy("您的登录已在其他地方结束，请重新登录。"),
}


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    """Only same-site targets (a path, or this host): never an open redirect.

    The OpenID Connect authorize URL (/o/authorize/?...) is a same-site path and passes. A
    relative name (``abc``) is refused too: ``redirect`` would take it for a view name.
    """
    if (
        candidate
        and candidate.startswith(("/", "http://", "https://"))
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _next(request: HttpRequest, default: str = "/") -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"), default)


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


# --- forms -----------------------------------------------------------------------------------------


class LoginForm(forms.Form):
    login = forms.CharField(
        label=gettext_lazy("用户名或身份证号"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=gettext_lazy("密码"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("动态口令（6 位数字）"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "size": 8}
        ),
    )

    def clean_code(self) -> str:
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("请输入认证器应用中显示的 6 位数字。"))
        return code


# --- login -------------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = password_login(
            request,
            form.cleaned_data["login"],
            form.cleaned_data["password"],
            ip=client_ip(request),
            known_accounts=known_accounts(request),
        )
        if not result.ok:
            form.add_error(None, result.error)
        elif mfa.has_confirmed_device(result.user):
            request.session.cycle_key()
            request.session[PENDING] = {"uid": result.user.pk, "at": int(time.time()), "next": next_url}
            return redirect(reverse("auth:mfa_verify"))
        else:
            user = result.user
            request.session.pop(PENDING, None)  # an abandoned code step of another account
            sessions.start_session(request, user, acr=sessions.password_acr(user), amr=["pwd"])
            response = HttpResponseRedirect(next_url)
            remember_device(request, response, user)
            return response
    notice = TIMEOUT_NOTICES.get(request.GET.get("timeout", ""))
    return render(
        request,
        "identity/auth/login.html",
        {
            "form": form,
            "next": next_url,
            "notice": notice,
            "register_url": _url("accounts:register_person", "/account/register/person/"),
        },
        status=400 if request.method == "POST" else 200,
    )


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - int(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model()._default_manager.filter(pk=pending.get("uid"), is_active=True).first()
    return user, pending


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    """The code after a password (pending login) or to raise a running session (step-up)."""
    user, pending = _pending_user(request)
    stepping_up = user is None
    if stepping_up:
        if not request.user.is_authenticated:
            messages.info(request, _("验证已超时，请重新登录。"))
            return redirect(sessions.login_url_with_next(_next(request)))
        user = request.user
        if not mfa.has_confirmed_device(user):
            return redirect(f"{reverse('auth:mfa')}?{urlencode({'next': _next(request)})}")
        next_url = _next(request)
    else:
        next_url = safe_next(request, pending.get("next"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.verify(user, form.cleaned_data["code"])
        except mfa.MfaError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(PENDING, None)
            amr = ["pwd", "otp"] if not stepping_up else _amr_with_otp(request)
            sessions.start_session(request, user, acr=sessions.second_factor_acr(user), amr=amr)
            response = HttpResponseRedirect(next_url)
            remember_device(request, response, user)
            return response
    return render(
        request,
        "identity/auth/mfa_verify.html",
        {"form": form, "next": next_url, "stepping_up": stepping_up},
        status=400 if request.method == "POST" else 200,
    )


def _amr_with_otp(request: HttpRequest) -> list[str]:
    amr = [m for m in request.session.get(sessions.AMR) or ["pwd"] if m != "otp"]
    return [*amr, "otp"]


# --- second factor management ----------------------------------------------------------------------


@sensitive_post_parameters("code")
@login_required
@never_cache
def mfa_view(request: HttpRequest) -> HttpResponse:
    """Enrol (begin, scan, confirm) or disable the TOTP second factor."""
    user = request.user
    next_url = _next(request, default="")
    form = (
        CodeForm(request.POST or None) if request.POST.get("action") in {"confirm", "disable"} else CodeForm()
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "begin":
            try:
                mfa.begin_enrolment(user)
            except mfa.MfaError as exc:
                messages.error(request, str(exc))
            return redirect(_self(next_url))
        if action == "confirm" and form.is_valid():
            try:
                mfa.confirm_enrolment(user, form.cleaned_data["code"])
            except mfa.MfaError as exc:
                form.add_error("code", str(exc))
            else:
                # The code just proved the factor: this session counts as two-factor from now.
                sessions.start_session(
                    request, user, acr=sessions.second_factor_acr(user), amr=_amr_with_otp(request)
                )
                messages.success(request, _("动态口令绑定成功。以后登录时需要输入动态口令。"))
                return HttpResponseRedirect(safe_next(request, next_url, reverse("auth:mfa")))
        if action == "disable" and form.is_valid():
            try:
                mfa.disable(user, form.cleaned_data["code"])
            except mfa.MfaError as exc:
                form.add_error("code", str(exc))
            else:
                sessions.lower_session_acr(request, sessions.password_acr(user))
                messages.success(request, _("已解除动态口令绑定。"))
                return redirect(reverse("auth:mfa"))
    device = mfa.confirmed_device(user)
    enrolment = None if device is not None else mfa.pending_enrolment(user)
    return render(
        request,
        "identity/auth/mfa.html",
        {
            "form": form,
            "device": device,
            "enrolment": enrolment,
            "next": next_url,
            "required": sessions.is_administrator(user),
            "acr": sessions.current_acr(request),
        },
        status=400 if request.method == "POST" else 200,
    )


def _self(next_url: str) -> str:
    url = reverse("auth:mfa")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- sessions and logout ---------------------------------------------------------------------------


def describe_user_agent(ua: str) -> str:
    """A short "browser · system" label; the raw string is noise to a person."""
    browser = next(
        (
            label
            for token, label in (
                ("MicroMessenger", _("微信")),
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        _("其他浏览器"),
    )
    system = next(
        (
            label
            for token, label in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return f"{browser} · {system}" if system else browser


@login_required
@never_cache
def sessions_view(request: HttpRequest) -> HttpResponse:
    current_sid = request.session.get(sessions.SID)
    rows = [
        {
            "id": s.pk,
            "created_at": s.created_at,
            "last_seen_at": s.last_seen_at,
            "ip": mask_ip(s.ip),
            "browser": describe_user_agent(s.user_agent),
            "acr": s.get_acr_display(),
            "current": s.sid == current_sid,
        }
        for s in sessions.active_sessions(request.user)
    ]
    return render(
        request,
        "identity/auth/sessions.html",
        {
            "rows": rows,
            "idle_minutes": sessions.idle_seconds() // 60,
            "absolute_hours": sessions.absolute_seconds() // 3600,
        },
    )


@require_POST
@login_required
def session_end_view(request: HttpRequest, session_id: int) -> HttpResponse:
    current = AccountSession.objects.filter(pk=session_id, sid=request.session.get(sessions.SID)).exists()
    if current:
        sessions.logout_request(request, reason=sessions.REASON_ENDED_BY_USER)
        return redirect(settings.LOGIN_URL)
    if sessions.end_other_session(request.user, session_id):
        messages.success(request, _("已退出该设备上的登录。"))
    else:
        messages.info(request, _("该会话已结束。"))
    return redirect(reverse("auth:sessions"))


@require_POST
@login_required
def sessions_end_all_view(request: HttpRequest) -> HttpResponse:
    count = sessions.end_all_sessions(request.user)
    logout(request)  # this session was among them: just forget it here
    messages.success(request, _("已退出全部 %(count)d 处登录。") % {"count": count})
    return redirect(settings.LOGIN_URL)


def public_after_sign_out(path: str) -> bool:
    """Whether a same-site target is a page a signed-out reader may see: not one of the
    ``YIWANG_SIGNED_IN_PATHS`` prefixes (my cases, applications, account pages, workbench...)."""
    path = urlsplit(path).path
    return not any(path.startswith(prefix) for prefix in settings.YIWANG_SIGNED_IN_PATHS)


@csrf_protect
@never_cache
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET shows a confirmation (a link must not log anyone out); POST logs out and returns to
    the public version of the page: the same page if a signed-out reader may see it, else the
    portal home."""
    next_url = _next(request)
    if request.method == "POST":
        if not public_after_sign_out(next_url):
            next_url = _url("portal:home", "/")
        if request.user.is_authenticated:
            sessions.logout_request(request, reason=sessions.REASON_LOGOUT)
            messages.success(request, _("您已安全退出。"))
        return HttpResponseRedirect(next_url)
    return render(request, "identity/auth/logout.html", {"next": next_url})
