"""Ratings (好差评): one rating per case and stage, only the applicant, only after the stage;
follow-up deadlines in working days across a holiday; escalation once; one re-rating after the
rectification; reminders once; the guide's rollup equal to a recount."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from tests.cases.conftest import staff, submitted_case
from tests.supervision.test_orders import THURSDAY, holiday
from yiwang.cases.models import Case, CaseChannel, CaseState, OutboxMessage
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role
from yiwang.supervision import rating_selectors, ratings
from yiwang.supervision.models import (
    DepartmentRatingRollup,
    FollowUpStatus,
    ItemRatingRollup,
    Rating,
    RatingFollowUp,
    RatingReminder,
    StaffNotice,
)

ONLINE = {"efficiency": 5, "guide_accuracy": 4, "convenience": 5, "usability": 4}
COUNTER = {"service_efficiency": 5, "service_level": 5, "service_attitude": 5}


def finished(case: Case, *, days_ago: int = 0, **extra) -> Case:
    at = timezone.now() - dt.timedelta(days=days_ago)
    Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED, closed_at=at, decided_at=at, **extra)
    case.refresh_from_db()
    return case


def test_one_rating_per_case_and_stage(world):
    case = finished(submitted_case(world))
    r = ratings.rate(world.applicant, case, stage="finished", score=5, indicators=ONLINE, comment="很好")
    assert r.channel == "online" and r.rater_masked.endswith("*") and len(r.rater_masked) >= 2
    with pytest.raises(ValidationFailed) as e:
        ratings.rate(world.applicant, case, stage="finished", score=4, indicators=ONLINE)
    assert e.value.errors[0].field == "stage"
    assert Rating.objects.filter(case=case).count() == 1
    assert AuditEntry.objects.filter(action="supervision.rating.rate").count() == 1


def test_only_the_applicant_only_after_the_stage(world):
    case = submitted_case(world)
    with pytest.raises(ValidationFailed):  # not finished yet
        ratings.rate(world.applicant, case, stage="finished", score=5, indicators=ONLINE)
    with pytest.raises(ValidationFailed):  # counter stages only for a case entered at a counter
        ratings.rate(world.applicant, case, stage="acceptance", score=5, indicators=COUNTER)
    case = finished(case)
    for other in (world.clerk, world.head, world.outsider):
        with pytest.raises(NotPermitted):
            ratings.rate(other, case, stage="finished", score=5, indicators=ONLINE)
    assert not Rating.objects.exists()


def test_counter_stages_each_once(world):
    case = submitted_case(world)
    Case.objects.filter(pk=case.pk).update(
        channel=CaseChannel.COUNTER, accepted_on=timezone.localdate(), state=CaseState.ACCEPTED
    )
    case.refresh_from_db()
    ratings.rate(world.applicant, case, stage="acceptance", score=5, indicators=COUNTER)
    with pytest.raises(ValidationFailed):
        ratings.rate(world.applicant, case, stage="decision", score=5, indicators=COUNTER)
    case = finished(case)
    ratings.rate(world.applicant, case, stage="decision", score=4, indicators=COUNTER)
    ratings.rate(world.applicant, case, stage="finished", score=4, indicators=ONLINE)
    assert rating_selectors.case_ratings(world.applicant, case).rateable == []


def test_bad_input_is_refused_per_field(world):
    case = finished(submitted_case(world))
    with pytest.raises(ValidationFailed) as e:
        ratings.rate(
            world.applicant, case, stage="finished", score=9, indicators={"efficiency": 3}, comment="x" * 501
        )
    assert {f.field for f in e.value.errors} == {
        "score",
        "guide_accuracy",
        "convenience",
        "usability",
        "comment",
    }


def test_follow_up_deadlines_in_working_days_across_a_holiday(world):
    case = finished(submitted_case(world))
    holiday(dt.date(2025, 3, 7))  # Friday
    r = ratings.rate(world.applicant, case, stage="finished", score=2, indicators=ONLINE, today=THURSDAY)
    f = RatingFollowUp.objects.get(rating=r)
    assert f.department_id == world.dept.pk and f.status == FollowUpStatus.OPEN
    assert f.call_due == dt.date(2025, 3, 10)  # Friday holiday, weekend: Monday
    # 15 working days after Thursday 6 March with Friday off: Friday 28 March
    assert f.report_due == dt.date(2025, 3, 28)
    # a 基本满意 opens none
    case2 = finished(submitted_case(world))
    ratings.rate(world.applicant, case2, stage="finished", score=3, indicators=ONLINE)
    assert RatingFollowUp.objects.count() == 1


def test_follow_up_then_one_rerating_replacing_the_original(world):
    case = finished(submitted_case(world))
    r = ratings.rate(world.applicant, case, stage="finished", score=1, indicators=ONLINE, comment="太慢")
    f = r.follow_up
    with pytest.raises(ValidationFailed):  # not yet rectified
        ratings.rerate(world.applicant, r.pk, score=5, indicators=ONLINE)
    with pytest.raises(NotPermitted):  # another department's staff
        ratings.record_call(world.other_dept_approver, f.pk, note="x")
    with pytest.raises(ValidationFailed):  # report before the call
        ratings.report(world.head, f.pk, text="x")
    ratings.record_call(world.head, f.pk, note="已电话联系申请人，了解情况")
    ratings.report(world.head, f.pk, text="已优化流程")
    f.refresh_from_db()
    assert f.status == FollowUpStatus.RECTIFIED and f.called_by_id == world.head.pk
    with pytest.raises(NotPermitted):
        ratings.rerate(world.clerk, r.pk, score=5, indicators=ONLINE)
    again = ratings.rerate(
        world.applicant, r.pk, score=5, indicators=ONLINE, comment="改进了", publish_comment=True
    )
    assert again.rerating_of_id == r.pk
    with pytest.raises(ValidationFailed):
        ratings.rerate(world.applicant, r.pk, score=5, indicators=ONLINE)
    roll = ItemRatingRollup.objects.get(item_id=case.item_id)
    assert (roll.count, roll.satisfied, roll.bad) == (1, 1, 0)
    assert rating_selectors.recount(case.item_id) == (roll.count, roll.satisfied, roll.bad, roll.score_sum)
    # The figures (效能) agree: one rating, satisfied after the re-rating.
    from yiwang.supervision import figures
    from yiwang.supervision.models import DailyFigure

    figures.fold()
    rows = DailyFigure.objects.filter(item_id=case.item_id)
    assert (sum(r.rated for r in rows), sum(r.satisfied for r in rows)) == (1, 1)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "supervision.followup.call",
        "supervision.followup.report",
        "supervision.rating.rerate",
    } <= actions


def test_overdue_follow_up_escalates_once_per_missed_day(world):
    sup_county = staff("sup_c", Role.SUPERVISOR, region=world.regions["county"])
    sup_city = staff("sup_ci", Role.SUPERVISOR, region=world.regions["city"])
    case = finished(submitted_case(world))
    r = ratings.rate(world.applicant, case, stage="finished", score=2, indicators=ONLINE, today=THURSDAY)
    f = r.follow_up
    assert ratings.escalate_overdue(today=dt.date(2025, 3, 7)).call == 0  # due Friday: not late yet
    done = ratings.escalate_overdue(today=dt.date(2025, 3, 10))
    assert (done.call, done.report) == (1, 0)
    assert ratings.escalate_overdue(today=dt.date(2025, 3, 11)).call == 0  # once
    notified = set(StaffNotice.objects.values_list("user_id", flat=True))
    assert {world.head.pk, sup_county.pk, sup_city.pk} <= notified
    n = StaffNotice.objects.count()
    ratings.record_call(world.head, f.pk, note="回访")
    late = ratings.escalate_overdue(today=dt.date(2025, 4, 30))
    assert (late.call, late.report) == (0, 1)
    assert ratings.escalate_overdue(today=dt.date(2025, 5, 30)).report == 0
    assert StaffNotice.objects.count() == 2 * n
    assert AuditEntry.objects.filter(action__startswith="supervision.followup.escalate").count() == 2


def test_reminder_once_for_a_finished_unrated_case(world):
    old = finished(submitted_case(world), days_ago=4)
    recent = finished(submitted_case(world), days_ago=1)
    rated = finished(submitted_case(world), days_ago=5)
    ratings.rate(world.applicant, rated, stage="finished", score=5, indicators=ONLINE)
    before = OutboxMessage.objects.count()
    assert ratings.remind_unrated() == 1
    assert ratings.remind_unrated() == 0
    assert list(RatingReminder.objects.values_list("case_id", flat=True)) == [old.pk]
    assert OutboxMessage.objects.filter(template="rating_reminder", case=old).count() >= 1
    assert OutboxMessage.objects.count() > before
    assert not RatingReminder.objects.filter(case=recent).exists()


def test_guide_aggregate_equals_a_recount(world):
    rnd = random.Random(19)
    cases = [finished(submitted_case(world)) for _ in range(12)]
    bad = []
    for c in cases:
        r = ratings.rate(
            world.applicant,
            c,
            stage="finished",
            score=rnd.randint(1, 5),
            indicators=ONLINE,
            comment="评价" if rnd.random() < 0.5 else "",
            publish_comment=True,
        )
        if r.score <= 2:
            bad.append(r)
    for r in bad[:2]:  # some bad ratings followed up and re-rated
        ratings.record_call(world.head, r.follow_up.pk, note="回访")
        ratings.report(world.head, r.follow_up.pk, text="整改")
        ratings.rerate(world.applicant, r.pk, score=rnd.randint(1, 5), indicators=ONLINE)
    roll = ItemRatingRollup.objects.get(item_id=world.item.pk)
    assert (roll.count, roll.satisfied, roll.bad, roll.score_sum) == rating_selectors.recount(world.item.pk)
    dept = DepartmentRatingRollup.objects.get(department=world.dept)
    assert (dept.count, dept.bad) == (roll.count, roll.bad)
    g = rating_selectors.guide_ratings(world.item.pk)
    assert g.count == 12
    assert g.satisfied_share == round(100 * roll.satisfied / 12, 1)
    assert all(c["name"].endswith("*") for c in g.comments)
    depts, regions = rating_selectors.ranking(rating_selectors.Q())
    assert depts[0].count == 12 and regions[0].bad == roll.bad


def test_signed_link_round_trip_and_forgery(world):
    case = submitted_case(world)
    token = rating_selectors.signed_token(case, "finished")
    assert rating_selectors.unsign(token) == (case.number, "finished")
    assert rating_selectors.unsign(token + "x") is None


def test_demo_ratings_are_worth_looking_at_and_idempotent(world):
    from yiwang.cases.demo import create_demo_cases
    from yiwang.supervision.demo import create_demo_ratings

    world.applicant.username = "chenyt"  # the world's applicant is the demo's 陈雅婷
    world.applicant.save(update_fields=["username"])
    create_demo_cases()
    login = create_demo_ratings()
    assert login and login[0][0] == "supervisor_city"
    n = Rating.objects.count()
    create_demo_ratings()
    assert Rating.objects.count() == n == 7  # four good, two bad, one re-rating
    assert RatingFollowUp.objects.filter(status=FollowUpStatus.OPEN).count() == 1
    assert Rating.objects.filter(rerating_of__isnull=False).count() == 1
    item_id = Rating.objects.values_list("item_id", flat=True).first()
    g = rating_selectors.guide_ratings(item_id)
    assert g.count == 6 and len(g.comments) == 5
