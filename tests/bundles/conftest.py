"""Fixtures for the bundles tests: the 7-assessment combined bundle (多评合一) of an investment
project in 鼓楼区, each assessment a published item of a different department with its own
form and materials, staff of every department, and a verified applicant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories
from tests.cases.conftest import PASSWORD, pdf_upload, staff
from yiwang.bundles import services as bundles
from yiwang.bundles.models import Bundle, BundleKind, OutcomeRule
from yiwang.cases import actions
from yiwang.cases import services as cases
from yiwang.cases.models import ItemForm
from yiwang.catalog import services as catalog
from yiwang.catalog.models import StandardItem
from yiwang.identity.models import Role
from yiwang.identity.synthetic import demo_people, ensure_demo_registry, register_through_fake_sms
from yiwang.worktime.selectors import invalidate_calendar

MONDAY = dt.date(2025, 3, 3)  # an ordinary week, far from holidays

COMMON_FIELDS = {
    "project_name": {"type": "string", "title": "项目名称", "minLength": 2, "maxLength": 100},
    "project_code": {"type": "string", "title": "项目代码", "pattern": "^[0-9A-Z-]{6,30}$"},
    "applicant_name": {"type": "string", "title": "申请人姓名/名称", "minLength": 2, "maxLength": 100},
    "phone": {"type": "string", "title": "联系电话", "pattern": "^1[3-9][0-9]{9}$"},
}

# code, department kind, department, item, its own field (key, schema), its own material
ASSESSMENTS = [
    (
        "energy",
        "fgw",
        "发展和改革局",
        "固定资产投资项目节能审查",
        ("annual_energy", {"type": "number", "title": "年综合能源消费量（吨标准煤）", "minimum": 0}),
        "节能报告",
    ),
    (
        "env",
        "sthjj",
        "生态环境局",
        "建设项目环境影响评价审批",
        ("emission_kind", {"type": "string", "title": "主要污染物", "maxLength": 200}),
        "环境影响报告书",
    ),
    (
        "safety",
        "yjglj",
        "应急管理局",
        "建设项目安全条件审查",
        (
            "hazard_level",
            {
                "type": "string",
                "title": "危险化学品重大危险源等级",
                "enum": ["无", "一级", "二级", "三级", "四级"],
            },
        ),
        "安全预评价报告",
    ),
    (
        "water",
        "slj",
        "水利局",
        "生产建设项目水土保持方案审批",
        ("disturbed_area", {"type": "number", "title": "扰动地表面积（公顷）", "minimum": 0}),
        "水土保持方案报告书",
    ),
    (
        "seismic",
        "zjj",
        "住房和城乡建设局",
        "建设工程抗震设防要求确定",
        (
            "fortification",
            {"type": "string", "title": "抗震设防类别", "enum": ["甲类", "乙类", "丙类", "丁类"]},
        ),
        "地震安全性评价报告",
    ),
    (
        "relics",
        "wlj",
        "文化和旅游局",
        "建设工程文物影响评估审批",
        ("relic_distance", {"type": "number", "title": "与最近文物保护单位距离（米）", "minimum": 0}),
        "文物影响评估报告",
    ),
    (
        "traffic",
        "jtj",
        "交通运输局",
        "建设项目交通影响评价审查",
        ("parking_spaces", {"type": "integer", "title": "配建停车位（个）", "minimum": 0}),
        "交通影响评价报告",
    ),
]
SHARED_MATERIAL = "项目立项（备案）文件"

ANSWERS_DATA = {
    "project_name": "鼓楼软件园三期",
    "project_code": "2025-350102-65-01-000001",
    "annual_energy": 1200,
    "emission_kind": "施工扬尘、生活污水",
    "hazard_level": "无",
    "disturbed_area": 3.5,
    "fortification": "丙类",
    "relic_distance": 850,
    "parking_spaces": 420,
}


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.YIWANG_NOTIFIERS = {
        "sms": "yiwang.cases.notifiers.FakeSmsGateway",
        "email": "yiwang.cases.notifiers.FakeEmailGateway",
    }
    invalidate_calendar()
    yield
    invalidate_calendar()


@dataclass
class Dept:
    code: str
    department: object
    item: object
    approver: object
    head: object
    field_key: str
    material: str


@dataclass
class BundleWorld:
    regions: dict
    depts: dict[str, Dept]
    lead: object
    clerk: object
    head: object
    admin: object
    other_admin: object
    supervisor: object
    applicant: object
    outsider: object
    extra: dict = field(default_factory=dict)


def _assessment_item(i: int, code, kind, dept_name, item_name, own_field, material, region):
    dept = factories.department(region, kind=kind, code=f"{i + 11:03d}", name=f"鼓楼区{dept_name}")
    std = StandardItem.objects.create(
        basic_code=f"0{i + 1}{i + 1:03d}000{i}00"[:11],
        name=item_name,
        item_type="licensing",
        department_kind=kind,
        audience="company",
        legal_basis="《企业投资项目核准和备案管理条例》",
        statutory_limit_days=20,
        levels="234",
    )
    materials = [
        {"name": SHARED_MATERIAL, "form": "electronic", "requirement": "required", "source": "applicant"},
        {"name": material, "form": "original", "requirement": "required", "source": "applicant"},
    ]
    item = factories.implementation(std, dept, promised_limit_days=5 + i, materials=materials)
    key, schema = own_field
    ItemForm.objects.create(
        item=item,
        schema={
            "type": "object",
            "properties": {**COMMON_FIELDS, key: schema},
            "required": ["project_name", "applicant_name", "phone", key],
            "additionalProperties": False,
        },
        layout={
            "order": [*COMMON_FIELDS, key],
            "prefill": {"applicant_name": "person.name", "phone": "person.phone"},
        },
    )
    catalog.publish(item)
    item.refresh_from_db()
    return dept, item


@pytest.fixture
def bw(db) -> BundleWorld:
    return make_world()


@pytest.fixture
def bw_tx(transactional_db) -> BundleWorld:
    return make_world()


def make_world() -> BundleWorld:
    regions = factories.region_tree()
    county = regions["county"]
    depts = {}
    for i, (code, kind, dept_name, item_name, own_field, material) in enumerate(ASSESSMENTS):
        dept, item = _assessment_item(i, code, kind, dept_name, item_name, own_field, material, county)
        depts[code] = Dept(
            code,
            dept,
            item,
            staff(f"approver_{code}", Role.APPROVER, department=dept),
            staff(f"head_{code}", Role.DEPARTMENT_HEAD, department=dept),
            own_field[0],
            material,
        )
    lead = depts["energy"].department
    ensure_demo_registry()
    p = demo_people()[1]
    person = register_through_fake_sms(
        username="applicant", password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )
    person.verified_at = timezone.now()
    person.save(update_fields=["verified_at"])
    admin = staff("bundle_admin", Role.CATALOGUE_ADMIN, department=lead)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    return BundleWorld(
        regions=regions,
        depts=depts,
        lead=lead,
        clerk=staff("lead_clerk", Role.COUNTER_CLERK, department=lead),
        head=depts["energy"].head,
        admin=admin,
        other_admin=staff("env_admin", Role.CATALOGUE_ADMIN, department=depts["env"].department),
        supervisor=staff("supervisor", Role.SUPERVISOR, region=county),
        applicant=person.user,
        outsider=get_user_model().objects.create_user(username="outsider", password=PASSWORD),
    )


def build_bundle(
    bw: BundleWorld,
    *,
    code: str = "dpyh",
    outcome_rule: str = OutcomeRule.ALL_MUST_APPROVE,
    advisory: tuple[str, ...] = (),
    conditions: dict[str, str] | None = None,
    overall: int = 15,
    publish: bool = True,
    one_step: bool = False,
) -> Bundle:
    bundle = bundles.create_bundle(
        user=bw.admin,
        code=code,
        name="投资项目多评合一",
        kind=BundleKind.COMBINED_ASSESSMENT,
        lead_department=bw.lead,
        overall_limit_days=overall,
        outcome_rule=outcome_rule,
        audience="company",
        one_step_branches=one_step,
    )
    for code_, d in bw.depts.items():
        bundles.add_member(
            bundle,
            d.item,
            user=bw.admin,
            advisory=code_ in advisory,
            condition=(conditions or {}).get(code_, ""),
        )
    if conditions:
        bundles.save_question(
            bundle,
            user=bw.admin,
            key="near_relics",
            text="项目用地是否位于文物保护单位建设控制地带内？",
            choices=[{"value": "yes", "label": "是"}, {"value": "no", "label": "否"}],
        )
    bundles.rebuild_combined_form(bundle, user=bw.admin)
    if publish:
        bundles.publish_bundle(bundle, user=bw.admin)
    bundle.refresh_from_db()
    return bundle


def on(day: dt.date = MONDAY):
    return mock.patch("yiwang.cases.actions.CaseAction.today", return_value=day)


def today(day: dt.date = MONDAY):
    return mock.patch("django.utils.timezone.localdate", return_value=day)


def apply(bw: BundleWorld, bundle: Bundle, answers: dict | None = None, data: dict | None = None):
    """Fill the combined form and upload each needed material once; submit the umbrella."""
    app = bundles.start_bundle_application(bw.applicant, bundle, answers or {})
    values = {**app.data, **{k: v for k, v in ANSWERS_DATA.items() if k in app.form_schema["properties"]}}
    values.update(data or {})
    values.setdefault("applicant_name", "鼓楼软件园开发有限公司")
    cases.save_draft(app, user=bw.applicant, data=values)
    for m in bundles.combined_materials(bundle, bundles.applicable_members(bundle, answers or {})):
        cases.upload_material(
            app, requirement=m["name"], uploaded=pdf_upload(f"{m['name']}.pdf"), user=bw.applicant
        )
    return bundles.submit_bundle(app, user=bw.applicant)


def accepted_bundle(bw: BundleWorld, bundle: Bundle, answers: dict | None = None):
    umbrella = apply(bw, bundle, answers)
    with on(), today():
        umbrella = actions.Accept(umbrella, bw.clerk).run()
    return umbrella


def decide_branch(bw: BundleWorld, branch_case, decision: str = "approve", reasons: str = ""):
    d = next(d for d in bw.depts.values() if d.department.pk == branch_case.department_id)
    if _one_step(branch_case):
        return actions.Decide(branch_case, d.head, decision=decision, reasons=reasons).run()
    case = actions.Review(branch_case, d.approver, decision="pass").run()
    return actions.Decide(case, d.head, decision=decision, reasons=reasons).run()


def _one_step(branch_case) -> bool:
    """Does the branch run the one-step process (its open step is the decision)?"""
    from yiwang.workflow import selectors as wf

    return [t.spec_name for t in wf.open_tasks(branch_case)] == ["decide"]
