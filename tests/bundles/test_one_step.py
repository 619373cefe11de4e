"""One-step branches (多评合一: each department reviews and gives its opinion at once), the open
branch count that opens the unified decision, and the bulk writes of unified acceptance."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cases.conftest import pdf_upload
from tests.pdfs import minimal_pdf
from yiwang.bundles import services as bundles
from yiwang.bundles.models import BranchState, BundleApplication, BundleBranch
from yiwang.cases import actions
from yiwang.cases import services as cases
from yiwang.cases.bulk import case_numbers
from yiwang.cases.models import Case, CaseEvent, CaseState
from yiwang.cases.numbering import case_number
from yiwang.core.errors import DomainError, NotPermitted
from yiwang.workflow import selectors as wf
from yiwang.workflow.models import Task, TaskState

from .conftest import SHARED_MATERIAL, accepted_bundle, build_bundle, decide_branch


def steps(case) -> list[str]:
    return sorted(t.spec_name for t in wf.open_tasks(case))


def link_of(umbrella) -> BundleApplication:
    return BundleApplication.objects.get(application_id=umbrella.application_id)


def test_one_step_branches_are_decided_by_each_department_head_directly(bw):
    bundle = build_bundle(bw, one_step=True)
    umbrella = accepted_bundle(bw, bundle)
    branches = list(BundleBranch.objects.filter(umbrella=umbrella).select_related("branch"))
    assert len(branches) == 7 and link_of(umbrella).open_branches == 7
    for b in branches:
        assert steps(b.branch) == ["decide"]
        # in the department head's inbox, not the approver's; there is no review step
        d = next(d for d in bw.depts.values() if d.department.pk == b.department_id)
        assert wf.inbox(d.head).filter(case_id=b.branch_id, spec_name="decide").exists()
        assert not wf.inbox(d.approver).filter(case_id=b.branch_id).exists()
    first = branches[0]
    d0 = next(d for d in bw.depts.values() if d.department.pk == first.department_id)
    with pytest.raises(DomainError):
        actions.Review(first.branch, d0.approver, decision="pass").run()
    with pytest.raises(NotPermitted):  # another department's head may not give this opinion
        other = next(d for d in bw.depts.values() if d.department.pk != first.department_id)
        actions.Decide(first.branch, other.head, decision="approve").run()
    for n, b in enumerate(branches):
        decide_branch(bw, b.branch)
        umbrella.refresh_from_db()
        assert ("decide" in steps(umbrella)) == (n == len(branches) - 1)
        assert link_of(umbrella).open_branches == len(branches) - n - 1
    # the umbrella's wait tasks were completed together, each with its branch's outcome
    waits = Task.objects.filter(case_id=umbrella.pk, spec_name__startswith="branch_")
    assert waits.count() == 7 and set(waits.values_list("state", "decision")) == {
        (TaskState.COMPLETED, "approved")
    }
    assert CaseEvent.objects.filter(case=umbrella, kind="branch_decided").count() == 7
    assert CaseEvent.objects.filter(case=umbrella, kind="branches_done").count() == 1
    umbrella = bundles.decide_bundle(umbrella, actor=bw.head)
    umbrella = actions.Deliver(umbrella, bw.clerk, method="electronic").run()
    umbrella = actions.Close(umbrella, bw.clerk).run()
    assert set(BundleBranch.objects.filter(umbrella=umbrella).values_list("state", flat=True)) == {
        BranchState.CLOSED
    }


def test_a_one_step_branch_asks_for_a_correction_and_decides_after_it(bw):
    bundle = build_bundle(bw, one_step=True)
    umbrella = accepted_bundle(bw, bundle)
    env = bw.depts["env"]
    b = BundleBranch.objects.select_related("branch").get(umbrella=umbrella, department=env.department)
    with pytest.raises(NotPermitted):  # the opinion step is the head's: so is its correction
        bundles.request_branch_correction(
            b.branch, actor=env.approver, items=[{"material": SHARED_MATERIAL, "reason": "未盖章"}]
        )
    bundles.request_branch_correction(
        b.branch, actor=env.head, items=[{"material": SHARED_MATERIAL, "reason": "备案文件未盖章"}]
    )
    umbrella.refresh_from_db()
    assert umbrella.state == CaseState.CORRECTION_REQUESTED
    assert steps(b.branch) == ["bundle_correction"]
    # the others decide meanwhile; the decision does not open while one branch waits
    for other in BundleBranch.objects.filter(umbrella=umbrella).exclude(pk=b.pk).select_related("branch"):
        decide_branch(bw, other.branch)
    assert link_of(umbrella).open_branches == 1 and "decide" not in steps(umbrella)
    cases.upload_material(
        umbrella.application,
        requirement=SHARED_MATERIAL,
        uploaded=pdf_upload("备案（盖章）.pdf", minimal_pdf("new")),
        user=bw.applicant,
        case=umbrella,
    )
    umbrella = bundles.correct_bundle(umbrella, user=bw.applicant)
    branch = Case.objects.get(pk=b.branch_id)
    assert steps(branch) == ["decide"]
    decide_branch(bw, branch, "deny", "不符合节能要求")
    umbrella.refresh_from_db()
    assert steps(umbrella) == ["decide"]
    assert bundles.outcome_of(umbrella).decision == "deny"


def test_umbrellas_accepted_before_the_count_still_open_the_decision_once(bw):
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    BundleApplication.objects.filter(application_id=umbrella.application_id).update(open_branches=None)
    branches = list(BundleBranch.objects.filter(umbrella=umbrella).select_related("branch"))
    for n, b in enumerate(branches):
        decide_branch(bw, b.branch)
        assert ("decide" in steps(umbrella)) == (n == len(branches) - 1)
    assert CaseEvent.objects.filter(case=umbrella, kind="branches_done").count() == 1


def test_a_run_of_case_numbers_is_what_one_at_a_time_gives(db):
    day = dt.date(2026, 3, 2)
    assert case_number("350102", day) == "35010220260302000001"
    assert case_numbers(["350102", "350103", "350102", "350102000"], day) == [
        "35010220260302000002",
        "35010320260302000001",
        "35010220260302000003",
        "35010220260302000004",
    ]
    assert case_number("350102", day) == "35010220260302000005"


@pytest.mark.django_db
def test_the_ready_made_combined_assessment_gives_opinions_in_one_step(tmp_path):
    from yiwang.bundles.models import Bundle
    from yiwang.catalog.generator import generate_province

    generate_province(items=120, cities=1, townships=(1, 1), work_dir=tmp_path, bundles=True)
    steps_by_kind = {b.code.split("-")[0]: b.one_step_branches for b in Bundle.objects.all()}
    assert steps_by_kind == {"dphy": True, "dycl": False, "kcg": False, "csl": False}
