"""The services the bundles app calls on the cases it works with: opening branch cases beside
an umbrella case, and the combined correction request that a branch opens on the umbrella,
that the applicant answers once and that is carried to the branches that asked."""

from __future__ import annotations

import pytest

from yiwang.cases import actions, personal, services
from yiwang.cases.models import Application, CaseMaterial, CaseState, ClockPause, MaterialStatus
from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed

from .conftest import pdf_upload, submitted_case


def under_review(world):
    case = actions.Accept(submitted_case(world), world.clerk).run()
    case.state = CaseState.UNDER_REVIEW  # as a bundle's umbrella is once its branches are open
    case.save(update_fields=["state"])
    return case


def data_of(case) -> dict:
    app = Application.objects.get(pk=case.application_id)
    return personal.open_data(app, reader=personal.SYSTEM)


def test_open_branch_cases_writes_accepted_cases_beside_the_umbrella(world):
    umbrella = under_review(world)
    form = services.form_of(world.item)
    openings = [
        services.BranchOpening(
            item=world.item, form=form, data={"reason": f"分支 {n}"}, limit_days=n, idempotency_key=f"t-{n}"
        )
        for n in (3, 5)
    ]
    branches = services.open_branch_cases(umbrella, openings)
    assert [b.limit_days for b in branches] == [3, 5] and all(b.pk for b in branches)
    for n, branch in zip((3, 5), branches, strict=True):
        branch.refresh_from_db()
        assert branch.state == CaseState.ACCEPTED and branch.bundle_role == "branch"
        assert (
            branch.applicant_id == umbrella.applicant_id and branch.department_id == world.item.department_id
        )
        assert branch.accepted_on is not None and branch.due_date >= branch.accepted_on
        assert branch.number != umbrella.number and branch.application.idempotency_key == f"t-{n}"
        assert data_of(branch) == {"reason": f"分支 {n}"}
    assert len({b.number for b in branches}) == 2
    assert services.open_branch_cases(umbrella, []) == []


def test_merge_into_correction_opens_one_request_then_joins_it(world):
    case = under_review(world)
    material = case.materials.filter(replaced=False).first().requirement
    first = [{"material": material, "reason": "甲：不清晰", "branches": [1]}]
    case = services.merge_into_correction(case.pk, first)
    assert case.state == CaseState.CORRECTION_REQUESTED
    assert ClockPause.objects.filter(case=case, end__isnull=True).count() == 1
    assert set(case.materials.filter(requirement=material).values_list("status", flat=True)) == {
        MaterialStatus.FAULTY
    }
    second = [
        {"material": material, "reason": "乙：已过期", "branches": [2]},
        {"field": "reason", "field_label": "申请事由", "reason": "乙：请写明", "branches": [2]},
    ]
    services.merge_into_correction(case.pk, second)
    (request,) = case.corrections.filter(resolved_at__isnull=True)
    assert ClockPause.objects.filter(case=case, end__isnull=True).count() == 1  # paused once
    joined, field = request.items
    assert joined["reason"] == "甲：不清晰；乙：已过期" and joined["branches"] == [1, 2]
    assert field["field"] == "reason" and field["branches"] == [2]


def test_answer_correction_checks_everything_then_resumes(world):
    case = under_review(world)
    material = case.materials.filter(replaced=False).first().requirement
    case = services.merge_into_correction(
        case.pk, [{"material": material, "reason": "不清晰", "branches": []}]
    )
    with pytest.raises(NotPermitted):
        services.answer_correction(case.pk, user=world.outsider, data=None)
    with pytest.raises(ValidationFailed) as refused:
        services.answer_correction(case.pk, user=world.applicant, data=None)
    assert [e.field for e in refused.value.errors] == [f"material:{material}"]
    new = services.upload_material(
        case.application, requirement=material, uploaded=pdf_upload("新.pdf"), user=world.applicant, case=case
    )
    answer = services.answer_correction(case.pk, user=world.applicant, data={"reason": "补正后的事由"})
    assert answer.case.state == CaseState.UNDER_REVIEW and answer.request.resolved_at is not None
    assert answer.materials == {material: [new]} and answer.data["reason"] == "补正后的事由"
    assert data_of(case)["reason"] == "补正后的事由"
    assert not ClockPause.objects.filter(case=case, end__isnull=True).exists()
    assert list(case.materials.filter(requirement=material, replaced=False)) == [new]
    with pytest.raises(DomainError):
        services.answer_correction(case.pk, user=world.applicant, data=None)


def test_carry_correction_copies_the_new_files_and_resumes(world):
    source = under_review(world)
    target = under_review(world)
    material = target.materials.filter(replaced=False).first().requirement
    services.merge_into_correction(target.pk, [{"material": material, "reason": "不清晰", "branches": []}])
    rows = list(source.materials.filter(replaced=False)[:1])
    case = services.carry_correction(target.pk, data={"reason": "带过来的"}, materials={material: rows})
    assert case.state == CaseState.UNDER_REVIEW
    assert not case.corrections.filter(resolved_at__isnull=True).exists()
    assert not ClockPause.objects.filter(case=case, end__isnull=True).exists()
    (copy,) = CaseMaterial.objects.filter(case=case, requirement=material, replaced=False)
    assert copy.file.name == rows[0].file.name and copy.sha256 == rows[0].sha256
    assert data_of(case)["reason"] == "带过来的"
