"""Supervisory orders (督办) on the workbench: /workbench/orders/. A supervisor issues an order
on a case (by its number) or a department and follows the orders in their scope; the staff of
the department addressed reply; the issuer closes. The rules are checked by
``supervision.orders``; a refusal shows the page again with the message next to the field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed
from yiwang.core.params import int_param
from yiwang.identity.models import Role, StaffRole
from yiwang.supervision import order_selectors, orders
from yiwang.supervision.models import SupervisoryOrder

from . import selectors
from .views import role_required

ORDER_ROLES = (Role.SUPERVISOR, *selectors.WORK_ROLES)


def may_use_orders(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or any(r.role in ORDER_ROLES for r in roles)))


def _is_supervisor(request: HttpRequest) -> bool:
    roles = request.work_roles  # type: ignore[attr-defined]  # set by role_required
    return bool(request.user.is_superuser or any(r.role == Role.SUPERVISOR for r in roles))


def _page(
    request: HttpRequest,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    order_errors: dict[int, str] | None = None,
) -> HttpResponse:
    supervisor = _is_supervisor(request)
    supervised = order_selectors.supervised(request.user) if supervisor else []
    addressed = order_selectors.addressed_to(request.user)
    for o in (*supervised, *addressed):
        o.error = (order_errors or {}).get(o.pk, "")  # type: ignore[attr-defined]
    context = {
        "supervisor": supervisor,
        "departments": order_selectors.departments_to_order(request.user) if supervisor else [],
        "supervised": supervised,
        "addressed": addressed,
        "errors": errors or {},
        # the refusal of an order not on the page (not one the reader may see) goes on top
        "top_errors": [
            m for pk, m in (order_errors or {}).items() if pk not in {o.pk for o in (*supervised, *addressed)}
        ],
        "values": values or {"days": orders.default_days()},
        "user_id": request.user.pk,
    }
    return render(request, "workbench/orders.html", context, status=status)


def _status(exc: DomainError) -> int:
    return 403 if isinstance(exc, NotPermitted) else 400


def _refused(request: HttpRequest, exc: DomainError, values: dict[str, Any]) -> HttpResponse:
    """The issue form again, each message next to its field (else above the form)."""
    errors = (
        {f"issue__{e.field}": e.message for e in exc.errors if e.field}
        if isinstance(exc, ValidationFailed)
        else {}
    )
    if not errors:
        errors["issue"] = "；".join(exc.messages)
    return _page(request, errors=errors, values=values, status=_status(exc))


def _row_refused(request: HttpRequest, order_id: int, exc: DomainError) -> HttpResponse:
    """The page again with the message on the order's row (and above, for an order not listed)."""
    text = "；".join(exc.messages)
    return _page(request, order_errors={order_id: text}, status=_status(exc))


@role_required(may_use_orders)
@require_http_methods(["GET", "POST"])
def orders_page(request: HttpRequest) -> HttpResponse:
    """The orders list; a POST issues an order (supervisors)."""
    if request.method == "GET":
        return _page(request)
    values = {k: request.POST.get(k, "")[:600] for k in ("case", "department", "reason", "days")}
    errors: dict[str, str] = {}
    days = int_param(values["days"], min_value=1, max_value=orders.MAX_DAYS)
    if days is None:
        errors["issue__days"] = _("回复期限须为 1 至 %(n)s 个工作日。") % {"n": orders.MAX_DAYS}
    if not values["reason"].strip():
        errors["issue__reason"] = _("请填写督办事由。")
    case = department = None
    if values["case"].strip():
        case = order_selectors.case_to_order(request.user, values["case"].strip())
        if case is None:  # no hint of others' cases
            errors["issue__case"] = _("没有这个办件编号。")
    elif values["department"]:
        department = order_selectors.department(int_param(values["department"]))
        if department is None:
            errors["issue__department"] = _("请选择部门。")
    else:
        errors["issue__case"] = _("请填写办件编号或选择部门。")
    if errors:
        return _page(request, errors=errors, values=values, status=400)
    try:
        orders.issue(request.user, reason=values["reason"], case=case, department=department, days=days)
    except DomainError as exc:
        return _refused(request, exc, values)
    return redirect("workbench:orders")


def _order_or_404(order_id: int) -> SupervisoryOrder:
    if not order_selectors.order_exists(order_id):
        raise Http404
    return SupervisoryOrder(pk=order_id)


@role_required(may_use_orders)
@require_POST
def reply(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(order_id)
    try:
        orders.reply(request.user, order.pk, request.POST.get("reply", "")[: orders.REPLY_MAX + 1])
    except DomainError as exc:
        return _row_refused(request, order.pk, exc)
    return redirect("workbench:orders")


@role_required(may_use_orders)
@require_POST
def close(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(order_id)
    try:
        orders.close(request.user, order.pk)
    except DomainError as exc:
        return _row_refused(request, order.pk, exc)
    return redirect("workbench:orders")
