"""The last two branches decided at the same moment (PostgreSQL, two threads, two connections):
the unified decision opens exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from yiwang.bundles.models import BranchState, BundleApplication, BundleBranch
from yiwang.cases import actions
from yiwang.cases.models import CaseEvent
from yiwang.workflow.models import Task, TaskState

from .conftest import accepted_bundle, build_bundle, decide_branch


def staff_of(bw, branch):
    return next(d for d in bw.depts.values() if d.department.pk == branch.department_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_step", [False, True], ids=["review_then_decide", "one_step"])
def test_last_two_branches_at_once_open_the_unified_decision_once(bw_tx, one_step):
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections: run with DATABASE_URL=postgres://…")
    bw = bw_tx
    bundle = build_bundle(bw, one_step=one_step)
    for _round in range(3):
        umbrella = accepted_bundle(bw, bundle)
        branches = list(BundleBranch.objects.filter(umbrella=umbrella).select_related("branch"))
        for b in branches[:5]:
            decide_branch(bw, b.branch)
        last = branches[5:]
        for b in last if not one_step else ():
            actions.Review(b.branch, staff_of(bw, b.branch).approver, decision="pass").run()
        barrier = threading.Barrier(len(last))
        errors: list[BaseException] = []

        def decide(b: BundleBranch, barrier=barrier, errors=errors) -> None:
            try:
                barrier.wait(timeout=30)
                actions.Decide(b.branch, staff_of(bw, b.branch).head, decision="approve").run()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=decide, args=(b,)) for b in last]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert set(BundleBranch.objects.filter(umbrella=umbrella).values_list("state", flat=True)) == {
            BranchState.DECIDED
        }
        decide_tasks = Task.objects.filter(case_id=umbrella.pk, spec_name="decide")
        assert decide_tasks.count() == 1 and decide_tasks.get().state == TaskState.OPEN
        waits = Task.objects.filter(case_id=umbrella.pk, spec_name__startswith="branch_")
        assert waits.count() == 7 and not waits.filter(state=TaskState.OPEN).exists()
        assert CaseEvent.objects.filter(case=umbrella, kind="branches_done").count() == 1
        assert BundleApplication.objects.get(application_id=umbrella.application_id).open_branches == 0
