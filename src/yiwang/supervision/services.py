"""Writes of the supervision app: each running case's warning level (green / yellow / red on
its working-day clock), the notices of a change to yellow or red, and the flagged events of a
case's processing. Cases are only read here; e-mails go through the cases app's outbox
(``cases.services.notify_staff``). Levels and flags stay in supervision's tables and the case
page shows them through ``supervision.selectors.case_panel``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.models import Case, ClockPause, CorrectionRequest, MaterialStatus
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Role
from yiwang.workflow import selectors as wf_selectors
from yiwang.worktime import selectors as worktime

from . import rules, selectors
from .models import CaseWarning, Flag, Level, Rule, StaffNotice

RUNNING = case_selectors.RUNNING
BATCH = 500
# Closed pauses still checked for their length: those that ended between two sweeps.
CLOSED_WINDOW_DAYS = 7


@dataclass
class SweepResult:
    checked: int = 0
    changed: int = 0
    notified: int = 0
    cleared: int = 0
    flagged: int = 0


# --- warning levels ------------------------------------------------------------------------------


def current_day() -> dt.date:
    return timezone.localdate()


def _running_cases(ids: list[int] | None, after: int, limit: int) -> list[Case]:
    qs = Case.objects.filter(state__in=RUNNING, accepted_on__isnull=False, limit_days__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return list(
        qs.filter(pk__gt=after)
        .order_by("pk")
        .only("pk", "number", "state", "accepted_on", "limit_days", "due_date", "department_id")
        .prefetch_related("pauses")[:limit]
    )


def recompute(cases: list[Case], today: dt.date | None = None) -> SweepResult:
    """The level of each case (read with its pauses) from its time left; a changed level is
    written with a compare-and-set on the old one, so that of two sweeps at once only one
    notifies. A change to yellow or red notifies the handling staff and the department head."""
    today = today or current_day()
    result = SweepResult(checked=len(cases))
    rows = {w.case_id: w for w in CaseWarning.objects.filter(case_id__in=[c.pk for c in cases])}
    now = timezone.now()
    moved: list[CaseWarning] = []  # same level, other days left: one UPDATE for the batch
    for case in cases:
        t = case_selectors.time_left(case, today, pauses=list(case.pauses.all()))
        level = rules.level_of(t.days_left, t.state, case.limit_days)
        row = rows.get(case.pk)
        if row is not None and row.level == level:
            if row.days_left != t.days_left or row.due != t.due:
                row.days_left, row.due, row.checked_at = t.days_left, t.due, now
                moved.append(row)
            continue
        with transaction.atomic():
            if row is None:
                try:
                    with transaction.atomic():
                        CaseWarning.objects.create(
                            case=case,
                            level=level,
                            changed_at=now,
                            checked_at=now,
                            days_left=t.days_left,
                            due=t.due,
                        )
                except IntegrityError:  # another sweep wrote it first
                    continue
            elif not CaseWarning.objects.filter(pk=row.pk, level=row.level).update(
                level=level, changed_at=now, checked_at=now, days_left=t.days_left, due=t.due
            ):
                continue  # changed meanwhile by another sweep
            result.changed += 1
            if level != Level.GREEN:
                result.notified += _notify(case, level, t.days_left, t.due)
    if moved:
        CaseWarning.objects.bulk_update(moved, ["days_left", "due", "checked_at"])
    return result


def recompute_case(case: Case, today: dt.date | None = None) -> SweepResult:
    """One case's level after one of its steps, from the case as the step holds it (the signals
    are sent before the step saves the row); a case no longer running loses its row."""
    if case.state not in RUNNING or case.accepted_on is None or case.limit_days is None:
        return SweepResult(cleared=CaseWarning.objects.filter(case_id=case.pk).delete()[0])
    return recompute([case], today)


def sweep(*, batch_size: int = BATCH, today: dt.date | None = None) -> SweepResult:
    """Every running case's level, ``batch_size`` cases at a time in id order (a keyset, no
    lock on cases), then the rows of cases no longer running dropped and long suspensions
    flagged. Run by the periodic job ``supervision.sweep_warnings``."""
    total = SweepResult()
    after = 0
    while batch := _running_cases(None, after, batch_size):
        after = batch[-1].pk
        r = recompute(batch, today)
        total.checked += r.checked
        total.changed += r.changed
        total.notified += r.notified
    total.cleared = _clear_finished(batch_size)
    total.flagged = flag_long_pauses(today=today, batch_size=batch_size)
    return total


def _clear_finished(batch_size: int) -> int:
    cleared, after = 0, 0
    while True:
        ids = list(
            CaseWarning.objects.filter(pk__gt=after).order_by("pk").values_list("pk", "case_id")[:batch_size]
        )
        if not ids:
            return cleared
        after = ids[-1][0]
        running = set(
            Case.objects.filter(pk__in=[c for _, c in ids], state__in=RUNNING).values_list("pk", flat=True)
        )
        gone = [pk for pk, case_id in ids if case_id not in running]
        if gone:
            cleared += CaseWarning.objects.filter(pk__in=gone).delete()[0]


def handlers_of(case: Case) -> list[int]:
    """Who handles ``case`` now: each open staff task's assignee, else the holders of the task's
    role in its department; then the department's heads."""
    users: list[int] = []
    for task in wf_selectors.open_tasks(case):
        if task.role not in wf_selectors.STAFF_ROLES_BY_STEP_ROLE:
            continue
        if task.assignee_id:
            users.append(task.assignee_id)
        else:
            users += [
                pk
                for pk, _ in identity_selectors.role_holders(
                    task.department_id or case.department_id, task.role
                )
            ]
    users += [pk for pk, _ in identity_selectors.role_holders(case.department_id, Role.DEPARTMENT_HEAD)]
    return list(dict.fromkeys(users))


def _notify(case: Case, level: str, days_left: int | None, due: dt.date | None) -> int:
    """In-app notices and e-mails for one change of level."""
    if level == Level.RED:
        text = _("办件 %(n)s 已超过办理期限 %(due)s（红色预警）。") % {"n": case.number, "due": due}
    else:
        text = _("办件 %(n)s 剩余 %(d)s 个工作日，办理期限 %(due)s（黄色预警）。") % {
            "n": case.number,
            "d": days_left,
            "due": due,
        }
    users = handlers_of(case)
    StaffNotice.objects.bulk_create(
        [StaffNotice(user_id=u, case=case, level=level, text=text) for u in users]
    )
    selectors.forget_unread(users)
    emails = list(
        get_user_model().objects.filter(pk__in=users, is_active=True).values_list("email", flat=True)
    )
    case_services.notify_staff(case, emails, f"warning_{level}", text)
    return len(users)


# --- flagged events ------------------------------------------------------------------------------


def flag(case: Case, rule: str, detail: str, *, key: str = "") -> bool:
    """Record ``rule`` on ``case`` once (per ``key``): True when it is new."""
    try:
        with transaction.atomic():
            Flag.objects.create(case=case, rule=rule, key=key, detail=detail[:300])
    except IntegrityError:
        return False
    return True


def check_second_correction(case: Case) -> bool:
    n = CorrectionRequest.objects.filter(case_id=case.pk).count()
    if n < 2:
        return False
    return flag(case, Rule.SECOND_CORRECTION, _("同一办件第 %(n)s 次要求补正。") % {"n": n})


def check_materials_at_decision(case: Case) -> bool:
    """A decision while a current material is not marked 合格, or a required one is missing."""
    materials = list(case.materials.filter(replaced=False).values_list("requirement", "status"))
    unchecked = [name for name, status in materials if status != MaterialStatus.OK]
    version = getattr(case, "item_version", None)
    required = [
        m.get("name")
        for m in ((version.elements.get("materials") if version else None) or [])
        if m.get("required", True)
    ]
    ok = {name for name, status in materials if status == MaterialStatus.OK}
    missing = [name for name in required if name and name not in ok and name not in unchecked]
    names = unchecked + missing
    if not names:
        return False
    return flag(
        case, Rule.UNCHECKED_MATERIALS, _("作出决定时未审核合格的材料：%(m)s") % {"m": "、".join(names)}
    )


def flag_long_pauses(*, today: dt.date | None = None, batch_size: int = BATCH) -> int:
    """Pauses of a kind with an allowed length (``rules.pause_allowed_days``) that lasted, or
    have lasted until ``today``, longer: one flag per pause. Open pauses are read, and those
    closed in the last ``CLOSED_WINDOW_DAYS`` days (a pause that ended between two sweeps)."""
    today = today or current_day()
    flagged, after = 0, 0
    kinds = [k for k in rules.PAUSE_ALLOWED_DAYS if rules.pause_allowed_days(k) is not None]
    recent = Q(end__isnull=True) | Q(end__gte=today - dt.timedelta(days=CLOSED_WINDOW_DAYS))
    while True:
        pauses = list(
            ClockPause.objects.filter(recent, pk__gt=after, kind__in=kinds)
            .select_related("case")
            .order_by("pk")[:batch_size]
        )
        if not pauses:
            return flagged
        after = pauses[-1].pk
        done = set(
            Flag.objects.filter(rule=Rule.LONG_SUSPENSION, key__in=[str(p.pk) for p in pauses]).values_list(
                "key", flat=True
            )
        )
        for p in pauses:
            if str(p.pk) in done:
                continue
            allowed = rules.pause_allowed_days(p.kind) or 0
            lasted = worktime.working_days_between(p.start, p.end or today)
            if lasted > allowed:
                detail = _("%(kind)s已 %(n)s 个工作日，超过允许的 %(a)s 个工作日；原因：%(r)s") % {
                    "kind": p.get_kind_display(),
                    "n": lasted,
                    "a": allowed,
                    "r": p.reason,
                }
                flagged += flag(p.case, Rule.LONG_SUSPENSION, detail, key=str(p.pk))


# --- in-app notices ------------------------------------------------------------------------------


def mark_read(user_id: int, notice_ids: list[int] | None = None) -> int:
    """Mark the user's unread notices read (the given ones, or all); returns how many."""
    qs = StaffNotice.objects.filter(user_id=user_id, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    selectors.forget_unread([user_id])
    return qs.update(read_at=timezone.now())
