"""Reads of ratings (好差评): what a case's applicant may rate, the guide's summary from the
per-item rollup, the follow-ups a staff member sees, and the ranking of departments and regions
from the per-department rollups."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import signing
from django.db.models import Q, QuerySet, Sum
from django.urls import reverse

from yiwang.cases.models import Case, CaseChannel
from yiwang.core.crypto import mask_text
from yiwang.core.pdf_page import qr_png

from .models import (
    BAD_AT_MOST,
    DepartmentRatingRollup,
    FollowUpStatus,
    ItemRatingRollup,
    Rating,
    RatingFollowUp,
    RatingStage,
)
from .ratings import (
    GUIDE_CACHE_KEY,
    INDICATORS,
    channel_of,
    is_rater,
    may_rerate,
    stage_happened,
)

LINK_SALT = "yiwang.supervision.rating-link"
# A QR code on a receipt or a counter screen opens the form for this long.
LINK_MAX_AGE = 180 * 24 * 3600
GUIDE_COMMENTS = 5
LIST_LIMIT = 200


# --- the applicant ---------------------------------------------------------------------------


@dataclass
class CaseRatings:
    """What the case page offers: the stages still open to rating, the ratings given, and the
    bad rating that may be re-rated now."""

    rateable: list[str] = field(default_factory=list)
    given: list[Rating] = field(default_factory=list)
    rerateable: Rating | None = None


def stages_of(case: Case) -> list[str]:
    stages = [RatingStage.FINISHED.value]
    if case.channel == CaseChannel.COUNTER:
        stages = [RatingStage.ACCEPTANCE.value, RatingStage.DECISION.value, *stages]
    return stages


def case_ratings(user: AbstractBaseUser | AnonymousUser, case: Case) -> CaseRatings:
    """For the case's applicant only (anyone else gets nothing): one query."""
    if not is_rater(user, case):
        return CaseRatings()
    given = list(Rating.objects.filter(case=case).select_related("follow_up").order_by("pk"))
    done = {r.stage for r in given if r.rerating_of_id is None}
    rateable = [s for s in stages_of(case) if s not in done and stage_happened(case, s)]
    rerated = {r.rerating_of_id for r in given if r.rerating_of_id}
    rerateable = next(
        (
            r
            for r in given
            if r.rerating_of_id is None
            and r.pk not in rerated
            and getattr(r, "follow_up", None) is not None
            and r.follow_up.status == FollowUpStatus.RECTIFIED
        ),
        None,
    )
    return CaseRatings(rateable=rateable, given=given, rerateable=rerateable)


def rating_for_rerate(user: AbstractBaseUser | AnonymousUser, case: Case, rating_id: int) -> Rating | None:
    r = Rating.objects.select_related("follow_up").filter(pk=rating_id, case=case).first()
    return r if r is not None and may_rerate(user, r) else None


def indicators_of(stage: str) -> list[tuple[str, str]]:
    """The stage's indicators besides the overall one: key and label in the reader's language."""
    return [(key, str(label)) for key, label in INDICATORS[channel_of(stage)]]


def signed_token(case: Case, stage: str) -> str:
    return signing.dumps({"n": case.number, "s": stage}, salt=LINK_SALT, compress=True)


def unsign(token: str) -> tuple[str, str] | None:
    """(case number, stage) of a QR link, or None if forged or too old."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") not in RatingStage.values:
        return None
    return str(data.get("n", "")), str(data["s"])


def rating_url(case: Case, stage: str) -> str:
    """The path a rating QR code opens (the applicant signs in if needed)."""
    return reverse("portal:rate_link", args=[signed_token(case, stage)])


def qr_data_uri(url: str) -> str:
    """A PNG QR code of ``url`` as a data: URI for an <img> (no request to a QR service)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(url).getvalue()).decode()


# --- the guide -------------------------------------------------------------------------------


@dataclass
class GuideRatings:
    count: int
    satisfied_share: float | None  # 0–100
    comments: list[dict]


def guide_cache_key(item_id: int, language: str) -> str:
    return GUIDE_CACHE_KEY.format(item=item_id, lang=language)


def guide_ratings(item_id: int) -> GuideRatings:
    """The item's rollup row and its latest published comments (names and numbers masked):
    two indexed queries, never a count over ratings."""
    roll = ItemRatingRollup.objects.filter(item_id=item_id).first()
    if roll is None or not roll.count:  # no rating, no comment: one query
        return GuideRatings(count=0, satisfied_share=None, comments=[])
    share = round(100 * roll.satisfied / roll.count, 1)
    comments = [
        {
            "name": r["rater_masked"],
            "score": r["score"],
            "comment": mask_text(r["comment"]),
            "at": r["created_at"],
        }
        for r in Rating.objects.filter(item_id=item_id, publish_comment=True, superseded=False)
        .order_by("-created_at")
        .values("rater_masked", "score", "comment", "created_at")[:GUIDE_COMMENTS]
    ]
    return GuideRatings(count=roll.count, satisfied_share=share, comments=comments)


def recount(item_id: int) -> tuple[int, int, int, int]:
    """(count, satisfied, bad, score sum) of the item counted from its ratings (for checks)."""
    qs = Rating.objects.filter(item_id=item_id, superseded=False)
    return (
        qs.count(),
        qs.filter(score__gte=4).count(),
        qs.filter(score__lte=BAD_AT_MOST).count(),
        qs.aggregate(s=Sum("score"))["s"] or 0,
    )


# --- staff -----------------------------------------------------------------------------------


def follow_ups(scope: Q, *, open_only: bool = False, limit: int = LIST_LIMIT) -> list[RatingFollowUp]:
    """Follow-ups on the cases of ``scope`` (a Q over cases, the workbench's case scope),
    open ones first by call day."""
    qs: QuerySet[RatingFollowUp] = RatingFollowUp.objects.filter(
        case__in=Case.objects.filter(scope).values("pk")
    )
    if open_only:
        qs = qs.exclude(status=FollowUpStatus.RECTIFIED)
    rows = list(qs.select_related("rating", "case", "department").order_by("call_due", "pk")[:limit])
    return sorted(rows, key=lambda f: f.status == FollowUpStatus.RECTIFIED)


def recent_ratings(scope: Q, limit: int = 50) -> list[Rating]:
    return list(
        Rating.objects.filter(case__in=Case.objects.filter(scope).values("pk"))
        .select_related("case", "department")
        .order_by("-created_at")[:limit]
    )


def follow_up_in_scope(scope: Q, follow_up_id: int) -> RatingFollowUp | None:
    return (
        RatingFollowUp.objects.filter(pk=follow_up_id, case__in=Case.objects.filter(scope).values("pk"))
        .select_related("rating", "case", "department", "called_by", "reported_by")
        .first()
    )


@dataclass
class RankRow:
    name: str
    count: int
    bad: int
    satisfied: int

    @property
    def bad_rate(self) -> float:
        return round(100 * self.bad / self.count, 1) if self.count else 0.0

    @property
    def satisfied_rate(self) -> float:
        return round(100 * self.satisfied / self.count, 1) if self.count else 0.0


def ranking(department_q: Q) -> tuple[list[RankRow], list[RankRow]]:
    """Departments and regions (a department's own region) ranked by bad-rating rate, worst
    first, from the per-department rollups of the departments in ``department_q`` (a Q over
    ``regions.Department``, prefix ``department__``)."""
    rows = list(
        DepartmentRatingRollup.objects.filter(department_q, count__gt=0)
        .select_related("department__region")
        .order_by("pk")
    )
    depts = [
        RankRow(f"{r.department.region.name} {r.department.name}", r.count, r.bad, r.satisfied) for r in rows
    ]
    regions: dict[int, RankRow] = {}
    for r in rows:
        reg = r.department.region
        row = regions.setdefault(reg.pk, RankRow(reg.name, 0, 0, 0))
        row.count += r.count
        row.bad += r.bad
        row.satisfied += r.satisfied

    def key(x: RankRow) -> tuple[float, int]:
        return (-x.bad_rate, -x.count)

    return sorted(depts, key=key), sorted(regions.values(), key=key)


def counter_case(user: AbstractBaseUser | AnonymousUser, number: str = "") -> Case | None:
    """The case a counter clerk just handled: the one named, else the latest case entered at a
    counter by this clerk."""
    qs = Case.objects.filter(entered_by_id=user.pk, channel=CaseChannel.COUNTER)
    if number:
        qs = qs.filter(number=number[:24])
    return qs.order_by("-updated_at", "-pk").first()


def counter_stage(case: Case) -> str | None:
    """The latest counter stage the case has reached, if it is not rated yet."""
    done = set(Rating.objects.filter(case=case, rerating_of__isnull=True).values_list("stage", flat=True))
    for stage in (RatingStage.DECISION, RatingStage.ACCEPTANCE):
        if stage_happened(case, stage):
            return None if stage in done else stage.value
    return None
