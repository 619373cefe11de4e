"""Supervisory orders (督办): a supervisor orders a department to answer about one of its cases
or about itself by a working day; the department replies; the issuer closes it; an order left
unanswered past its day is escalated to the region above the issuer's, whose supervisors are
notified. Each action is one transaction and one audit entry. Cases and departments are only
read here."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import services as case_services
from yiwang.cases.models import Case
from yiwang.core import audit
from yiwang.core.errors import FieldError, NotPermitted, ValidationFailed
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, Region
from yiwang.worktime import selectors as worktime

from . import selectors
from .models import Level, OrderStatus, StaffNotice, SupervisoryOrder

MAX_DAYS = 30
REASON_MAX = 500
REPLY_MAX = 2000


def default_days() -> int:
    return int(getattr(settings, "YIWANG_ORDER_REPLY_DAYS", 3))


def current_day() -> dt.date:
    return timezone.localdate()


def _supervisor_roles(user: AbstractBaseUser | AnonymousUser) -> list[StaffRole]:
    if not user.is_authenticated:
        return []
    return list(StaffRole.objects.filter(user_id=user.pk, role=Role.SUPERVISOR).select_related("region"))


def scope_q(user: AbstractBaseUser | AnonymousUser, prefix: str = "") -> Q:
    """The departments (``prefix`` to reach the department) under the user's supervisor roles:
    a role's department, else every department below its region, else every department."""
    if getattr(user, "is_superuser", False):
        return Q()
    q = Q(pk__in=[])
    for r in _supervisor_roles(user):
        if r.department_id:
            q |= Q(**{f"{prefix}pk": r.department_id})
        elif r.region is not None:
            q |= Q(**{f"{prefix}region__path__startswith": r.region.path})
        else:
            return Q()
    return q


def covers(user: AbstractBaseUser | AnonymousUser, department: Department) -> bool:
    return Department.objects.filter(scope_q(user), pk=department.pk).exists()


def _issuer_level(user: AbstractBaseUser | AnonymousUser, department: Department) -> Region | None:
    """The issuer's region for this order: the narrowest of their supervisor roles covering the
    department (a department role stands at its department's region)."""
    best: Region | None = None
    for r in _supervisor_roles(user):
        region = department.region if r.department_id == department.pk else r.region
        if r.department_id and r.department_id != department.pk:
            continue
        if region is not None and not department.region.path.startswith(region.path):
            continue
        if region is not None and (best is None or len(region.path) > len(best.path)):
            best = region
    return best


def issue(
    user: AbstractBaseUser | AnonymousUser,
    *,
    reason: str,
    case: Case | None = None,
    department: Department | None = None,
    days: int | None = None,
    today: dt.date | None = None,
) -> SupervisoryOrder:
    """A new order on ``case`` (to its department) or on ``department``, its reply due ``days``
    working days after today. Only a supervisor whose scope covers the department."""
    reason = (reason or "").strip()
    days = default_days() if days is None else days
    errors = []
    if not reason:
        errors.append(FieldError("reason", _("请填写督办事由。")))
    elif len(reason) > REASON_MAX:
        errors.append(FieldError("reason", _("督办事由不能超过 %(n)s 个字。") % {"n": REASON_MAX}))
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", _("回复期限须为 1 至 %(n)s 个工作日。") % {"n": MAX_DAYS}))
    if case is None and department is None:
        errors.append(FieldError("target", _("请指定办件或部门。")))
    if errors:
        raise ValidationFailed(errors)
    target = case.department if case is not None else department
    assert target is not None
    if user.pk is None or not covers(user, target):
        raise NotPermitted(_("您没有督办该部门的权限。"))
    due = worktime.add_working_days(today or current_day(), days).date
    with transaction.atomic():
        order = SupervisoryOrder.objects.create(
            case=case,
            department=target,
            reason=reason,
            issued_by_id=user.pk,
            level=_issuer_level(user, target),
            reply_due=due,
        )
        audit.record(
            "supervision.order.issue",
            order,
            summary=f"{case.number if case else target.name} {due}",
            detail={
                "by": user.pk,
                "case": case.pk if case else None,
                "department": target.pk,
                "due": str(due),
            },
        )
    return order


def may_reply(user: AbstractBaseUser | AnonymousUser, order: SupervisoryOrder) -> bool:
    """The department's head or any staff member of that department."""
    return bool(
        user.is_authenticated
        and StaffRole.objects.filter(user_id=user.pk, department_id=order.department_id).exists()
    )


def reply(user: AbstractBaseUser | AnonymousUser, order_id: int, text: str) -> SupervisoryOrder:
    """The department's answer: the order is replied (an escalated one too)."""
    text = (text or "").strip()
    with transaction.atomic():
        order = SupervisoryOrder.objects.select_for_update().get(pk=order_id)
        if not may_reply(user, order):
            raise NotPermitted(_("只有被督办部门的工作人员可以回复。"))
        if order.status not in (OrderStatus.OPEN, OrderStatus.ESCALATED):
            raise ValidationFailed([FieldError("reply", _("该督办单已回复或已办结。"))])
        if not text:
            raise ValidationFailed([FieldError("reply", _("请填写回复内容。"))])
        if len(text) > REPLY_MAX:
            raise ValidationFailed(
                [FieldError("reply", _("回复内容不能超过 %(n)s 个字。") % {"n": REPLY_MAX})]
            )
        order.status = OrderStatus.REPLIED
        order.reply, order.replied_at, order.replied_by_id = text, timezone.now(), user.pk
        order.save(update_fields=["status", "reply", "replied_at", "replied_by"])
        audit.record("supervision.order.reply", order, summary=str(order.pk), detail={"by": user.pk})
    return order


def close(user: AbstractBaseUser | AnonymousUser, order_id: int) -> SupervisoryOrder:
    with transaction.atomic():
        order = SupervisoryOrder.objects.select_for_update().get(pk=order_id)
        if order.issued_by_id != user.pk and not getattr(user, "is_superuser", False):
            raise NotPermitted(_("只有督办人可以办结督办单。"))
        if order.status == OrderStatus.CLOSED:
            raise ValidationFailed([FieldError("close", _("该督办单已办结。"))])
        order.status, order.closed_at = OrderStatus.CLOSED, timezone.now()
        order.save(update_fields=["status", "closed_at"])
        audit.record("supervision.order.close", order, summary=str(order.pk), detail={"by": user.pk})
    return order


def _above(order: SupervisoryOrder) -> Region | None:
    return order.level.parent if order.level is not None else None


def supervisors_of(region: Region | None) -> list[int]:
    """The supervisors at ``region`` (region-wide roles; province-wide ones when None)."""
    qs = StaffRole.objects.filter(role=Role.SUPERVISOR, department__isnull=True)
    qs = qs.filter(region=region) if region is not None else qs.filter(region__isnull=True)
    return list(dict.fromkeys(qs.values_list("user_id", flat=True)))


def escalate_overdue(*, today: dt.date | None = None) -> int:
    """Open orders past their reply day: each escalated once (a compare-and-set on the status)
    to the region above the issuer's, with a notice and an e-mail to that region's supervisors
    when the order is about a case. Returns how many were escalated."""
    today = today or current_day()
    done = 0
    for order in SupervisoryOrder.objects.filter(status=OrderStatus.OPEN, reply_due__lt=today).select_related(
        "level__parent", "case"
    ):
        above = _above(order)
        with transaction.atomic():
            now = timezone.now()
            if not SupervisoryOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
                status=OrderStatus.ESCALATED, escalated_to=above, escalated_at=now
            ):
                continue
            users = supervisors_of(above)
            text = _("督办单 %(n)s 逾期未回复（回复期限 %(due)s），已上报。") % {
                "n": order.pk,
                "due": order.reply_due,
            }
            if order.case is not None and users:
                StaffNotice.objects.bulk_create(
                    [StaffNotice(user_id=u, case=order.case, level=Level.RED, text=text) for u in users]
                )
                selectors.forget_unread(users)
                emails = list(
                    get_user_model()
                    .objects.filter(pk__in=users, is_active=True)
                    .values_list("email", flat=True)
                )
                case_services.notify_staff(order.case, emails, "order_escalated", text)
            audit.record(
                "supervision.order.escalate",
                order,
                summary=str(order.pk),
                detail={"to": above.pk if above else None, "notified": users},
            )
            done += 1
    return done
