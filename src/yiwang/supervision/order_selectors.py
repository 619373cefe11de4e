"""Reads of supervisory orders (督办) for the workbench: a case's orders, the orders a
supervisor follows and the open orders addressed to a staff member's departments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from yiwang.cases.models import Case
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department

from .models import OrderStatus, SupervisoryOrder
from .orders import covers, scope_q

LIMIT = 200
RELATED = ("case", "department", "issued_by", "level", "escalated_to")


def departments_to_order(user: AbstractBaseUser | AnonymousUser, limit: int = 500) -> list[Department]:
    """The departments a supervisor may address an order to (the issue form's choices)."""
    return list(Department.objects.filter(scope_q(user)).order_by("pk")[:limit])


def case_to_order(user: AbstractBaseUser | AnonymousUser, number: str) -> Case | None:
    """The case of that number when the supervisor's scope covers it; None otherwise, so that
    the answer gives no hint of other regions' cases."""
    case = Case.objects.select_related("department__region").filter(number=number[:40]).first()
    return case if case is not None and covers(user, case.department) else None


def department(department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    return Department.objects.select_related("region").filter(pk=department_id).first()


def order_exists(order_id: int) -> bool:
    return SupervisoryOrder.objects.filter(pk=order_id).exists()


def case_orders(case_id: int) -> list[SupervisoryOrder]:
    """The orders on one case, oldest first (the case page's 督办 panel), with the one relation
    that panel prints (``escalated_to``): joining the case, whose page this is, and the others
    would make every case page compile and read their columns, most often for no order at all."""
    return list(
        SupervisoryOrder.objects.filter(case_id=case_id).select_related("escalated_to").order_by("pk")
    )


def supervised(user: AbstractBaseUser | AnonymousUser, limit: int = LIMIT) -> list[SupervisoryOrder]:
    """Orders not closed on the departments in the supervisor's scope, and those escalated to
    a region of theirs: escalated first, then open, then replied, by reply day."""
    if not user.is_authenticated:
        return []
    regions = StaffRole.objects.filter(user_id=user.pk, role=Role.SUPERVISOR, region__isnull=False).values(
        "region_id"
    )
    q = scope_q(user, "department__") | Q(escalated_to__in=regions)
    rank: dict[str, int] = {OrderStatus.ESCALATED: 0, OrderStatus.OPEN: 1, OrderStatus.REPLIED: 2}
    rows = list(
        SupervisoryOrder.objects.filter(q)
        .exclude(status=OrderStatus.CLOSED)
        .select_related(*RELATED)
        .order_by("reply_due", "pk")[:limit]
    )
    return sorted(rows, key=lambda o: rank.get(o.status, 3))


def addressed_to(user: AbstractBaseUser | AnonymousUser, limit: int = LIMIT) -> list[SupervisoryOrder]:
    """Unanswered orders to the departments where the user holds a role."""
    if not user.is_authenticated:
        return []
    depts = StaffRole.objects.filter(user_id=user.pk, department__isnull=False).values("department_id")
    return list(
        SupervisoryOrder.objects.filter(
            department__in=depts, status__in=[OrderStatus.OPEN, OrderStatus.ESCALATED]
        )
        .select_related(*RELATED)
        .order_by("reply_due", "pk")[:limit]
    )
