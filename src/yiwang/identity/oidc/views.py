"""The provider's pages: authorization with remembered consent and assurance checks, the list of
consents, RP-initiated logout through the province session, discovery with back-channel logout."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from urllib.parse import parse_qsl, urlencode, urlparse

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from oauth2_provider.exceptions import (
    FatalClientError,
    InvalidOIDCClientError,
    OAuthToolkitError,
    OIDCError,
)
from oauth2_provider.forms import AllowForm, ConfirmLogoutForm
from oauth2_provider.models import get_application_model
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    ConnectDiscoveryInfoView,
    RevokeTokenView,
    RPInitiatedLogoutView,
    TokenView,
    UserInfoView,
)
from oauthlib.oauth2.rfc6749.errors import InvalidClientIdError

from yiwang.identity.models import ACR_URIS, AssuranceLevel, Company
from yiwang.identity.oidc import consent as consents
from yiwang.identity.oidc.claims import (
    acr_level,
    companies_for,
    login_context,
    person_of,
)
from yiwang.identity.oidc.clients import min_acr
from yiwang.identity.oidc.logout import end_current_session
from yiwang.identity.stepup import stepup_url

log = logging.getLogger(__name__)
Application = get_application_model()

SCOPE_LABELS = {
    "openid": gettext_lazy("使用您的统一身份账号登录"),
    "profile": gettext_lazy("姓名、脱敏身份证号、认证等级"),
    "phone": gettext_lazy("脱敏手机号"),
    "company": gettext_lazy("您代理的法人名称、统一社会信用代码及授权范围"),
    "account": gettext_lazy("通过接口读取您本人的账户数据"),
}


# A hidden field of the provider's own forms: with the CSRF token and the "allow" button, what
# tells their POSTs from a relying party's POSTed request (see _is_form_submission).
FORM_MARKER = "yiwang_form"


class ConsentForm(AllowForm):
    yiwang_form = forms.CharField(widget=forms.HiddenInput, initial="consent", required=False)
    act_as = forms.TypedChoiceField(
        label=gettext_lazy("代理的法人"), coerce=int, required=False, empty_value=None
    )


class LogoutConfirmForm(ConfirmLogoutForm):
    yiwang_form = forms.CharField(widget=forms.HiddenInput, initial="logout", required=False)


def _without(url: str, *names: str) -> str:
    parsed = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k not in names]
    return parsed._replace(query=urlencode(query)).geturl()


def _error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> str:
    params = {"error": error, "error_description": description}
    if state:
        params["state"] = state
    return redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params)


def issuer(request: HttpRequest) -> str:
    """The one issuer of discovery, of the RFC 8414 metadata, of ID tokens and of the ``iss`` of
    authorization responses (RFC 9207): ``YIWANG_OIDC_ISSUER``, else derived from the host."""
    return oauth2_settings.oidc_issuer(request)


def with_iss(url: str, iss: str) -> str:
    """``url`` with exactly one ``iss`` query parameter (RFC 9207 §2): a client compares it with
    the issuer it sent the request to and drops the response on a mismatch (mix-up attacks)."""
    parsed = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", iss))
    return parsed._replace(query=urlencode(query)).geturl()


def _is_form_submission(request: HttpRequest) -> bool:
    """A POST of one of the provider's own pages (consent, logout confirmation) rather than a
    request a relying party POSTed: only those carry the CSRF token, the "allow" button or the
    form marker, and only those may grant anything, so only those are CSRF-checked. A POST
    stripped of all three is handled as a relying party's request, which decides nothing that the
    same request by GET could not."""
    return any(name in request.POST for name in ("csrfmiddlewaretoken", "allow", FORM_MARKER))


def _stepup_response(request: HttpRequest, level: int, back: str) -> HttpResponse | None:
    """Send the person through the step that raises the session to ``level`` (real-name
    verification, second factor) and back to this authorization request (``back``)."""
    url = stepup_url(request, level, back)
    return HttpResponseRedirect(url) if url else None


@method_decorator(csrf_exempt, name="dispatch")
class AuthorizeView(AuthorizationView):
    """DOT's authorization endpoint plus: login context (acr, amr, sid, auth_time) handed to the
    tokens, per-client minimum acr and the request's acr_values, max_age and prompt, and consent
    remembered per client with the company chosen for the "company" scope.

    An authorization request comes by GET or, form-encoded, by POST (OIDC Core §3.1.2.1); the
    consent page posts back to the same URL with its CSRF token. Every redirect to the client,
    success or error, carries ``iss`` (RFC 9207)."""

    template_name = "identity/oidc/consent.html"
    form_class = ConsentForm

    def dispatch(self, request, *args, **kwargs):
        self.consent_post = request.method == "POST" and _is_form_submission(request)
        # The authorization request's parameters: the query string, or a POSTed form's body.
        self.params = request.POST if request.method == "POST" and not self.consent_post else request.GET
        if self.consent_post:
            return csrf_protect(super().dispatch)(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.consent_post:
            return super().post(request, *args, **kwargs)
        return self.get(request, *args, **kwargs)

    def _request_url(self) -> str:
        """This authorization request as a GET URL (where login and step-up come back to)."""
        if self.params is self.request.GET:
            return self.request.get_full_path()
        return reverse("oauth2_provider:authorize") + "?" + urlencode(list(self.params.items()))

    def _prompt(self) -> set[str]:
        return set(self.params.get("prompt", "").split())

    def redirect(self, redirect_to, application):
        # Every redirect of this view goes to the client's redirect URI: an authorization response.
        return super().redirect(with_iss(redirect_to, issuer(self.request)), application)

    def _error_to_client(self, credentials: dict, application, error: str, description: str):
        return self.redirect(
            _error_redirect(credentials["redirect_uri"], error, description, credentials.get("state")),
            application,
        )

    def handle_no_permission(self):
        # Nobody logged in. prompt=none forbids the login page (OIDC Core §3.1.2.6).
        if "none" in self._prompt():
            try:
                _scopes, credentials = self.validate_authorization_request(self.request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
            application = Application.objects.get(client_id=credentials["client_id"])
            return self._error_to_client(credentials, application, "login_required", "no session")
        return self._to_login(self._request_url())

    # --- the checks shared by GET and POST ---------------------------------------------------------
    def _required_acr(self, application) -> int:
        requested = [acr_level(v) for v in self.params.get("acr_values", "").split()]
        known = [lvl for lvl in requested if lvl is not None]
        # acr_values lists acceptable levels; the lowest one listed is the least we must reach.
        return max(min_acr(application), min(known) if known else 0)

    def _gate(self, application, credentials: dict, required: int) -> HttpResponse | None:
        ctx = login_context(self.request)
        if ctx.acr >= required:
            return None
        if "none" in self._prompt() and not self.consent_post:
            # Raising the level takes a page (verification, second factor): not with prompt=none.
            return self._error_to_client(
                credentials,
                application,
                "interaction_required",
                f"acr {ACR_URIS[AssuranceLevel(required)]} required",
            )
        if not self.consent_post:
            response = _stepup_response(self.request, required, self._request_url())
            if response is not None:
                return response
        return render(
            self.request,
            "identity/oidc/acr_too_low.html",
            {
                "application": application,
                "required": AssuranceLevel(required).label,
                "current": AssuranceLevel(ctx.acr).label,
                "back_url": with_iss(
                    _error_redirect(
                        credentials["redirect_uri"],
                        "access_denied",
                        f"acr {ACR_URIS[AssuranceLevel(required)]} required",
                        credentials.get("state"),
                    ),
                    issuer(self.request),
                ),
            },
            status=403,
        )

    def _reauth_needed(self) -> bool:
        max_age = self.params.get("max_age", "")
        if not max_age.isdigit():
            return False
        auth_time = int(self.request.session.get("yiwang_auth_time") or 0)
        if not auth_time and self.request.user.last_login:
            auth_time = int(self.request.user.last_login.timestamp())
        return time.time() - auth_time > int(max_age)

    def _context_for(self, act_as: int | None) -> dict:
        ctx = login_context(self.request)
        ctx.act_as = act_as
        return ctx.as_dict()

    def create_authorization_response(self, request, scopes, credentials, allow):
        credentials = {**credentials, "yiwang_context": self._context_for(getattr(self, "_act_as", None))}
        return super().create_authorization_response(request, scopes, credentials, allow)

    # --- GET ----------------------------------------------------------------------------------------
    def get(self, request, *args, **kwargs):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = Application.objects.get(client_id=credentials["client_id"])
        prompt = self._prompt()
        state = credentials.get("state")
        # Request objects (OIDC Core §6) are not supported, and discovery says so.
        if "request" in self.params:
            return self._error_to_client(
                credentials, application, "request_not_supported", "use plain parameters"
            )
        if "request_uri" in self.params:
            return self._error_to_client(
                credentials, application, "request_uri_not_supported", "use plain parameters"
            )
        if credentials.get("code_challenge_method") != "S256":
            # oauthlib takes a missing method as "plain"; yiwang accepts only S256 (RFC 9700).
            return self.redirect(
                _error_redirect(
                    credentials["redirect_uri"],
                    "invalid_request",
                    "PKCE with code_challenge_method=S256 required",
                    state,
                ),
                application,
            )

        if "login" in prompt or self._reauth_needed():
            if "none" in prompt:
                return self.redirect(
                    _error_redirect(
                        credentials["redirect_uri"], "login_required", "re-authentication needed", state
                    ),
                    application,
                )
            # One trip to the login page per request: if we come back still too old, say so.
            marker = self._request_url()
            if request.session.get("yiwang_reauth_for") == marker:
                request.session.pop("yiwang_reauth_for", None)
                if "login" not in prompt:
                    return self.redirect(
                        _error_redirect(credentials["redirect_uri"], "login_required", "max_age", state),
                        application,
                    )
            else:
                request.session["yiwang_reauth_for"] = _without(marker, "prompt")
                return self._to_login(_without(marker, "prompt") if "login" in prompt else marker)

        gate = self._gate(application, credentials, self._required_acr(application))
        if gate is not None:
            return gate

        remembered = consents.remembered(request.user, application)
        ask = "consent" in prompt or not (
            application.skip_authorization or consents.covers(remembered, request.user, scopes)
        )
        if not ask:
            self._act_as = remembered.act_as_id if remembered and "company" in scopes else None
            try:
                uri, _headers, _body, _status = self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
                )
            except OAuthToolkitError as error:
                return self.error_response(error, application)
            return self.redirect(uri, application)
        if "none" in prompt:
            return self.redirect(
                _error_redirect(credentials["redirect_uri"], "consent_required", "consent needed", state),
                application,
            )

        self.oauth2_data = {
            "application": application,
            "client_id": credentials["client_id"],
            "redirect_uri": credentials["redirect_uri"],
            "response_type": credentials["response_type"],
            "state": state,
            "scope": scopes,
            **{
                k: credentials[k]
                for k in ("code_challenge", "code_challenge_method", "nonce")
                if k in credentials
            },
        }
        form = self.get_form(self.get_form_class())
        return self.render_to_response(self._page_context(form, application, scopes, remembered))

    def _to_login(self, next_url: str) -> HttpResponse:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(next_url, settings.LOGIN_URL)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        acting = companies_for(person_of(self.request.user))
        form.fields["act_as"].choices = [("", _("不代理法人，以个人身份登录"))] + [
            (a.company.pk, a.company.name) for a in acting
        ]
        return form

    def _page_context(self, form, application, scopes: list[str], remembered) -> dict:
        acting = companies_for(person_of(self.request.user)) if "company" in scopes else []
        if remembered and remembered.act_as_id:
            form.initial.setdefault("act_as", remembered.act_as_id)
        all_scopes = get_scopes_backend().get_all_scopes()
        return self.get_context_data(
            form=form,
            application=application,
            scopes=[(s, SCOPE_LABELS.get(s) or all_scopes.get(s, s)) for s in scopes],
            acting=acting,
            wants_company="company" in scopes,
        )

    # --- POST ---------------------------------------------------------------------------------------
    def form_valid(self, form):
        application = Application.objects.filter(client_id=form.cleaned_data["client_id"]).first()
        if application is None:
            # The form's hidden client_id was altered: the provider's error page, never a redirect.
            return self.error_response(FatalClientError(error=InvalidClientIdError()), application=None)
        scopes = form.cleaned_data.get("scope", "").split()
        if form.cleaned_data.get("allow"):
            gate = self._gate(application, form.cleaned_data, self._required_acr(application))
            if gate is not None:
                return gate
            act_as_id = form.cleaned_data.get("act_as") if "company" in scopes else None
            company = Company.objects.filter(pk=act_as_id).first() if act_as_id else None
            try:
                consents.remember(self.request.user, application, scopes, company)
            except PermissionDenied:
                form.add_error("act_as", _("您无权代理该法人，请重新选择。"))
                return self.render_to_response(self._page_context(form, application, scopes, None))
            self._act_as = company.pk if company else None
        return super().form_valid(form)


class DiscoveryView(ConnectDiscoveryInfoView):
    """DOT's discovery document plus what yiwang adds (back-channel logout, acr values) and less
    what it does not serve: only RS256 ID tokens, only the code flow, no request objects."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            {
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
                "frontchannel_logout_supported": False,
                "acr_values_supported": [ACR_URIS[level] for level in AssuranceLevel],
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "code_challenge_methods_supported": ["S256"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
                # Every client gets RS256 (registration refuses others); HS256 would be signed
                # with the client secret, which the provider keeps only hashed.
                "id_token_signing_alg_values_supported": ["RS256"],
                "prompt_values_supported": ["none", "login", "consent"],
                "introspection_endpoint": request.build_absolute_uri(reverse("oauth2_provider:introspect")),
                "revocation_endpoint": request.build_absolute_uri(reverse("oauth2_provider:revoke-token")),
                "authorization_response_iss_parameter_supported": True,
            }
        )
        out = JsonResponse(data)
        out["Access-Control-Allow-Origin"] = "*"
        return out


def root_discovery(request: HttpRequest) -> HttpResponse:
    """/.well-known/openid-configuration at the site root, for clients that look there."""
    return HttpResponseRedirect(reverse("oauth2_provider:oidc-connect-discovery-info"))


@method_decorator(csrf_exempt, name="dispatch")
class LogoutView(RPInitiatedLogoutView):
    """RP-initiated logout that ends the province session through identity.sessions, so every
    other relying party of that session hears of it by back-channel logout.

    A relying party sends the logout request by GET or, form-encoded, by POST (RP-Initiated
    Logout §2); the confirmation page posts back with its CSRF token."""

    template_name = "identity/oidc/logout_confirm.html"
    form_class = LogoutConfirmForm

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and _is_form_submission(request):
            return csrf_protect(super().dispatch)(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if _is_form_submission(request):
            return super().post(request, *args, **kwargs)
        return self._logout_request(request.POST)

    def get(self, request, *args, **kwargs):
        return self._logout_request(request.GET)

    def _logout_request(self, params) -> HttpResponse:
        """DOT's GET handling, for parameters from the query string or a POSTed form."""
        id_token_hint = params.get("id_token_hint")
        client_id = params.get("client_id")
        post_logout_redirect_uri = params.get("post_logout_redirect_uri")
        state = params.get("state")
        try:
            application, token_user = self.validate_logout_request(
                id_token_hint=id_token_hint,
                client_id=client_id,
                post_logout_redirect_uri=post_logout_redirect_uri,
            )
        except OIDCError as error:
            return self.error_response(error)
        if not self.must_prompt(token_user):
            return self.do_logout(application, post_logout_redirect_uri, state, token_user)
        self.oidc_data = {
            "id_token_hint": id_token_hint,
            "client_id": client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "state": state,
        }
        form = self.get_form(self.get_form_class())
        context = {"form": form}
        if application:
            context["application"] = application
        return self.render_to_response(self.get_context_data(**context))

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        end_current_session(self.request, reason="rp_logout")
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)

    def get_request_application(self, id_token, client_id):
        # An unknown client_id is the caller's error (DOT's own 400 page), not a server error.
        try:
            return super().get_request_application(id_token, client_id)
        except Application.DoesNotExist:
            raise InvalidOIDCClientError() from None


@method_decorator(csrf_exempt, name="dispatch")
class UserInfo(UserInfoView):
    """Userinfo for a Bearer access token in the Authorization header only: a token in a URL
    ends up in logs and Referer headers, and a form body is no place for it either (RFC 9700
    §4.3.2; RFC 6750 §2.3 and §5.3)."""

    def dispatch(self, request, *args, **kwargs):
        if "access_token" in request.GET or (request.method == "POST" and "access_token" in request.POST):
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "send the access token in the Authorization header",
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


def basic_challenge(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A 401 from a client-authenticated endpoint challenges with the scheme clients use here,
    HTTP Basic (RFC 6749 §5.2), where oauthlib would say "Bearer"."""
    if response.status_code == 401:
        response["WWW-Authenticate"] = f'Basic realm="{issuer(request)}", charset="UTF-8"'
    return response


class Token(TokenView):
    """DOT's token endpoint, challenging failed client authentication with Basic."""

    def post(self, request, *args, **kwargs):
        return basic_challenge(request, super().post(request, *args, **kwargs))


class RevokeToken(RevokeTokenView):
    """DOT's revocation endpoint (RFC 7009), challenging failed client authentication with Basic."""

    def post(self, request, *args, **kwargs):
        return basic_challenge(request, super().post(request, *args, **kwargs))


@login_required
@require_http_methods(["GET"])
def consent_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "identity/oidc/consents.html",
        {
            "consents": [
                (c, [str(SCOPE_LABELS.get(code, code)) for code in c.scopes.split()])
                for c in consents.list_for(request.user)
            ]
        },
    )


@login_required
@require_POST
def consent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's or already gone: the list shows what is left.
    with contextlib.suppress(PermissionDenied):
        consents.revoke(request.user, pk)
    return redirect("oauth2_provider:consents")
