"""Ratings (好差评): the applicant rates a case online once it is finished, or at the counter
after acceptance and after the decision; a rating of 不满意 or worse opens a follow-up (整改)
for the case's department: a call back within 1 working day, a rectification report within 15;
then the applicant may re-rate once. Overdue follow-ups escalate once per missed day; a finished
case left unrated gets one reminder. Every action is one transaction and one audit entry; the
per-item and per-department rollups move in the same transaction as the rating. Cases,
departments and accounts are only read here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.cases import services as case_services
from yiwang.cases.models import Case, CaseChannel, CaseState
from yiwang.core import audit
from yiwang.core.errors import FieldError, NotPermitted, ValidationFailed
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Role, StaffRole
from yiwang.worktime import selectors as worktime

from . import figures
from .models import (
    BAD_AT_MOST,
    SATISFIED_AT_LEAST,
    DepartmentRatingRollup,
    FollowUpStatus,
    ItemRatingRollup,
    Level,
    Rating,
    RatingChannel,
    RatingFollowUp,
    RatingReminder,
    RatingStage,
    StaffNotice,
)
from .orders import supervisors_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FINISHED = (CaseState.DELIVERED, CaseState.CLOSED)
COMMENT_MAX = 500
NOTE_MAX = 2000
# The national indicators besides the overall satisfaction (``Rating.score``), per channel.
INDICATORS: dict[str, tuple[tuple[str, StrOrPromise], ...]] = {
    RatingChannel.ONLINE.value: (
        ("efficiency", gettext_lazy("办事效率")),
        ("guide_accuracy", gettext_lazy("办事指南精确度")),
        ("convenience", gettext_lazy("办事便捷度")),
        ("usability", gettext_lazy("平台操作性")),
    ),
    RatingChannel.COUNTER.value: (
        ("service_efficiency", gettext_lazy("服务效率")),
        ("service_level", gettext_lazy("服务水平")),
        ("service_attitude", gettext_lazy("服务态度")),
    ),
}
GUIDE_CACHE_KEY = "supervision:guide-ratings:{item}:{lang}"


def call_days() -> int:
    return int(getattr(settings, "YIWANG_RATING_CALL_DAYS", 1))


def rectify_days() -> int:
    return int(getattr(settings, "YIWANG_RATING_RECTIFY_DAYS", 15))


def reminder_after() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "YIWANG_RATING_REMIND_AFTER_DAYS", 3)))


def channel_of(stage: str) -> str:
    return RatingChannel.ONLINE if stage == RatingStage.FINISHED else RatingChannel.COUNTER


def stage_happened(case: Case, stage: str) -> bool:
    """Whether the case has reached ``stage``: finished (delivered or closed) for an online
    rating; for a case entered at a counter, accepted (or refused) and decided."""
    if stage == RatingStage.FINISHED:
        return case.state in FINISHED
    if case.channel != CaseChannel.COUNTER:
        return False
    if stage == RatingStage.ACCEPTANCE:
        return case.accepted_on is not None or case.state == CaseState.REFUSED
    if stage == RatingStage.DECISION:
        return case.decided_at is not None
    return False


def is_rater(user: AbstractBaseUser | AnonymousUser, case: Case) -> bool:
    """Only the case's applicant: the person who applied, for a company case the person who
    acted for it (``Case.applicant``)."""
    return bool(user.is_authenticated and user.pk == case.applicant_id)


def _masked_name(user_id: int) -> str:
    """陈** from the rater's verified name (the account's name is never shown whole)."""
    from yiwang.identity.models import Person

    name = Person.objects.filter(user_id=user_id).values_list("name", flat=True).first() or ""
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else "***"


def _clean(
    channel: str, score: object, indicators: Mapping[str, object], comment: str
) -> tuple[int, dict, str]:
    errors: list[FieldError] = []

    def level(field: str, value: object) -> int | None:
        try:
            v = int(str(value))
        except (TypeError, ValueError):
            v = 0
        if not 1 <= v <= 5:
            errors.append(FieldError(field, _("请选择一项。")))
            return None
        return v

    overall = level("score", score)
    clean: dict[str, int] = {}
    for key, _label in INDICATORS[channel]:
        v = level(key, indicators.get(key))
        if v is not None:
            clean[key] = v
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors.append(FieldError("comment", _("评价内容不能超过 %(n)s 个字。") % {"n": COMMENT_MAX}))
    if errors:
        raise ValidationFailed(errors)
    assert overall is not None
    return overall, clean, comment


def _roll(rating: Rating, sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) one rating in its item's and department's rollups."""
    satisfied = int(rating.score >= SATISFIED_AT_LEAST)
    bad = int(rating.score <= BAD_AT_MOST)
    change = {
        "count": F("count") + sign,
        "satisfied": F("satisfied") + sign * satisfied,
        "bad": F("bad") + sign * bad,
        "score_sum": F("score_sum") + sign * rating.score,
    }
    # The row first (a concurrent first rating of the item finds it there), then the increment.
    ItemRatingRollup.objects.bulk_create([ItemRatingRollup(item_id=rating.item_id)], ignore_conflicts=True)
    ItemRatingRollup.objects.filter(item_id=rating.item_id).update(**change)
    DepartmentRatingRollup.objects.bulk_create(
        [DepartmentRatingRollup(department_id=rating.department_id)], ignore_conflicts=True
    )
    DepartmentRatingRollup.objects.filter(department_id=rating.department_id).update(**change)


def forget_guide_fragment(item_id: int) -> None:
    """The guide's cached ratings fragment is read again after the commit."""
    keys = [GUIDE_CACHE_KEY.format(item=item_id, lang=code) for code, _n in settings.LANGUAGES]
    transaction.on_commit(lambda: cache.delete_many(keys))


def rate(
    user: AbstractBaseUser | AnonymousUser,
    case: Case,
    *,
    stage: str,
    score: object,
    indicators: Mapping[str, object] | None = None,
    comment: str = "",
    publish_comment: bool = False,
    today: dt.date | None = None,
) -> Rating:
    """The applicant's rating of ``case`` at ``stage``: once per case and stage, only after
    the stage happened. A score of 不满意 or worse opens a follow-up."""
    if stage not in RatingStage.values:
        raise ValidationFailed([FieldError("stage", _("没有这个评价环节。"))])
    if not is_rater(user, case):
        raise NotPermitted(_("只有本办件的申请人可以评价。"))
    if not stage_happened(case, stage):
        raise ValidationFailed([FieldError("stage", _("该环节尚未办理，暂不能评价。"))])
    assert user.pk is not None  # is_rater: signed in
    channel = channel_of(stage)
    overall, clean, comment = _clean(channel, score, indicators or {}, comment)
    if Rating.objects.filter(case=case, stage=stage, rerating_of__isnull=True).exists():
        raise ValidationFailed([FieldError("stage", _("您已评价过该环节。"))])
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case,
                item_id=case.item_id,
                department_id=case.department_id,
                channel=channel,
                stage=stage,
                score=overall,
                indicators=clean,
                comment=comment,
                publish_comment=bool(publish_comment and comment),
                rater_id=user.pk,
                rater_masked=_masked_name(user.pk),
            )
            _roll(rating, 1)
            figures.note_rating(case, overall)
            follow_up = _open_follow_up(rating, case, today) if overall <= BAD_AT_MOST else None
            audit.record(
                "supervision.rating.rate",
                rating,
                summary=f"{case.number} {stage} {overall}",
                detail={
                    "by": user.pk,
                    "case": case.pk,
                    "score": overall,
                    "follow_up": getattr(follow_up, "pk", None),
                },
            )
            forget_guide_fragment(case.item_id)
    except IntegrityError:  # a concurrent first rating of the same stage won
        raise ValidationFailed([FieldError("stage", _("您已评价过该环节。"))]) from None
    return rating


def _open_follow_up(rating: Rating, case: Case, today: dt.date | None) -> RatingFollowUp:
    start = today or timezone.localdate()
    return RatingFollowUp.objects.create(
        rating=rating,
        case=case,
        department_id=case.department_id,
        call_due=worktime.add_working_days(start, call_days()).date,
        report_due=worktime.add_working_days(start, rectify_days()).date,
    )


def may_rerate(user: AbstractBaseUser | AnonymousUser, rating: Rating) -> bool:
    """The rater may re-rate a bad rating once, after its follow-up's rectification report."""
    follow_up = getattr(rating, "follow_up", None)
    return bool(
        user.is_authenticated
        and rating.rater_id == user.pk
        and rating.rerating_of_id is None
        and follow_up is not None
        and follow_up.status == FollowUpStatus.RECTIFIED
        and not Rating.objects.filter(rerating_of=rating).exists()
    )


def rerate(
    user: AbstractBaseUser | AnonymousUser,
    rating_id: int,
    *,
    score: object,
    indicators: Mapping[str, object] | None = None,
    comment: str = "",
    publish_comment: bool = False,
) -> Rating:
    """The one re-rating of a bad rating after its follow-up: it replaces the original in the
    rollups. A bad re-rating opens no second follow-up (the loop ends; supervisors see it)."""
    try:
        with transaction.atomic():
            original = Rating.objects.select_for_update().select_related("case").get(pk=rating_id)
            if original.rater_id != user.pk:
                raise NotPermitted(_("只有本办件的申请人可以评价。"))
            if not may_rerate(user, original):
                raise ValidationFailed([FieldError("score", _("整改完成后可追评一次；本评价不能再追评。"))])
            overall, clean, comment = _clean(original.channel, score, indicators or {}, comment)
            rating = Rating.objects.create(
                case=original.case,
                item_id=original.item_id,
                department_id=original.department_id,
                channel=original.channel,
                stage=original.stage,
                score=overall,
                indicators=clean,
                comment=comment,
                publish_comment=bool(publish_comment and comment),
                rater_id=user.pk,
                rater_masked=original.rater_masked,
                rerating_of=original,
            )
            Rating.objects.filter(pk=original.pk).update(superseded=True)
            _roll(original, -1)
            _roll(rating, 1)
            figures.note_rating(
                original.case, overall, replaces=original.score, day=timezone.localdate(original.created_at)
            )
            audit.record(
                "supervision.rating.rerate",
                rating,
                summary=f"{original.case.number} {original.score}→{overall}",
                detail={"by": user.pk, "original": original.pk, "score": overall},
            )
            forget_guide_fragment(original.item_id)
    except IntegrityError:  # a concurrent re-rating won (rerating_of is unique)
        raise ValidationFailed([FieldError("score", _("整改完成后可追评一次；本评价不能再追评。"))]) from None
    return rating


# --- follow-ups -------------------------------------------------------------------------------


def may_follow_up(user: AbstractBaseUser | AnonymousUser, follow_up: RatingFollowUp) -> bool:
    """Staff holding a role in the department (its head or any of its staff), or a superuser."""
    return bool(
        user.is_authenticated
        and (
            getattr(user, "is_superuser", False)
            or StaffRole.objects.filter(user_id=user.pk, department_id=follow_up.department_id).exists()
        )
    )


def _note(field: str, text: str, empty: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed([FieldError(field, empty)])
    if len(text) > NOTE_MAX:
        raise ValidationFailed([FieldError(field, _("内容不能超过 %(n)s 个字。") % {"n": NOTE_MAX})])
    return text


def record_call(
    user: AbstractBaseUser | AnonymousUser,
    follow_up_id: int,
    *,
    note: str,
    called_at: dt.datetime | None = None,
) -> RatingFollowUp:
    """The department called the applicant back: when and what was said."""
    with transaction.atomic():
        f = RatingFollowUp.objects.select_for_update().get(pk=follow_up_id)
        if not may_follow_up(user, f):
            raise NotPermitted(_("只有被评价部门的工作人员可以办理整改。"))
        if f.status != FollowUpStatus.OPEN:
            raise ValidationFailed([FieldError("call_note", _("已记录回访。"))])
        text = _note("call_note", note, _("请填写回访记录。"))
        now = timezone.now()
        when = called_at or now
        if when > now:
            raise ValidationFailed([FieldError("called_at", _("回访时间不能晚于现在。"))])
        if when < f.opened_at - dt.timedelta(minutes=1):
            raise ValidationFailed([FieldError("called_at", _("回访时间不能早于差评时间。"))])
        f.status, f.called_at, f.call_note, f.called_by_id = FollowUpStatus.CALLED, when, text, user.pk
        f.save(update_fields=["status", "called_at", "call_note", "called_by"])
        audit.record("supervision.followup.call", f, summary=str(f.pk), detail={"by": user.pk, "at": when})
    return f


def report(user: AbstractBaseUser | AnonymousUser, follow_up_id: int, *, text: str) -> RatingFollowUp:
    """The rectification report, after the call: the applicant may then re-rate once."""
    with transaction.atomic():
        f = RatingFollowUp.objects.select_for_update().get(pk=follow_up_id)
        if not may_follow_up(user, f):
            raise NotPermitted(_("只有被评价部门的工作人员可以办理整改。"))
        if f.status == FollowUpStatus.OPEN:
            raise ValidationFailed([FieldError("report", _("请先记录回访。"))])
        if f.status == FollowUpStatus.RECTIFIED:
            raise ValidationFailed([FieldError("report", _("已提交整改报告。"))])
        f.report = _note("report", text, _("请填写整改报告。"))
        f.status, f.reported_at, f.reported_by_id = FollowUpStatus.RECTIFIED, timezone.now(), user.pk
        f.save(update_fields=["status", "report", "reported_at", "reported_by"])
        case = Case.objects.select_related("applicant").get(pk=f.case_id)
        case_services.notify_applicant(
            case,
            "rating_rectified",
            _("您对办件 %(n)s 的评价已整改完毕，欢迎再次评价。") % {"n": case.number},
        )
        audit.record("supervision.followup.report", f, summary=str(f.pk), detail={"by": user.pk})
    return f


@dataclass
class Escalated:
    call: int = 0
    report: int = 0


def _escalation_targets(f: RatingFollowUp) -> list[int]:
    """The department's heads and the supervisors of its region and of the region above."""
    heads = [pk for pk, _n in identity_selectors.role_holders(f.department_id, Role.DEPARTMENT_HEAD)]
    region = f.department.region
    users = heads + supervisors_of(region) + (supervisors_of(region.parent) if region.parent_id else [])
    return list(dict.fromkeys(users))


def escalate_overdue(*, today: dt.date | None = None) -> Escalated:
    """Follow-ups past their call day (not called) or report day (not reported): each missed
    day escalates once (a compare-and-set on its ``*_escalated_at``), with a red notice and an
    e-mail to the department's heads and the supervisors above."""
    today = today or timezone.localdate()
    done = Escalated()
    late_call = Q(status=FollowUpStatus.OPEN, call_due__lt=today, call_escalated_at__isnull=True)
    late_report = Q(
        status__in=[FollowUpStatus.OPEN, FollowUpStatus.CALLED],
        report_due__lt=today,
        report_escalated_at__isnull=True,
    )
    rows = RatingFollowUp.objects.filter(late_call | late_report).select_related(
        "department__region__parent", "case"
    )
    for f in rows:
        for what, field, due, missed in (
            ("call", "call_escalated_at", f.call_due, f.status == FollowUpStatus.OPEN),
            ("report", "report_escalated_at", f.report_due, True),
        ):
            if not missed or due >= today or getattr(f, field) is not None:
                continue
            with transaction.atomic():
                if not RatingFollowUp.objects.filter(pk=f.pk, **{f"{field}__isnull": True}).update(
                    **{field: timezone.now()}
                ):
                    continue
                users = _escalation_targets(f)
                text = (
                    _("差评整改 %(n)s（办件 %(c)s）逾期未回访（期限 %(d)s），已上报。")
                    if what == "call"
                    else _("差评整改 %(n)s（办件 %(c)s）逾期未提交整改报告（期限 %(d)s），已上报。")
                ) % {"n": f.pk, "c": f.case.number, "d": due}
                StaffNotice.objects.bulk_create(
                    [StaffNotice(user_id=u, case=f.case, level=Level.RED, text=text) for u in users]
                )
                emails = list(
                    get_user_model()
                    .objects.filter(pk__in=users, is_active=True)
                    .values_list("email", flat=True)
                )
                case_services.notify_staff(f.case, emails, "followup_escalated", text)
                audit.record(
                    f"supervision.followup.escalate_{what}",
                    f,
                    summary=str(f.pk),
                    detail={"due": str(due), "notified": users},
                )
                setattr(done, what, getattr(done, what) + 1)
    return done


# --- reminders --------------------------------------------------------------------------------


def remind_unrated(*, now: dt.datetime | None = None, window_days: int = 30) -> int:
    """One reminder for each case finished more than 3 days ago (within ``window_days`` before
    that: older cases are past reminding) with no online rating. The reminder row is written
    first, in the transaction of the message, so a second run (or two at once) never sends
    twice. Returns how many were sent."""
    now = now or timezone.now()
    latest = now - reminder_after()
    earliest = latest - dt.timedelta(days=window_days)
    finished_at = Coalesce("delivered_at", "closed_at")
    candidates = (
        Case.objects.filter(state__in=FINISHED)
        .exclude(bundle_role="branch")
        .annotate(finished_at=finished_at)
        .filter(finished_at__lte=latest, finished_at__gt=earliest)
        .exclude(pk__in=RatingReminder.objects.values("case_id"))
        .exclude(pk__in=Rating.objects.filter(stage=RatingStage.FINISHED).values("case_id"))
        .select_related("applicant__person")
        .order_by("pk")
    )
    sent = 0
    for case in candidates.iterator(chunk_size=200):
        try:
            with transaction.atomic():
                RatingReminder.objects.create(case=case)
                case_services.notify_applicant(
                    case,
                    "rating_reminder",
                    _("您的办件 %(n)s 已办结，欢迎对本次服务进行评价。") % {"n": case.number},
                )
                audit.record("supervision.rating.remind", case, summary=case.number)
        except IntegrityError:  # another run reminded this case
            continue
        sent += 1
    return sent
