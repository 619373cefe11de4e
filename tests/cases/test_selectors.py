"""``cases.selectors.case_detail``: the PostgreSQL statement against the ORM reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.workbench.helpers import client_for
from yiwang.cases import selectors
from yiwang.cases.models import Case, ClockPause, CorrectionRequest

from .conftest import World, submitted_case

pytestmark = pytest.mark.django_db


def _plain(objs: list[models.Model]) -> list[dict[str, Any]]:
    return [{k: v for k, v in o.__dict__.items() if k != "_state"} for o in objs]


def _view(d: selectors.CaseDetail) -> tuple[Any, ...]:
    extra = [d.correction] if d.correction else []
    return (
        _plain(d.timeline),
        _plain(d.materials),
        _plain(d.notices),
        _plain(d.open_tasks),
        _plain(extra),
        d.time,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement reads are PostgreSQL's")
def test_case_detail_in_one_statement_equals_the_orm_reads(world: World) -> None:
    """On PostgreSQL ``case_detail`` reads in one statement; its objects (built by ``from_db``
    from ``row_to_json``) equal the ORM path's field for field, in the same order, for a fresh
    case, one with an open correction request and a suspended one (a clock pause)."""
    cases = [submitted_case(world) for _ in range(3)]
    clerk, approver = client_for(world.clerk), client_for(world.approver)
    clerk.post(
        reverse("workbench:act", args=[cases[1].pk, "request_correction"]), {"cm_0": "1", "cr_0": "缺页"}
    )
    clerk.post(reverse("workbench:act", args=[cases[2].pk, "accept"]))
    approver.post(reverse("workbench:act", args=[cases[2].pk, "suspend"]), {"reasons": "需要鉴定"})
    assert ClockPause.objects.exists() and CorrectionRequest.objects.exists()  # every read has rows

    for pk in (c.pk for c in cases):
        case = Case.objects.select_related("department", "region", "application", "item_version").get(pk=pk)
        for for_applicant in (False, True):
            with CaptureQueriesContext(connection) as ctx:
                fast = selectors.case_detail(pk, case=case, for_applicant=for_applicant)
            assert len(ctx.captured_queries) == 1
            slow = selectors._case_detail_orm(case, for_applicant)
            assert _view(fast) == _view(slow)
            assert fast.timeline and fast.materials
