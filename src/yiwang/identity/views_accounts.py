"""Account pages (/account/): register as a person or a company, own data (masked), mandates.
Thin: the rules live in ``services`` and ``account_selectors``."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from yiwang.core.errors import DomainError, NotPermitted
from yiwang.core.middleware import client_ip

from . import account_selectors as selectors
from . import acting, services, sessions
from .forms_accounts import CompanyRegistrationForm, MandateForm, PersonRegistrationForm, PhoneCodeForm
from .sms import fake_sms_enabled

NONCE_SECONDS = 600  # how long a submitted registration form is remembered (double submit)


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def _log_in(request: HttpRequest, user) -> None:
    """Start a tracked session, at the assurance a password gives."""
    sessions.start_session(request, user, acr=sessions.password_acr(user), amr=["pwd"])


def _nonce_key(nonce: str) -> str:
    return f"identity:register:{nonce}"


REGISTER_TOKEN = "identity.register_token"  # session key: the pending registration's challenge
PHONE_TOKEN = "identity.phone_token"  # session key: the account's phone verification challenge


@never_cache
@sensitive_post_parameters("password", "password2", "id_number", "phone")
def register_person(request: HttpRequest) -> HttpResponse:
    """Step 1: the details. Whatever the registry and the accounts hold, a valid form gets the
    same answer: on to the code page (a code went to the registered phone only if it fits)."""
    if selectors.person_of(request.user) is not None:
        return redirect("accounts:home")
    if request.method == "POST":
        form = PersonRegistrationForm(request.POST)
        nonce = request.POST.get("nonce", "")[:64]
        # Claim the form's nonce atomically: of two submissions of the same form (a double
        # click) only the first starts a registration; the other goes on to the code page.
        if nonce and not cache.add(_nonce_key(nonce), 0, NONCE_SECONDS):
            return redirect("accounts:register_person_code")
        token = None
        if form.is_valid():
            d = form.cleaned_data
            try:
                token = services.start_registration(
                    username=d["username"],
                    password=d["password"],
                    name=d["name"],
                    id_number=d["id_number"],
                    phone=d["phone"],
                    client_address=client_ip(request),
                )
            except DomainError as exc:
                form.add_domain_error(exc)
        if token is None:
            if nonce:
                cache.delete(_nonce_key(nonce))  # the form comes back with errors: let it be sent again
        else:
            request.session[REGISTER_TOKEN] = token
            return redirect("accounts:register_person_code")
    else:
        form = PersonRegistrationForm(initial={"nonce": secrets.token_urlsafe(16)})
    return render(
        request,
        "identity/accounts/register_person.html",
        {"form": form, "login_url": _url("auth:login", "/auth/login/")},
    )


def _code_page(request: HttpRequest, form: PhoneCodeForm, *, action: str, back: str, status: int = 200):
    return render(
        request,
        "identity/accounts/phone_code.html",
        {
            "form": form,
            "action": action,
            "back": back,
            "minutes": max(1, settings.YIWANG_PHONE_CODE_SECONDS // 60),
            "demo_sms_url": reverse("accounts:demo_sms") if fake_sms_enabled() else "",
        },
        status=status,
    )


@never_cache
@sensitive_post_parameters("code")
def register_person_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the one-time code. Creates the account (level 2) and logs it in."""
    if selectors.person_of(request.user) is not None:
        return redirect("accounts:home")
    token = request.session.get(REGISTER_TOKEN)
    back = reverse("accounts:register_person")
    if not token:
        return redirect(back)
    action = reverse("accounts:register_person_code")
    if request.method == "POST":
        form = PhoneCodeForm(request.POST)
        if form.is_valid():
            try:
                person = services.complete_registration(token=token, code=form.cleaned_data["code"])
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                request.session.pop(REGISTER_TOKEN, None)
                _log_in(request, person.user)
                messages.success(request, _("注册成功，已通过实名核验和手机号验证。"))
                return redirect("accounts:home")
        return _code_page(request, form, action=action, back=back, status=400)
    return _code_page(request, PhoneCodeForm(), action=action, back=back)


@never_cache
@login_required
@require_POST
def phone_verify_start(request: HttpRequest) -> HttpResponse:
    """An account whose phone is not proven yet asks for a code on it."""
    person = selectors.person_of(request.user)
    if person is None:
        return render(request, "identity/accounts/no_person.html", status=403)
    if person.phone_verified_at is not None:
        return redirect("accounts:home")
    try:
        token = services.start_phone_verification(person, client_address=client_ip(request))
    except DomainError as exc:
        for e in exc.errors:
            messages.error(request, e.message)
        return redirect("accounts:home")
    request.session[PHONE_TOKEN] = token
    return redirect("accounts:phone_code")


@never_cache
@login_required
@sensitive_post_parameters("code")
def phone_code(request: HttpRequest) -> HttpResponse:
    person = selectors.person_of(request.user)
    if person is None:
        return render(request, "identity/accounts/no_person.html", status=403)
    token = request.session.get(PHONE_TOKEN)
    back = reverse("accounts:home")
    if not token or person.phone_verified_at is not None:
        return redirect(back)
    action = reverse("accounts:phone_code")
    if request.method == "POST":
        form = PhoneCodeForm(request.POST)
        if form.is_valid():
            try:
                services.confirm_phone(person, token=token, code=form.cleaned_data["code"])
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                request.session.pop(PHONE_TOKEN, None)
                messages.success(request, _("手机号验证成功。"))
                return redirect("accounts:home")
        return _code_page(request, form, action=action, back=back, status=400)
    return _code_page(request, PhoneCodeForm(), action=action, back=back)


@never_cache
def demo_sms(request: HttpRequest) -> HttpResponse:
    """演示短信（假网关）: what the FAKE gateway was given for the demo's own phones. There is no
    such page unless ``YIWANG_FAKE_SMS`` is on (and no real gateway is named), and it never
    shows a message to any other phone, so a real person's code cannot appear here."""
    if not fake_sms_enabled():
        raise Http404
    from .sms import FakeSmsGateway
    from .synthetic import demo_phones

    return render(
        request,
        "identity/accounts/demo_sms.html",
        {"messages_sent": FakeSmsGateway.messages_to(demo_phones())},
    )


@never_cache
@login_required
def register_company(request: HttpRequest) -> HttpResponse:
    person = selectors.person_of(request.user)
    if person is None:
        return render(request, "identity/accounts/no_person.html", status=403)
    if request.method == "POST":
        form = CompanyRegistrationForm(request.POST)
        if form.is_valid():
            try:
                company = services.register_company(
                    person=person,
                    credit_code=form.cleaned_data["credit_code"],
                    name=form.cleaned_data["name"],
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("法人“%(name)s”注册成功。") % {"name": company.name})
                return redirect("accounts:home")
    else:
        form = CompanyRegistrationForm()
    return render(request, "identity/accounts/register_company.html", {"form": form, "person": person})


def _account_context(person, mandate_form: MandateForm | None = None) -> dict:
    companies = list(selectors.companies_represented(person))
    given = [(m, *selectors.mandate_status(m)) for m in selectors.mandates_given(person)]
    received = [(m, *selectors.mandate_status(m)) for m in selectors.mandates_received(person)]
    return {
        "person": person,
        "assurance_explanation": selectors.assurance_explanation(person.assurance_level),
        "companies": companies,
        "mandates_given": given,
        "mandates_received": received,
        "mandate_form": mandate_form or MandateForm(companies=companies),
        "sessions_url": _url("auth:sessions", "/auth/sessions/"),
        "mfa_url": _url("auth:mfa", "/auth/mfa/"),
    }


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    person = selectors.person_of(request.user)
    if person is None:
        return render(request, "identity/accounts/no_person.html", status=403)
    return render(request, "identity/accounts/home.html", _account_context(person))


@never_cache
@sensitive_post_parameters("agent_id_number")
@login_required
@require_POST
def grant_mandate(request: HttpRequest) -> HttpResponse:
    person = selectors.person_of(request.user)
    if person is None:
        return render(request, "identity/accounts/no_person.html", status=403)
    companies = list(selectors.companies_represented(person))
    form = MandateForm(request.POST, companies=companies)
    if form.is_valid():
        # The choice list holds only the person's own companies: another company's id is a form error.
        company = next(c for c in companies if c.pk == form.cleaned_data["company"])
        try:
            all_items = form.cleaned_data["all_items"]
            items = [] if all_items else selectors.standard_items_by_codes(form.codes())
            starts_at, ends_at = form.period()
            services.grant_mandate(
                company=company,
                by=person,
                agent_id_number=form.cleaned_data["agent_id_number"],
                all_items=all_items,
                standard_items=items,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        except DomainError as exc:
            form.add_domain_error(
                exc, {"standard_items": "item_codes", "ends_at": "ends_on", "starts_at": "starts_on"}
            )
        else:
            if starts_at <= timezone.now():
                messages.success(request, _("授权已生效。"))
            else:
                messages.success(
                    request, _("授权已保存，将于 %(date)s 生效。") % {"date": form.cleaned_data["starts_on"]}
                )
            return redirect(reverse("accounts:home") + "#mandates-given")
    return render(request, "identity/accounts/home.html", _account_context(person, form), status=400)


@never_cache
@login_required
@require_POST
def revoke_mandate(request: HttpRequest, mandate_id: int) -> HttpResponse:
    person = selectors.person_of(request.user)
    mandate = selectors.mandate_for_legal_rep(person, mandate_id) if person else None
    if mandate is None:
        raise Http404  # not one of this person's companies: do not even confirm it exists
    services.revoke_mandate(mandate, by=person)
    messages.success(request, _("已撤销对%(agent)s的授权。") % {"agent": mandate.agent.name})
    return redirect(reverse("accounts:home") + "#mandates-given")


@never_cache
@login_required
def mandate_detail(request: HttpRequest, mandate_id: int) -> HttpResponse:
    person = selectors.person_of(request.user)
    mandate = selectors.mandate_visible_to(person, mandate_id) if person else None
    if mandate is None:
        raise Http404
    code, label = selectors.mandate_status(mandate)
    return render(
        request,
        "identity/accounts/mandate.html",
        {
            "mandate": mandate,
            "status": code,
            "status_label": label,
            "can_revoke": services.is_legal_representative(person, mandate.company) and code != "revoked",
        },
    )


@login_required
@require_POST
def acting_as(request: HttpRequest) -> HttpResponse:
    """切换身份: act as oneself (``company`` empty) or for a company the person may act for now,
    then back to the page the menu was on. A company they may not act for: 403, nothing
    changed."""
    from .views_auth import safe_next

    next_url = safe_next(request, request.POST.get("next"), _url("portal:home", "/"))
    raw = request.POST.get("company", "").strip()
    company_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    if raw and company_id is None:
        return _acting_refused(request, next_url)
    try:
        company = services.choose_acting_as(request.user, company_id)
    except NotPermitted:
        return _acting_refused(request, next_url)
    acting.remember(request, company.pk if company is not None else None)
    return redirect(next_url)


def _acting_refused(request: HttpRequest, next_url: str) -> HttpResponse:
    return render(request, "identity/accounts/acting_refused.html", {"next": next_url}, status=403)
