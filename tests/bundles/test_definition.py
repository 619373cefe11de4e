"""Building and publishing a bundle; the questionnaire; the generated processes."""

from __future__ import annotations

import pytest

from yiwang.bundles import services as bundles
from yiwang.bundles.models import Bundle, BundleBranch, BundleKind
from yiwang.cases import formschema
from yiwang.catalog import services as catalog
from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import DomainError, NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.workflow.models import ProcessBinding, Task

from .conftest import SHARED_MATERIAL, accepted_bundle, build_bundle


def messages(exc) -> list[str]:
    return [e.message for e in exc.value.errors]


def new_bundle(bw, **kw) -> Bundle:
    values = {
        "user": bw.admin,
        "code": "test-bundle",
        "name": "测试一件事",
        "kind": BundleKind.COMBINED_ASSESSMENT,
        "lead_department": bw.lead,
        "overall_limit_days": 15,
    }
    values.update(kw)
    return bundles.create_bundle(**values)


def test_publication_refuses_with_one_message_per_problem(bw):
    bundle = new_bundle(bw, overall_limit_days=None)
    bundles.add_member(bundle, bw.depts["energy"].item, user=bw.admin)
    with pytest.raises(ValidationFailed) as err:
        bundles.publish_bundle(bundle, user=bw.admin)
    got = messages(err)
    assert "一件事至少包含两个事项（当前 1 个）。" in got
    assert "请填写一件事的总承诺时限（工作日）。" in got
    assert bundle.item_id is None and not ServiceItem.objects.filter(name="测试一件事").exists()
    assert AuditEntry.objects.filter(action="bundles.publish_refused").exists()


def test_time_limit_must_lie_between_the_longest_branch_and_the_sum(bw):
    bundle = new_bundle(bw, overall_limit_days=3)
    bundles.add_member(bundle, bw.depts["energy"].item, user=bw.admin)  # promised 5
    bundles.add_member(bundle, bw.depts["env"].item, user=bw.admin)  # promised 6
    bundles.rebuild_combined_form(bundle, user=bw.admin)
    with pytest.raises(ValidationFailed) as err:
        bundles.publish_bundle(bundle, user=bw.admin)
    assert messages(err) == [
        "总时限（3个工作日）短于最长的分支时限（“建设项目环境影响评价审批”，6个工作日）。"
    ]
    bundles.update_bundle(bundle, user=bw.admin, overall_limit_days=12)
    with pytest.raises(ValidationFailed) as err:
        bundles.publish_bundle(bundle, user=bw.admin)
    assert messages(err) == [
        "总时限（12个工作日）超过各分支时限之和（11个工作日）：并联办理不应慢于逐项办理。"
    ]
    bundles.update_bundle(bundle, user=bw.admin, overall_limit_days=8)
    version = bundles.publish_bundle(bundle, user=bw.admin)
    assert version.elements["promised_limit_days"] == 8


def test_other_publication_problems(bw):
    bundle = new_bundle(bw)
    bundles.add_member(bundle, bw.depts["energy"].item, user=bw.admin, advisory=True)
    bundles.add_member(bundle, bw.depts["env"].item, user=bw.admin, limit_days=9)  # promised 6
    bundles.add_member(bundle, bw.depts["water"].item, user=bw.admin, condition='large == "yes"')
    bundles.rebuild_combined_form(bundle, user=bw.admin)
    bundles.add_member(bundle, bw.depts["relics"].item, user=bw.admin)  # after the rebuild
    catalog.withdraw(bw.depts["water"].item, reason="职能调整")
    with pytest.raises(ValidationFailed) as err:
        bundles.publish_bundle(bundle, user=bw.admin)
    got = "\n".join(messages(err))
    assert "结果规则为“全部准予方可准予”时不能设置参考性事项（“固定资产投资项目节能审查”）。" in got
    assert "分支时限（9个工作日）超过了该事项的承诺时限（6个工作日）" in got
    assert "尚未发布或已停用，不能纳入一件事" in got
    assert "建设工程文物影响评估审批" in got and "请重新生成合并表单" in got
    # a condition naming no question is caught once the member is published again
    catalog.publish(ServiceItem.objects.get(pk=bw.depts["water"].item.pk))
    bundles.update_member(bundle.members.get(item=bw.depts["energy"].item), user=bw.admin, advisory=False)
    bundles.update_member(bundle.members.get(item=bw.depts["env"].item), user=bw.admin, limit_days=None)
    bundles.rebuild_combined_form(bundle, user=bw.admin)
    with pytest.raises(ValidationFailed) as err:
        bundles.publish_bundle(bundle, user=bw.admin)
    assert messages(err) == ["事项“生产建设项目水土保持方案审批”的适用条件引用了不存在的问题：large。"]


def test_unsafe_condition_and_permissions_are_refused(bw):
    with pytest.raises(NotPermitted):
        new_bundle(bw, user=bw.other_admin)
    bundle = new_bundle(bw)
    with pytest.raises(DomainError):
        bundles.add_member(
            bundle, bw.depts["env"].item, user=bw.admin, condition="__import__('os').system('x')"
        )
    with pytest.raises(NotPermitted):
        bundles.add_member(bundle, bw.depts["env"].item, user=bw.other_admin)
    with pytest.raises(NotPermitted):
        bundles.publish_bundle(bundle, user=bw.other_admin)
    with pytest.raises(DomainError) as err:
        new_bundle(bw, code="test-bundle")
    assert err.value.errors[0].field == "code"


def test_published_bundle_is_an_item_with_the_combined_form_and_a_parallel_process(bw):
    bundle = build_bundle(bw)
    item = bundle.item
    assert item.department == bw.lead and item.current_version is not None
    version = item.current_version
    assert version.elements["promised_limit_days"] == 15
    names = [m["name"] for m in version.elements["materials"]]
    assert names.count(SHARED_MATERIAL) == 1 and len(names) == 8  # 1 shared + 7 own
    fields = {f.key: f for f in bundle.fields.all()}
    assert len(fields["project_name"].mapping) == 7  # asked once for seven items
    assert len(fields) == 4 + 7
    assert formschema.check_schema(item.form.schema, item.form.layout) == []
    definition = ProcessBinding.objects.get(item=item).definition
    assert "parallelGateway" in definition.bpmn_xml and definition.approval_steps == 2
    assert definition.bpmn_xml.count('name="role" value="branch"') == 7


def test_merge_and_rename_fields(bw):
    bundle = build_bundle(bw, publish=False)
    f = bundle.fields.get(key="annual_energy")
    bundles.rename_field(f, user=bw.admin, title="年能耗（吨标准煤）")
    with pytest.raises(ValidationFailed) as err:
        bundles.merge_fields(bundle, ["project_name", "project_code"], into="project_name", user=bw.admin)
    assert "对应同一事项的不同字段" in messages(err)[0]
    merged = bundles.merge_fields(
        bundle, ["disturbed_area", "annual_energy"], into="annual_energy", user=bw.admin
    )
    assert set(merged.mapping) == {str(bw.depts["energy"].item.pk), str(bw.depts["water"].item.pk)}
    assert not bundle.fields.filter(key="disturbed_area").exists()
    bundles.rename_field(bundle.fields.get(key="project_code"), user=bw.admin, key="approval_code")
    before = {f.key: (f.schema.get("title"), f.mapping) for f in bundle.fields.all()}

    # A rebuild (the members' forms read again) keeps the merge, the new title and the new key.
    bundles.rebuild_combined_form(bundle, user=bw.admin)
    after = {f.key: (f.schema.get("title"), f.mapping) for f in bundle.fields.all()}
    assert after == before
    assert after["annual_energy"][0] == "年能耗（吨标准煤）" and "disturbed_area" not in after
    assert "project_code" not in after and "approval_code" in after


def test_questionnaire_decides_which_items_apply(bw):
    bundle = build_bundle(bw, code="dpyh-q", conditions={"relics": 'near_relics == "yes"'})
    relics = bw.depts["relics"]
    with pytest.raises(ValidationFailed) as err:
        bundles.start_bundle_application(bw.applicant, bundle, {})
    assert messages(err) == ["请回答：项目用地是否位于文物保护单位建设控制地带内？"]
    no = bundles.applicable_members(bundle, {"near_relics": "no"})
    assert relics.item.pk not in {m.item_id for m in no} and len(no) == 6
    schema = bundles.combined_schema(bundle, no)
    assert "relic_distance" not in schema["properties"] and "annual_energy" in schema["required"]
    assert relics.material not in [m["name"] for m in bundles.combined_materials(bundle, no)]
    # a submission missing a needed material is refused with the material named
    app = bundles.start_bundle_application(bw.applicant, bundle, {"near_relics": "no"})
    assert "relic_distance" not in app.form_schema["properties"]
    with pytest.raises(NotPermitted):
        bundles.submit_bundle(app, user=bw.outsider)
    with pytest.raises(ValidationFailed) as err:
        bundles.submit_bundle(app, user=bw.applicant)
    assert f"material:{SHARED_MATERIAL}" in [e.field for e in err.value.errors]
    cases_upload = bundles.missing_materials(app)
    assert relics.material not in cases_upload and SHARED_MATERIAL in cases_upload
    # accepted: six branches; the relics branch is skipped on the umbrella
    umbrella = accepted_bundle(bw, bundle, {"near_relics": "no"})
    assert BundleBranch.objects.filter(umbrella=umbrella).count() == 6
    skipped = Task.objects.get(case_id=umbrella.pk, spec_name__startswith="branch_", decision="skipped")
    assert skipped.spec_name == f"branch_{bundle.members.get(item=relics.item).pk}"
    yes = accepted_bundle(bw, bundle, {"near_relics": "yes"})
    assert BundleBranch.objects.filter(umbrella=yes).count() == 7


def test_a_conditional_material_of_a_member_stays_conditional(bw):
    from yiwang.catalog.models import ItemMaterial

    traffic = bw.depts["traffic"]
    ItemMaterial.objects.filter(item=traffic.item, name=traffic.material).update(
        requirement="conditional", condition="配建停车位超过300个时提供"
    )
    catalog.mark_changed(traffic.item)
    catalog.publish(ServiceItem.objects.get(pk=traffic.item.pk))
    bundle = build_bundle(bw, publish=False)
    own = bundle.materials.get(name=traffic.material)
    assert own.required_for == []
    assert bundle.materials.get(name=SHARED_MATERIAL).required_for != []
    needed = {
        m["name"]: m["requirement"] for m in bundles.combined_materials(bundle, list(bundle.members.all()))
    }
    assert needed[traffic.material] == "conditional" and needed[SHARED_MATERIAL] == "required"
