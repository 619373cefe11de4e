"""Reads of supervisory orders (督办) for the workbench: a case's orders, the orders a
supervisor follows and the open orders addressed to a staff member's departments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from yiwang.identity.models import Role, StaffRole

from .models import OrderStatus, SupervisoryOrder
from .orders import scope_q

LIMIT = 200
RELATED = ("case", "department", "issued_by", "level", "escalated_to")


def case_orders(case_id: int) -> list[SupervisoryOrder]:
    """The orders on one case, oldest first (the case page's 督办 panel)."""
    return list(SupervisoryOrder.objects.filter(case_id=case_id).select_related(*RELATED).order_by("pk"))


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
