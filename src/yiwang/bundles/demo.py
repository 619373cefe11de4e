"""Ready-made bundles for the demo and the province generator (docs/bundles.md, "Ready-made
bundles").

``create_region_bundles(city)`` builds, in one prefecture, the four bundles of
``bundles.readymade``: 多评合一 and the import single window at the city, 我要开餐馆 and 孩子出生了
in the city's first district. The member items are found among the department's published
implementations (the generator usually made them) or claimed from the standard catalogue and
published; each gets its realistic form; then the bundle is defined, its combined form built and
published through ``bundles.services``, like an administrator would. Everything is idempotent
(keyed by codes), so ``load_demo`` can call it on a province the generator already finished.

``create_demo_bundles()`` (from ``core.demo.load_demo_extras``) makes sure the first city has its
bundles and gives the restaurant bundle's departments demo staff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.cases import formschema
from yiwang.cases.models import ItemForm
from yiwang.catalog import services as catalog_services
from yiwang.catalog.generator import names
from yiwang.catalog.generator.materials import MATERIALS
from yiwang.catalog.models import (
    ITEM_TYPE_CODES,
    ItemMaterial,
    ItemStatus,
    LifeEvent,
    ResultKind,
    ServiceItem,
    StandardItem,
    StandardMaterial,
)
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, DepartmentKind, Region, RegionLevel

from . import readymade, services
from .models import Bundle
from .readymade import EXTRA_MATERIALS, EXTRA_STANDARDS, BundleDef, MemberDef

ACTOR = "generator"
CHANNELS = ["web", "mobile", "counter"]


def _material_element(key: str, item_name: str) -> dict[str, Any]:
    spec = MATERIALS.get(key) or EXTRA_MATERIALS[key]
    name, form, copies, requirement, condition, source, cert, notes = spec
    return {
        "name": name.replace("{item}", item_name),
        "form": form,
        "copies": copies,
        "requirement": requirement,
        "condition": condition,
        "source": source,
        "certificate_type": cert,
        "notes": notes,
    }


# --- the catalogue the bundles need ---------------------------------------------------------------


def ensure_standards() -> None:
    """Create the standard items the built-in catalogue lacks (keyed by basic code)."""
    for d in EXTRA_STANDARDS:
        code = f"{ITEM_TYPE_CODES[d.item_type]}{names.kind_code(d.kind)}{d.serial:04d}00"
        standard, created = StandardItem.objects.get_or_create(
            basic_code=code,
            defaults={
                "name": d.name,
                "item_type": d.item_type,
                "department_kind": d.kind,
                "audience": d.audience,
                "legal_basis": d.legal_basis,
                "acceptance_conditions": "申请人提交的材料齐全、符合法定形式，项目依法须经本机关审查。",
                "statutory_limit_days": d.days,
                "result_name": d.result,
                # Review opinions (审查意见, 意见书): a decision letter, no certificate.
                "result_kind": ResultKind.DECISION,
                "levels": d.levels,
            },
        )
        if created:
            StandardMaterial.objects.bulk_create(
                StandardMaterial(standard=standard, sort=i, **_material_element(k, d.name))
                for i, k in enumerate(d.materials)
            )


def _standard(name: str, kind: str) -> StandardItem:
    standard = StandardItem.objects.filter(name=name, department_kind=kind).order_by("basic_code").first()
    if standard is None:
        raise LookupError(f"standard item {name!r} ({kind}) is missing: load the standard catalogue first")
    return standard


def ensure_customs(city: Region) -> Department:
    """The prefecture's customs (福州海关): customs is a vertical agency, not one of the line
    departments every region gets, so the generator makes it only where a bundle needs it."""
    dept = Department.objects.filter(region=city, kind=DepartmentKind.CUSTOMS).first()
    if dept is not None:
        return dept
    rng = random.Random(city.code)
    taken = set(Department.objects.filter(region=city).values_list("code", flat=True))
    code = names.kind_code(DepartmentKind.CUSTOMS)
    if code in taken:
        code = next(f"{n:03d}" for n in range(100, 1000) if f"{n:03d}" not in taken)
    return Department.objects.create(
        region=city,
        kind=DepartmentKind.CUSTOMS,
        code=code,
        name=f"{names.short_name(city.name)}海关",
        credit_code=names.credit_code(city.code, rng),
        phone=names.phone(city.code, rng),
        address=names.address(city.name, rng),
    )


def _department(region: Region, kind: str) -> Department:
    if kind == DepartmentKind.CUSTOMS:
        return ensure_customs(region)
    return Department.objects.get(region=region, kind=kind)


def _promised(standard: StandardItem) -> int | None:
    if standard.is_instant or not standard.statutory_limit_days:
        return None
    # within 60 % of the statutory limit, the provinces' target for promise items
    return max(1, int(standard.statutory_limit_days * 0.5))


def ensure_member_item(region: Region, member: MemberDef, kind: str) -> ServiceItem:
    """The department's published implementation of the member's standard item, with the
    member's form and local materials (claimed and published when the department has none)."""
    standard = _standard(member.standard, kind)
    dept = _department(region, kind)
    item = ServiceItem.objects.filter(standard=standard, department=dept).first()
    created = item is None
    if item is None:
        item = catalog_services.create_implementation(
            standard=standard,
            department=dept,
            is_instant=standard.is_instant,
            promised_limit_days=_promised(standard),
            online_depth=4,
            onsite_visits=0,
            channels=CHANNELS,
            delivery_methods="窗口领取、邮寄送达、电子证照",
            consult_phone=dept.phone,
            complaint_phone=f"{names.area_code(region.code)}-12345",
            where_to_apply=f"{region.name}行政服务中心",
            office_hours="工作日 8:30-12:00，14:30-17:30",
        )
    have = set(ItemMaterial.objects.filter(item=item).values_list("name", flat=True))
    extra = [_material_element(k, item.name or standard.name) for k in member.local_materials]
    new = [m for m in extra if m["name"] not in have]
    if new:
        start = len(have)
        ItemMaterial.objects.bulk_create(
            ItemMaterial(item=item, sort=start + i, **m) for i, m in enumerate(new)
        )
        if not created:
            catalog_services.mark_changed(item, changed_fields=["materials"])
    waived = 0
    for name, condition in member.waived:
        waived += (
            ItemMaterial.objects.filter(item=item, name=name)
            .exclude(condition=condition)
            .update(requirement="conditional", condition=condition)
        )
    if waived and not created and not new:
        catalog_services.mark_changed(item, changed_fields=["materials"])
    if created or new or waived or item.status != ItemStatus.PUBLISHED:
        catalog_services.publish(item, actor_label=ACTOR)
    _ensure_form(item, member.form)
    return item


def _ensure_form(item: ServiceItem, spec: dict[str, Any]) -> None:
    problems = formschema.check_schema(spec["schema"], spec["layout"])
    if problems:
        raise ValueError(f"bad ready-made form for {item.code}: {problems}")
    # The generator writes as the system: save_item_form asks for a catalogue administrator.
    ItemForm.objects.update_or_create(
        item=item, defaults={"schema": spec["schema"], "layout": spec["layout"]}
    )


# --- bundles --------------------------------------------------------------------------------------


def bundle_code(spec: BundleDef, region: Region) -> str:
    return f"{spec.key}-{region.code}"


def region_for(spec: BundleDef, city: Region) -> Region | None:
    """Where the bundle lives: the city itself, or its first district/county."""
    if spec.level == RegionLevel.CITY:
        return city
    return Region.objects.filter(parent=city, level=RegionLevel.COUNTY).order_by("code").first()


@transaction.atomic
def create_bundle(spec: BundleDef, region: Region) -> Bundle:
    """Define, build and publish one ready-made bundle in ``region`` (idempotent)."""
    code = bundle_code(spec, region)
    bundle = Bundle.objects.filter(code=code).first()
    life_event = LifeEvent.objects.filter(code=spec.life_event).first() if spec.life_event else None
    if bundle is not None and bundle.published:
        if life_event is not None and bundle.life_event_id is None:  # made before the link existed
            services.update_bundle(bundle, user=None, life_event=life_event)
        return bundle
    items = [ensure_member_item(region, m, MEMBER_KINDS[m.standard]) for m in spec.members]
    if bundle is None:
        bundle = services.create_bundle(
            user=None,
            code=code,
            name=spec.name,
            kind=spec.kind,
            lead_department=_department(region, spec.lead_kind),
            overall_limit_days=_overall_limit(spec, items),
            outcome_rule=spec.outcome_rule,
            one_step_branches=spec.one_step,
            description=spec.description,
            audience="person" if spec.kind == "life_event" else "company",
            life_event=life_event,
        )
        for order, (member, item) in enumerate(zip(spec.members, items, strict=True)):
            services.add_member(
                bundle, item, user=None, advisory=member.advisory, order=order, condition=member.condition
            )
        for order, q in enumerate(spec.questions):
            services.save_question(
                bundle,
                user=None,
                key=q.key,
                text=q.text,
                help=q.help,
                choices=[{"value": v, "label": label} for v, label in q.choices],
                order=order,
            )
    services.rebuild_combined_form(bundle, user=None)
    services.publish_bundle(bundle, user=None)
    bundle.refresh_from_db()
    return bundle


def _overall_limit(spec: BundleDef, items: list[ServiceItem]) -> int:
    """The bundle's limit: the spec's, kept within the publication rule (at least the longest
    branch, at most their sum) since the generated items' promised limits vary."""
    limits = []
    for item in items:
        e = item.current_version.elements if item.current_version_id else {}
        limits.append(e.get("promised_limit_days") or e.get("statutory_limit_days") or 1)
    return min(max(spec.limit_days, max(limits)), sum(limits))


# Which department kind implements each member (the standard item's own kind).
MEMBER_KINDS: dict[str, str] = {
    "固定资产投资项目节能审查": "fgw",
    "建设项目环境影响报告表审批": "sthjj",
    "建设项目安全预评价报告审查": "yjglj",
    "生产建设项目水土保持方案审批": "slj",
    "建设工程地震安全性评价结果审定及抗震设防要求确定": "zjj",
    "建设项目文物影响评估审查": "wlj",
    "建设项目交通影响评价审查": "jtj",
    "进口货物申报": "hg",
    "进境动植物及其产品检疫审批": "hg",
    "自动进口许可证签发": "swj",
    "个体工商户设立登记": "scjgj",
    "有限责任公司设立登记": "scjgj",
    "食品经营许可（新办）": "scjgj",
    "城市户外广告和招牌设施设置审批": "zjj",
    "出生医学证明签发（首次签发）": "wjw",
    "出生登记": "gaj",
    "城乡居民基本医疗保险参保登记": "ybj",
}


def create_region_bundles(city: Region) -> list[Bundle]:
    """The four ready-made bundles of one prefecture."""
    ensure_standards()
    out = []
    for spec in readymade.BUNDLES:
        region = region_for(spec, city)
        if region is not None:
            out.append(create_bundle(spec, region))
    return out


def create_province_bundles(province: Region, *, cities: int | None = None, progress=None) -> list[Bundle]:
    """Every prefecture's ready-made bundles (the generator's bundle step)."""
    out: list[Bundle] = []
    qs = Region.objects.filter(parent=province, level=RegionLevel.CITY).order_by("code")
    for city in qs[:cities] if cities else qs:
        out.extend(create_region_bundles(city))
        if progress:
            progress.update(1)
    return out


# --- the demo -------------------------------------------------------------------------------------

RESTAURANT_STAFF = (
    # username, role, the member department kind ("" = the lead department), label
    ("kcg_clerk", Role.COUNTER_CLERK, "", "窗口受理人员（一件事综合窗口）"),
    ("kcg_approver", Role.APPROVER, "", "审批人员"),
    ("kcg_head", Role.DEPARTMENT_HEAD, "", "部门负责人"),
    ("zjj_approver", Role.APPROVER, "zjj", "审批人员"),
    ("zjj_head", Role.DEPARTMENT_HEAD, "zjj", "部门负责人"),
)


@dataclass
class DemoBundles:
    bundles: list[Bundle] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def create_demo_bundles(province: Region | None = None) -> DemoBundles:
    """Every prefecture's ready-made bundles (made after the demo cases, whose item may be one
    the restaurant bundle gives its realistic form) and demo staff for the first city's
    restaurant bundle: its lead department (市场监管) and its signage department (住建)."""
    from yiwang.identity.synthetic import DEMO_PASSWORD

    province = province or Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code").first()
    out = DemoBundles()
    if province is None:
        return out
    city = Region.objects.filter(parent=province, level=RegionLevel.CITY).order_by("code").first()
    if city is None:
        return out
    create_province_bundles(province)
    out.bundles = create_region_bundles(city)  # already there: returns them
    restaurant = next(b for b in out.bundles if b.code.startswith(readymade.RESTAURANT.key + "-"))
    lead = restaurant.lead_department
    User = get_user_model()
    for username, role, kind, label in RESTAURANT_STAFF:
        dept = lead if not kind else Department.objects.get(region=lead.region, kind=kind)
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": label})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        StaffRole.objects.get_or_create(user=user, role=role, region=dept.region, department=dept)
        out.logins.append((username, DEMO_PASSWORD, f"{dept.name}{label}"))
    return out
