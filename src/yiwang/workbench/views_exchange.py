"""The sharing catalogue, requests and grants on the workbench: /workbench/exchange/.

Staff (any staff role) browse the catalogue and read a resource's fields; data administrators
(数据管理员) ask for a resource for their department, follow their requests (我的共享申请),
decide on those made to their department (待审批) and revoke its grants. Every rule is checked
again by ``exchange.grants``; a refusal shows the form again with each message next to its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.core.params import int_param
from yiwang.exchange import catalogue_selectors as cat
from yiwang.exchange import client_selectors, clients, figure_selectors, grant_selectors, grants
from yiwang.exchange.models import Registry, RequestStatus, SharingType
from yiwang.identity.models import Role

from .views import role_required

browse_required = role_required(cat.may_browse)
data_admin_required = role_required(lambda roles, user: cat.is_data_admin(user))

STATE_LABELS = {
    "pending": gettext_lazy("待审批"),
    "refused": gettext_lazy("未同意"),
    "live": gettext_lazy("已授权"),
    "revoked": gettext_lazy("已撤销"),
    "expired": gettext_lazy("已过期"),
    "not_started": gettext_lazy("已授权（尚未生效）"),
}


def _state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _errors(exc: DomainError) -> dict[str, str]:
    """The messages by field ("" for the whole form); several on one field are joined."""
    out: dict[str, str] = {}
    for e in exc.errors:
        key = e.field.split(".")[0] if e.field else "form"
        out[key] = f"{out[key]}；{e.message}" if key in out else e.message
    return out


def _prefixed(form: str, exc: DomainError) -> dict[str, str]:
    """``_errors`` for one of the request page's forms: its fields prefixed (approve_fields),
    the messages about the whole request ("form") shown above them all."""
    return {k if k == "form" else f"{form}_{k}": v for k, v in _errors(exc).items()}


def _status(exc: DomainError) -> int:
    return 403 if isinstance(exc, NotPermitted) else 400


# --- the catalogue -------------------------------------------------------------------------------------


@browse_required
def catalogue_page(request: HttpRequest) -> HttpResponse:
    filters = cat.CatalogueFilters(
        q=request.GET.get("q", "").strip()[:60],
        department_id=int_param(request.GET.get("department")),
        registry=request.GET.get("registry", ""),
        sharing_type=request.GET.get("sharing_type", ""),
    )
    page = Paginator(cat.catalogue(filters), cat.PER_PAGE).get_page(int_param(request.GET.get("page")) or 1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "f": filters,
        "query": query.urlencode(),
        "departments": cat.catalogue_departments(),
        "registries": Registry.choices,
        "sharing_types": SharingType.choices,
        "data_admin": cat.is_data_admin(request.user),
    }
    return render(request, "workbench/exchange_catalogue.html", context)


@browse_required
def resource_page(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = cat.resource(resource_id)
    if resource is None:
        raise Http404
    mine = cat.data_admin_departments(request.user)
    context = {
        "r": resource,
        "may_request": any(d.pk != resource.department_id for d in mine),
        "data_admin": bool(mine),
    }
    return render(request, "workbench/exchange_resource.html", context)


# --- a request -----------------------------------------------------------------------------------------


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


@data_admin_required
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = cat.resource(resource_id)
    if resource is None:
        raise Http404
    departments = [d for d in cat.data_admin_departments(request.user) if d.pk != resource.department_id]
    if not departments:
        return render(request, "workbench/forbidden.html", status=403)
    values: dict[str, Any] = {
        "consumer": str(departments[0].pk),
        "fields": [f.code for f in resource.fields.all()],
        "starts_on": timezone.localdate().isoformat(),
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:2100] for k in ("consumer", "purpose", "legal_basis")}
        # "item_codes", not "items": a template reads values.items as the dict's method
        values["item_codes"] = request.POST.get("items", "")[:2100]
        values |= {k: request.POST.get(k, "")[:10] for k in ("starts_on", "ends_on")}
        values["fields"] = [c[:64] for c in request.POST.getlist("fields")[:300]]
        consumer = next((d for d in departments if str(d.pk) == values["consumer"]), None)
        starts_on, ends_on = _date(values["starts_on"]), _date(values["ends_on"])
        if values["starts_on"].strip() and starts_on is None:
            errors["starts_on"] = _("日期格式应为 年-月-日。")
        if values["ends_on"].strip() and ends_on is None:
            errors["ends_on"] = _("日期格式应为 年-月-日。")
        if not errors:
            try:
                req = grants.request_share(
                    request.user,
                    resource.pk,
                    consumer=consumer,
                    fields=values["fields"],
                    purpose=values["purpose"],
                    legal_basis=values["legal_basis"],
                    items=values["item_codes"].replace("，", ",").replace("\n", ",").split(","),
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            except DomainError as exc:
                errors, status = _errors(exc), _status(exc)
            else:
                return redirect("workbench:exchange_request", req.pk)
        else:
            status = 400
    context = {"r": resource, "departments": departments, "values": values, "errors": errors}
    return render(request, "workbench/exchange_request_form.html", context, status=status)


# --- lists -----------------------------------------------------------------------------------------------


def _with_states(rows: Any) -> list[Any]:
    out = list(rows)
    for req in out:
        req.state = grant_selectors.request_state(req)
        req.state_label = _state_label(req.state)
    return out


@data_admin_required
def my_requests(request: HttpRequest) -> HttpResponse:
    page = Paginator(grant_selectors.my_requests(request.user), 20).get_page(
        int_param(request.GET.get("page")) or 1
    )
    context = {"page": page, "rows": _with_states(page.object_list)}
    return render(request, "workbench/exchange_requests.html", context)


@data_admin_required
def approvals(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": _with_states(grant_selectors.pending_for(request.user)[:200]),
        "given": list(grant_selectors.grants_given(request.user)[:200]),
    }
    return render(request, "workbench/exchange_approvals.html", context)


# --- one request: decide, revoke -------------------------------------------------------------------------


def _request_page(
    request: HttpRequest, req: Any, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    req.state = grant_selectors.request_state(req)
    req.state_label = _state_label(req.state)
    resource = cat.resource(req.resource_id, published_only=False)
    assert resource is not None
    names = {f.code: f for f in resource.fields.all()}
    grant = getattr(req, "grant", None)
    owner = cat.is_data_admin_of(request.user, req.resource.department, fresh=False)
    context = {
        "req": req,
        "r": resource,
        "asked": [names.get(c) or c for c in req.fields],
        "granted": [names.get(c) or c for c in grant.fields] if grant else [],
        "grant": grant,
        "decide": owner and req.status == RequestStatus.PENDING,
        "revoke": owner and grant is not None and req.state in ("live", "not_started"),
        "errors": errors or {},
    }
    return render(request, "workbench/exchange_request.html", context, status=status)


def _visible(request: HttpRequest, request_id: int) -> Any:
    req = grant_selectors.visible_request(request.user, request_id)
    if req is None:
        raise Http404
    return req


@data_admin_required
def request_page(request: HttpRequest, request_id: int) -> HttpResponse:
    return _request_page(request, _visible(request, request_id))


@data_admin_required
@require_POST
def approve(request: HttpRequest, request_id: int) -> HttpResponse:
    req = _visible(request, request_id)
    try:
        grants.approve(request.user, req.pk, fields=[c[:64] for c in request.POST.getlist("fields")[:300]])
    except DomainError as exc:
        return _request_page(request, req, errors=_prefixed("approve", exc), status=_status(exc))
    return redirect("workbench:exchange_request", req.pk)


@data_admin_required
@require_POST
def refuse(request: HttpRequest, request_id: int) -> HttpResponse:
    req = _visible(request, request_id)
    try:
        grants.refuse(request.user, req.pk, reason=request.POST.get("reason", "")[:2100])
    except DomainError as exc:
        return _request_page(request, req, errors=_errors(exc), status=_status(exc))
    return redirect("workbench:exchange_request", req.pk)


@data_admin_required
@require_POST
def revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    req = grant_selectors.request_of_grant(request.user, grant_id)
    if req is None:
        raise Http404
    try:
        grants.revoke(request.user, grant_id, reason=request.POST.get("reason", "")[:2100])
    except DomainError as exc:
        return _request_page(request, req, errors=_prefixed("revoke", exc), status=_status(exc))
    return redirect("workbench:exchange_request", req.pk)


# --- department systems of the exchange API ------------------------------------------------------------


def _clients_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "rows": client_selectors.clients_of(request.user),
        "departments": cat.data_admin_departments(request.user),
        "default_rate": settings.YIWANG_EXCHANGE_RATE,
        "values": {},
        "errors": {},
        "data_admin": True,
    } | extra


@data_admin_required
@require_http_methods(["GET", "POST"])
def clients_page(request: HttpRequest) -> HttpResponse:
    """部门系统接入: the systems of my departments; register one (the secret is shown on this
    answer only, never again), revoke one."""
    if request.method == "GET":
        return render(request, "workbench/exchange_clients.html", _clients_context(request))
    values = {k: request.POST.get(k, "").strip() for k in ("department", "name", "rate_limit")}
    department = cat.department(int_param(values["department"]))
    try:
        if department is None:
            raise ValidationFailed([FieldError("department", _("请选择部门。"))])
        new = clients.create_client(
            request.user, department, name=values["name"], rate_limit=values["rate_limit"]
        )
    except DomainError as exc:
        context = _clients_context(request, values=values, errors=_errors(exc))
        return render(request, "workbench/exchange_clients.html", context, status=_status(exc))
    response = render(request, "workbench/exchange_clients.html", _clients_context(request, new=new))
    response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@data_admin_required
@require_POST
def client_revoke(request: HttpRequest, client_id: int) -> HttpResponse:
    if client_selectors.client_of(request.user, client_id) is None:
        return render(request, "workbench/forbidden.html", status=403)
    try:
        clients.revoke_client(request.user, client_id)
    except DomainError as exc:
        context = _clients_context(request, errors=_errors(exc))
        return render(request, "workbench/exchange_clients.html", context, status=_status(exc))
    return redirect("workbench:exchange_clients")


# --- the exchange figures ------------------------------------------------------------------------------


def _may_see_figures(roles: list, user: Any) -> bool:
    return bool(
        getattr(user, "is_superuser", False)
        or any(r.role in (Role.DATA_ADMIN, Role.SUPERVISOR) for r in roles)
    )


@role_required(_may_see_figures)
def figures_page(request: HttpRequest) -> HttpResponse:
    """交换统计: per day, registry and consuming department, and per registry (data admins,
    supervisors)."""
    registry = request.GET.get("registry", "")
    registry = registry if registry in dict(Registry.choices) else ""
    data = figure_selectors.daily_figures(
        since=_date(request.GET.get("since", "")),
        until=_date(request.GET.get("until", "")),
        registry=registry,
    )
    context = {
        "f": data,
        "registry": registry,
        "registries": Registry.choices,
        "data_admin": cat.is_data_admin(request.user),
    }
    return render(request, "workbench/exchange_figures.html", context)
