"""Combined correction (branches ask, the applicant corrects once) and shared data visibility."""

from __future__ import annotations

import pytest

from tests.cases.conftest import pdf_upload
from tests.pdfs import minimal_pdf
from yiwang.bundles import selectors
from yiwang.bundles import services as bundles
from yiwang.bundles.models import BranchState, BundleBranch
from yiwang.cases import personal
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as cases
from yiwang.cases.models import CaseMaterial, CaseState, ClockPause, OutboxMessage
from yiwang.cases.services import form_of
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.workflow import selectors as wf

from .conftest import SHARED_MATERIAL, accepted_bundle, build_bundle, decide_branch


def branch_for(umbrella, d) -> BundleBranch:
    return BundleBranch.objects.select_related("branch").get(umbrella=umbrella, department=d.department)


def test_two_branch_corrections_become_one_request_answered_once(bw):
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    env, water, safety = bw.depts["env"], bw.depts["water"], bw.depts["safety"]
    env_b, water_b, safety_b = (
        branch_for(umbrella, env),
        branch_for(umbrella, water),
        branch_for(umbrella, safety),
    )
    sms_before = OutboxMessage.objects.filter(case=umbrella, template="correction").count()
    bundles.request_branch_correction(
        env_b.branch,
        actor=env.approver,
        items=[
            {"material": SHARED_MATERIAL, "reason": "备案文件缺少用地面积"},
            {"field": "emission_kind", "reason": "请写明污染物种类"},
        ],
    )
    bundles.request_branch_correction(
        water_b.branch,
        actor=water.approver,
        items=[{"material": SHARED_MATERIAL, "reason": "备案文件未盖章"}],
    )
    # one branch's approver cannot ask for another's branch
    with pytest.raises(NotPermitted):
        bundles.request_branch_correction(
            safety_b.branch, actor=env.approver, items=[{"material": SHARED_MATERIAL, "reason": "x"}]
        )
    umbrella.refresh_from_db()
    assert umbrella.state == CaseState.CORRECTION_REQUESTED
    open_requests = umbrella.corrections.filter(resolved_at__isnull=True)
    assert open_requests.count() == 1
    items = open_requests.get().items
    assert len(items) == 2  # the shared material asked by two departments is asked once
    material_item = next(i for i in items if i.get("material"))
    assert "鼓楼区生态环境局" in material_item["reason"] and "鼓楼区水利局" in material_item["reason"]
    assert sorted(material_item["branches"]) == sorted([env_b.branch_id, water_b.branch_id])
    assert next(i for i in items if i.get("field"))["field"] == "emission_kind"
    # the applicant hears once per request... and the clocks of the umbrella and asking branches stop
    assert OutboxMessage.objects.filter(case=umbrella, template="correction").count() > sms_before
    for case in (umbrella, env_b.branch, water_b.branch):
        assert ClockPause.objects.filter(case=case, kind="correction", end__isnull=True).exists()
    assert not ClockPause.objects.filter(case=safety_b.branch).exists()
    assert [t.spec_name for t in wf.open_tasks(env_b.branch)] == ["bundle_correction"]
    assert not wf.inbox(env.approver).filter(case_id=env_b.branch_id).exists()  # nothing to do meanwhile
    # the other branches keep working
    decide_branch(bw, safety_b.branch)

    # correcting without the new file is refused, with the field at fault
    with pytest.raises(ValidationFailed) as err:
        bundles.correct_bundle(
            umbrella, user=bw.applicant, data={"emission_kind": "施工扬尘、生活污水、噪声"}
        )
    assert any(e.field == f"material:{SHARED_MATERIAL}" for e in err.value.errors)
    new = cases.upload_material(
        umbrella.application,
        requirement=SHARED_MATERIAL,
        uploaded=pdf_upload("备案（盖章）.pdf", minimal_pdf("new")),
        user=bw.applicant,
        case=umbrella,
    )
    with pytest.raises(NotPermitted):
        bundles.correct_bundle(umbrella, user=bw.outsider)
    umbrella = bundles.correct_bundle(
        umbrella, user=bw.applicant, data={"emission_kind": "施工扬尘、生活污水、噪声"}
    )
    assert umbrella.state == CaseState.UNDER_REVIEW
    assert not ClockPause.objects.filter(case=umbrella, end__isnull=True).exists()
    for b in (env_b, water_b):
        b.refresh_from_db()
        branch = b.branch
        branch.refresh_from_db()
        assert b.state == BranchState.OPEN and branch.state == CaseState.UNDER_REVIEW
        assert [t.spec_name for t in wf.open_tasks(branch)] == ["review"]
        assert not ClockPause.objects.filter(case=branch, end__isnull=True).exists()
        current = CaseMaterial.objects.get(case=branch, requirement=SHARED_MATERIAL, replaced=False)
        assert current.file.name == new.file.name and current.sha256 == new.sha256  # same stored file
    env_data = case_selectors_data(env_b.branch)
    assert env_data["emission_kind"] == "施工扬尘、生活污水、噪声"
    # the branch that did not ask kept its copy
    assert (
        CaseMaterial.objects.get(case=safety_b.branch, requirement=SHARED_MATERIAL, replaced=False).file.name
        != new.file.name
    )
    # and the branches can now finish
    for b in (
        BundleBranch.objects.filter(umbrella=umbrella)
        .exclude(state=BranchState.DECIDED)
        .select_related("branch")
    ):
        decide_branch(bw, b.branch)
    umbrella = bundles.decide_bundle(umbrella, actor=bw.head)
    assert umbrella.state == CaseState.APPROVED


def case_selectors_data(case) -> dict:
    case.application.refresh_from_db()
    return personal.open_data(case.application, reader=personal.SYSTEM)


def test_each_department_sees_what_it_needs_and_nothing_else(bw):
    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    umbrella_materials = {
        m.requirement: m for m in CaseMaterial.objects.filter(case=umbrella, replaced=False)
    }
    for d in bw.depts.values():
        b = branch_for(umbrella, d)
        schema, _layout = form_of(d.item)
        data = case_selectors_data(b.branch)
        # the fields mapped to its item, entered once on the umbrella, and no other department's
        assert set(data) <= set(schema["properties"])
        assert d.field_key in data
        others = {o.field_key for o in bw.depts.values() if o is not d}
        assert not others & set(data)
        assert data["project_name"] == "鼓楼软件园三期"
        # exactly its materials, pointing at the files uploaded once on the umbrella
        mats = {m.requirement: m for m in CaseMaterial.objects.filter(case=b.branch, replaced=False)}
        assert set(mats) == {SHARED_MATERIAL, d.material}
        for name, m in mats.items():
            assert m.file.name == umbrella_materials[name].file.name
        # staff of this department can open the branch case and nobody else's
        assert case_selectors.can_view_case(d.approver, b.branch)
        other = next(o for o in bw.depts.values() if o is not d)
        assert not case_selectors.can_view_case(other.approver, b.branch) or other.department == bw.lead
        rows = selectors.branches_for_staff(d.approver, umbrella)
        if d.department == bw.lead:
            assert len(rows) == 7  # the lead department sees the whole
        else:
            assert [r.department_name for r in rows] == [d.department.name]
            assert not case_selectors.can_view_case(d.approver, umbrella)
    assert len(selectors.branches_for_staff(bw.supervisor, umbrella)) == 7
    assert selectors.branches_for_staff(bw.outsider, umbrella) == []


def test_overview_names_the_branch_holding_the_bundle_up(bw):
    import datetime as dt

    bundle = build_bundle(bw)
    umbrella = accepted_bundle(bw, bundle)
    rows = selectors.bundle_overview(umbrella, today=dt.date(2025, 3, 4)).rows
    latest = max(rows, key=lambda r: r.due_date)
    overview = selectors.bundle_overview(umbrella, today=dt.date(2025, 3, 4))
    assert overview.holding_up.branch.pk == latest.branch.pk and overview.holding_up.days_left > 0
    # later, past some branches' due dates: the most overdue open branch holds it up
    for r in rows:
        if r.branch.pk != rows[0].branch.pk:
            decide_branch(bw, r.case)
    late = selectors.bundle_overview(umbrella, today=dt.date(2025, 4, 30))
    assert late.holding_up.branch.pk == rows[0].branch.pk and late.holding_up.days_left < 0
    held = selectors.held_up_bundles(bw.supervisor, today=dt.date(2025, 4, 30))
    assert [h.umbrella.pk for h in held] == [umbrella.pk] and held[0].row.branch.pk == rows[0].branch.pk
    assert selectors.held_up_bundles(bw.depts["env"].approver, today=dt.date(2025, 4, 30)) == []


def test_correction_at_unified_acceptance_is_the_ordinary_one(bw):
    from yiwang.bundles.selectors import without_branches
    from yiwang.cases import actions
    from yiwang.cases.models import Case

    from .conftest import apply, on, today

    bundle = build_bundle(bw)
    umbrella = apply(bw, bundle)
    umbrella = actions.RequestCorrection(
        umbrella, bw.clerk, items=[{"material": SHARED_MATERIAL, "reason": "请提供盖章件"}]
    ).run()
    assert umbrella.state == CaseState.CORRECTION_REQUESTED and not BundleBranch.objects.exists()
    with pytest.raises(ValidationFailed):
        bundles.correct_bundle(umbrella, user=bw.applicant)
    cases.upload_material(
        umbrella.application,
        requirement=SHARED_MATERIAL,
        uploaded=pdf_upload("盖章.pdf"),
        user=bw.applicant,
        case=umbrella,
    )
    umbrella = bundles.correct_bundle(umbrella, user=bw.applicant)
    assert umbrella.state == CaseState.SUBMITTED
    with on(), today():
        umbrella = actions.Accept(umbrella, bw.clerk).run()
    assert BundleBranch.objects.filter(umbrella=umbrella).count() == 7
    mine = without_branches(Case.objects.filter(applicant=bw.applicant))
    assert list(mine) == [umbrella]
