"""Figures (效能): deltas written by the steps, folded into the day rollups, equal to a recount
from the cases after a random workload; ratings; the rebuild command."""

from __future__ import annotations

import datetime as dt
import random
from unittest import mock

import pytest
from django.core.management import call_command

from tests.cases.conftest import filled_application
from yiwang.cases import actions
from yiwang.cases import services as case_services
from yiwang.cases.models import CaseChannel, CaseMaterial, DeliveryMethod, MaterialOrigin
from yiwang.core.errors import ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.supervision import figures
from yiwang.supervision.models import FIGURE_COLUMNS, DailyFigure, FigureDelta

MONDAY = dt.date(2025, 3, 3)


def rollups() -> dict:
    return {
        (f.day, f.region_id, f.department_id, f.item_id): {c: getattr(f, c) for c in FIGURE_COLUMNS}
        for f in DailyFigure.objects.all()
        if any(getattr(f, c) for c in FIGURE_COLUMNS)
    }


def _submit(world, rng: random.Random):
    item = world.instant_item if rng.random() < 0.25 else world.item
    app = filled_application(world, item)
    delivery = rng.choice([DeliveryMethod.ELECTRONIC, DeliveryMethod.COUNTER])
    case_services.save_draft(app, user=world.applicant, data=app.data, delivery_method=delivery)
    if rng.random() < 0.4:  # entered at a counter
        type(app).objects.filter(pk=app.pk).update(channel=CaseChannel.COUNTER)
        app.refresh_from_db()
    return case_services.submit(app, user=world.applicant)


def _drive(world, case, rng: random.Random, day: dt.date):
    """One case through a random path of real steps, each on ``day`` or a few days later."""
    with mock.patch("yiwang.cases.actions.CaseAction.today", return_value=day):
        if rng.random() < 0.35:
            items = [{"field": "phone", "reason": "电话无法接通"}]
            case = actions.RequestCorrection(case, world.clerk, items=items).run()
            case = actions.ApplicantCorrects(case, world.applicant, data={"phone": "13900000001"}).run()
        if rng.random() < 0.15:
            return actions.RefuseToAccept(case, world.clerk, reasons="不属于受理范围").run()
        if rng.random() < 0.1:
            return case  # left waiting
        case = actions.Accept(case, world.clerk).run()
    if rng.random() < 0.15:
        return case  # under way
    if rng.random() < 0.3:
        CaseMaterial.objects.filter(case=case).update(origin=MaterialOrigin.E_CERTIFICATE)
    later = day + dt.timedelta(days=rng.choice([0, 1, 3, 20]))
    with mock.patch("yiwang.cases.actions.CaseAction.today", return_value=later):
        if case.state != "approved" and not case.outcome:
            if "review" in {t.spec_name for t in _open(case)}:
                case = actions.Review(case, world.approver, decision="pass").run()
            decision = rng.choice(["approve", "approve", "deny"])
            case = actions.Decide(case, world.head, decision=decision, reasons="不符合条件").run()
        if rng.random() < 0.5:
            case = actions.Deliver(case, world.clerk, method="electronic").run()
            case = actions.Close(case, world.clerk).run()
    return case


def _open(case):
    from yiwang.workflow import selectors as wf_selectors

    return list(wf_selectors.open_tasks(case))


@pytest.mark.django_db
def test_rollups_equal_a_recount_after_a_random_workload(world):
    rng = random.Random(19)
    for i in range(14):
        case = _submit(world, rng)
        _drive(world, case, rng, MONDAY + dt.timedelta(days=i % 5))
    assert FigureDelta.objects.exists()
    figures.note_rating(case, 5)
    figures.fold()
    assert not FigureDelta.objects.exists()
    folded = rollups()
    recounted = {k: v for k, v in figures.recount().items() if any(v.values())}
    # Ratings are not counted from cases: compare them apart.
    for counts in folded.values():
        counts_without = {c: v for c, v in counts.items() if c not in ("rated", "satisfied")}
        counts.clear()
        counts.update(counts_without)
    for counts in recounted.values():
        for c in ("rated", "satisfied"):
            counts.pop(c)
    assert folded == {k: v for k, v in recounted.items() if any(v.values())}
    totals = {c: sum(v[c] for v in folded.values()) for c in ("received", "decided", "corrections")}
    assert totals["received"] == 14
    assert totals["decided"] > 0 and totals["corrections"] > 0

    before = rollups()
    call_command("rebuild_figures")
    assert rollups() == before  # the ratings kept, every other column equal to the recount
    call_command("rebuild_figures", since=MONDAY.isoformat())
    assert rollups() == before  # idempotent
    assert AuditEntry.objects.filter(action="supervision.figures.rebuild").count() == 2


@pytest.mark.django_db
def test_the_columns_of_one_case(world):
    app = filled_application(world)
    case_services.save_draft(app, user=world.applicant, data=app.data, delivery_method=DeliveryMethod.COUNTER)
    case = case_services.submit(app, user=world.applicant)
    with mock.patch("yiwang.cases.actions.CaseAction.today", return_value=MONDAY):
        case = actions.Accept(case, world.clerk).run()
        case = actions.Review(case, world.approver, decision="pass").run()
        case = actions.Decide(case, world.head, decision="approve").run()
    figures.fold()
    total = {c: sum(getattr(f, c) for f in DailyFigure.objects.all()) for c in FIGURE_COLUMNS}
    assert total["received"] == total["accepted"] == total["decided"] == total["approved"] == 1
    assert total["fully_online"] == 0 and total["one_visit"] == 1  # web, collected at a counter
    assert total["timed"] == 1 and total["promised_days"] == 10
    # Accepted on 2025-03-03 with 10 working days, decided today (long after): overdue.
    assert total["overdue"] == 1 and total["on_time"] == 0
    assert total["days_used"] > 10


def test_visits_rule():
    assert figures.visits(CaseChannel.WEB, DeliveryMethod.ELECTRONIC) == 0
    assert figures.visits(CaseChannel.WEB, DeliveryMethod.COURIER) == 0
    assert figures.visits(CaseChannel.COUNTER, DeliveryMethod.ELECTRONIC) == 1
    assert figures.visits(CaseChannel.COUNTER, DeliveryMethod.COUNTER) == 2


@pytest.mark.django_db
def test_note_rating_counts_ratings_and_satisfied(world):
    from tests.cases.conftest import submitted_case

    case = submitted_case(world)
    for score in (5, 4, 3, 2, 1):
        figures.note_rating(case, score)
    with pytest.raises(ValidationFailed):
        figures.note_rating(case, 6)
    with pytest.raises(ValidationFailed):
        figures.note_rating(case, True)
    figures.fold()
    row = DailyFigure.objects.get()
    # One rule with the guide and the ranking: 满意 and 非常满意 are satisfied.
    assert (row.rated, row.satisfied) == (5, 2)
    figures.rebuild()
    row = DailyFigure.objects.get()
    assert (row.rated, row.satisfied, row.received) == (5, 2, 1)
    # A re-rating changes the satisfied count, not the number rated.
    figures.note_rating(case, 5, replaces=1)
    figures.note_rating(case, 4, replaces=5)
    figures.fold()
    row = DailyFigure.objects.get()
    assert (row.rated, row.satisfied) == (5, 3)


@pytest.mark.django_db
def test_fold_command_and_lag(world):
    from tests.cases.conftest import submitted_case

    submitted_case(world)
    lag = figures.lag()
    assert lag.pending == 1 and lag.oldest is not None
    call_command("fold_figures")
    assert figures.lag().pending == 0
    assert figures.lag().folded_at is not None


def test_rebuild_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_figures", since="2025-13-01")


def test_demo_cases_have_figures(db, django_capture_on_commit_callbacks):
    from tests import factories
    from yiwang.catalog import services as catalog

    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    catalog.publish(factories.implementation(factories.standard_item(), dept))
    with django_capture_on_commit_callbacks(execute=False):
        call_command("load_demo_cases")
    figures.fold()
    folded = rollups()
    figures.rebuild()  # as the demo load does
    assert rollups() == folded  # the demo's eleven cases in every state: deltas equal the recount
    total = {c: sum(v[c] for v in folded.values()) for c in FIGURE_COLUMNS}
    assert total["received"] == 11 and total["decided"] >= 2 and total["refused"] == 1
