"""The 7-assessment bundle (多评合一) through its life on a real database."""

from __future__ import annotations

from yiwang.bundles import selectors
from yiwang.bundles import services as bundles
from yiwang.bundles.models import BranchState, BundleBranch
from yiwang.cases import actions
from yiwang.cases.models import Case, CaseState, Delivery
from yiwang.workflow import selectors as wf

from .conftest import accepted_bundle, build_bundle, decide_branch


def steps(case) -> list[str]:
    return sorted(t.spec_name for t in wf.open_tasks(case))


def test_seven_branches_finish_in_any_order_and_deliver_together(bw):
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    branches = list(BundleBranch.objects.filter(umbrella=umbrella).select_related("branch"))
    assert len(branches) == 7
    assert umbrella.state == CaseState.UNDER_REVIEW
    assert {b.branch.department_id for b in branches} == {d.department.pk for d in bw.depts.values()}
    for b in branches:
        assert b.branch.state == CaseState.ACCEPTED and b.branch.due_date is not None
        assert steps(b.branch) == ["review"]
    # the umbrella waits on seven system tasks no staff inbox shows
    assert len(steps(umbrella)) == 7 and all(s.startswith("branch_") for s in steps(umbrella))
    assert not wf.inbox(bw.head).filter(case_id=umbrella.pk).exists()
    # finish in an order unlike the members' order
    order = [3, 0, 6, 1, 5, 2, 4]
    for n, i in enumerate(order):
        decide_branch(bw, branches[i].branch)
        umbrella.refresh_from_db()
        assert ("decide" in steps(umbrella)) == (n == len(order) - 1)
    # the unified decision waits in the lead department head's inbox, not in the branches'
    assert wf.inbox(bw.head).filter(case_id=umbrella.pk, spec_name="decide").exists()
    assert not wf.inbox(bw.depts["env"].head).filter(case_id=umbrella.pk).exists()
    assert bundles.outcome_of(umbrella).decision == "approve"
    umbrella = bundles.decide_bundle(umbrella, actor=bw.head)
    assert umbrella.state == CaseState.APPROVED
    umbrella = actions.Deliver(umbrella, bw.clerk, method="electronic").run()
    assert umbrella.state == CaseState.DELIVERED
    assert set(Case.objects.filter(bundle_branch__umbrella=umbrella).values_list("state", flat=True)) == {
        CaseState.DELIVERED
    }
    # each branch case has its delivery row, the umbrella's method and time
    deliveries = Delivery.objects.filter(case__bundle_branch__umbrella=umbrella)
    assert deliveries.count() == 7
    assert {(d.method, d.delivered_at) for d in deliveries} == {("electronic", umbrella.delivered_at)}
    umbrella = actions.Close(umbrella, bw.clerk).run()
    assert set(BundleBranch.objects.filter(umbrella=umbrella).values_list("state", flat=True)) == {
        BranchState.CLOSED
    }
    closed = Case.objects.filter(bundle_branch__umbrella=umbrella)
    assert {(c.state, c.closed_at) for c in closed} == {(CaseState.CLOSED, umbrella.closed_at)}
    overview = selectors.bundle_overview(umbrella)
    assert len(overview.rows) == 7 and overview.holding_up is None


def test_a_member_with_a_second_review_keeps_it_in_its_branch(bw):
    from yiwang.workflow import services as workflow

    env = bw.depts["env"]
    workflow.bind(env.item, workflow.ensure_templates()["promise_second_review"])
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    b = BundleBranch.objects.select_related("branch").get(umbrella=umbrella, department=env.department)
    case = actions.Review(b.branch, env.approver, decision="pass").run()
    assert steps(case) == ["second_review"]
    case = actions.SecondReview(case, env.approver, decision="pass").run()
    assert steps(case) == ["decide"]
    other = BundleBranch.objects.select_related("branch").get(
        umbrella=umbrella, department=bw.depts["water"].department
    )
    assert steps(actions.Review(other.branch, bw.depts["water"].approver, decision="pass").run()) == [
        "decide"
    ]


def test_submitting_the_umbrella_draft_again_gives_the_same_case(bw):
    """A double click on "submit": one umbrella case, and again after its acceptance."""
    from yiwang.cases.models import Application

    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    app = Application.objects.get(pk=umbrella.application_id)
    again = bundles.submit_bundle(app, user=bw.applicant)
    assert again.pk == umbrella.pk
    assert Case.objects.filter(application=app).count() == 1
    assert BundleBranch.objects.filter(umbrella=umbrella).count() == 7
