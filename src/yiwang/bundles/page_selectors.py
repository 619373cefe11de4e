"""Reads for the bundle pages of the portal and the workbench (the applicant's guide and
questionnaire, the materials checklist with what is shared, the public lookup's branch list).

Built on ``bundles.selectors`` and ``bundles.services``' read functions; kept apart from them
because they shape data for pages (labels, which department uses a shared material) rather
than define the bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from yiwang.cases import selectors as case_selectors
from yiwang.cases.models import Application, Case
from yiwang.catalog.models import ServiceItem
from yiwang.regions.models import Region, RegionLevel

from . import selectors, services
from .models import Bundle, BundleApplication, BundleKind, BundleMaterial, BundleMember, Question


def published_bundles_in(region_path: str | None = None) -> QuerySet[Bundle]:
    """Published bundles, lead department first by region code; ``region_path`` narrows to a
    region and everything below it."""
    qs = Bundle.objects.filter(published=True, item__isnull=False).select_related(
        "lead_department__region", "item"
    )
    if region_path:
        qs = qs.filter(lead_department__region__path__startswith=region_path)
    return qs.order_by("lead_department__region__code", "code")


def bundles_for_region(region: Region, *, with_life_event: bool = False) -> list[Bundle]:
    """The published bundles a resident of ``region`` is served by: those led in the region or
    below it, and those led in the regions above it (the city's, the province's); by kind, then
    from the province down."""
    ancestors = [c for c in region.path.split("/") if c]
    qs = published_bundles_in().filter(
        Q(lead_department__region__path__startswith=region.path)
        | Q(lead_department__region__code__in=ancestors)
    )
    if with_life_event:
        qs = qs.select_related("life_event")
    return list(
        qs.order_by("kind", "lead_department__region__level", "lead_department__region__code", "code")
    )


@dataclass
class BundleGroup:
    kind: str
    label: str
    bundles: list[Bundle]


def grouped_by_kind(bundles: list[Bundle]) -> list[BundleGroup]:
    """Bundles in groups by kind (一件事一次办 first), each group in the given order."""
    order = [k for k, _ in BundleKind.choices]
    groups: dict[str, BundleGroup] = {}
    for b in bundles:
        groups.setdefault(b.kind, BundleGroup(b.kind, b.get_kind_display(), [])).bundles.append(b)
    return sorted(groups.values(), key=lambda g: order.index(g.kind) if g.kind in order else len(order))


def city_choices() -> list[Region]:
    """The prefectures of the platform's province, for the bundle list's region chooser."""
    province = Region.objects.filter(code=settings.YIWANG_PROVINCE_CODE).first()
    if province is None:
        return []
    return list(Region.objects.filter(parent=province, level=RegionLevel.CITY).order_by("code"))


def life_event_bundles(region: Region) -> dict[str, Bundle]:
    """life event code -> the published bundle of that life event serving ``region``
    (``bundles_for_region``; the nearest region's when several do)."""
    out: dict[str, Bundle] = {}
    found = [
        (b.lead_department.region.level, b.code, b.life_event.code, b)
        for b in bundles_for_region(region, with_life_event=True)
        if b.life_event is not None and b.lead_department is not None
    ]
    for _level, _code, event, b in sorted(found, key=lambda t: (-t[0], t[1])):
        out.setdefault(event, b)
    return out


def bundle_by_code(code: str) -> Bundle | None:
    return (
        Bundle.objects.filter(code=code, published=True, item__isnull=False)
        .select_related("lead_department__region", "item")
        .first()
    )


def bundle_of_item_code(item_code: str) -> Bundle | None:
    """The published bundle an item code stands for (the bundle's own catalogue item)."""
    return Bundle.objects.filter(item__code=item_code, published=True).select_related("item").first()


@dataclass
class MemberRow:
    member: BundleMember
    item_name: str
    item_code: str
    department_name: str
    limit_days: int | None
    advisory: bool
    condition_text: str  # "" = always applies; else the answers that make it apply
    applies: bool | None = None  # with answers: does it apply


@dataclass
class MaterialRow:
    material: BundleMaterial
    name: str
    required: bool
    element: dict[str, Any]
    departments: list[str]  # the departments it is shared with
    shared: bool


@dataclass
class BundleGuide:
    bundle: Bundle
    members: list[MemberRow]
    materials: list[MaterialRow]
    questions: list[Question]
    departments: list[str] = field(default_factory=list)


def _members(bundle: Bundle) -> list[BundleMember]:
    return list(
        bundle.members.select_related("item__department", "item__current_version").order_by("order", "pk")
    )


def _item_name(item: ServiceItem) -> str:
    v = item.current_version
    return v.name if v is not None else (item.name or "")


def condition_text(condition: str, questions: list[Question]) -> str:
    """A member's condition in words: 'key == "value"' → the question's choice label."""
    if not condition:
        return ""
    out = condition
    for q in questions:
        for c in q.choices:
            for quote in ('"', "'"):
                expr = f"{q.key} == {quote}{c['value']}{quote}"
                if expr in out:
                    out = out.replace(expr, f"{q.text.rstrip('？?')}：{c['label']}")
    return out.replace(" and ", " 且 ").replace(" or ", " 或 ")


def _promised(item: ServiceItem) -> int | None:
    v = item.current_version
    return (v.elements or {}).get("promised_limit_days") if v is not None else None


def bundle_guide(bundle: Bundle, answers: dict[str, Any] | None = None) -> BundleGuide:
    questions = list(bundle.questions.order_by("order", "pk"))
    members = _members(bundle)
    applicable = {m.pk for m in services.applicable_members(bundle, answers)} if answers is not None else None
    rows = [
        MemberRow(
            member=m,
            item_name=_item_name(m.item),
            item_code=m.item.code,
            department_name=m.item.department.name,
            limit_days=m.limit_days or _promised(m.item),
            advisory=m.advisory,
            condition_text=condition_text(m.condition, questions),
            applies=None if applicable is None else m.pk in applicable,
        )
        for m in members
    ]
    depts = {str(m.item_id): m.item.department.name for m in members}
    all_materials = list(bundle.materials.order_by("order", "pk"))
    # After the questionnaire: only what the applicable members need (``needed_materials``).
    used = set(depts) if applicable is None else {str(m.item_id) for m in members if m.pk in applicable}
    materials = []
    for bm in services.needed_materials(all_materials, used):
        keys = [k for k in (bm.mapping or {}) if k in used]
        materials.append(
            MaterialRow(
                material=bm,
                name=bm.name,
                required=bool({str(i) for i in bm.required_for} & used),
                element=bm.element or {},
                departments=sorted({depts[k] for k in keys if k in depts}),
                shared=len(keys) > 1,
            )
        )
    seen: list[str] = []
    for r in rows:
        if r.department_name not in seen:
            seen.append(r.department_name)
    return BundleGuide(bundle, rows, materials, questions, seen)


def parse_answers(bundle: Bundle, raw: dict[str, Any]) -> tuple[dict[str, str], list[Question]]:
    """The answers among the offered choices, and the questions still unanswered."""
    answers: dict[str, str] = {}
    missing: list[Question] = []
    for q in bundle.questions.order_by("order", "pk"):
        value = raw.get(q.key, "")
        if value in {c["value"] for c in q.choices}:
            answers[q.key] = value
        else:
            missing.append(q)
    return answers, missing


# --- drafts and cases -----------------------------------------------------------------------------


def applicant_cases(user: User, *, company_id: int | None = None) -> QuerySet[Case]:
    """The applicant's cases for "my cases": a bundle shows as its umbrella case only (its branch
    cases are the departments' working copies, followed on the umbrella's page).
    ``company_id``: only those filed for that company."""
    return case_selectors.cases_of(user, company_id=company_id).filter(bundle_branch__isnull=True)


def link_of(application: Application) -> BundleApplication | None:
    return BundleApplication.objects.filter(application=application).select_related("bundle").first()


def draft_materials(application: Application) -> list[MaterialRow]:
    """The materials of an umbrella draft: those of the applicable members only, each once,
    with the departments it will be shared with."""
    link = link_of(application)
    if link is None:
        return []
    bundle = link.bundle
    members = [m for m in _members(bundle) if m.pk in set(link.member_ids)]
    depts = {str(m.item_id): m.item.department.name for m in members}
    used = {str(m.item_id) for m in members}
    all_materials = list(bundle.materials.order_by("order", "pk"))
    rows = []
    for bm in services.needed_materials(all_materials, used):
        keys = [k for k in (bm.mapping or {}) if k in used]
        required = bool({str(i) for i in bm.required_for} & used)
        rows.append(
            MaterialRow(
                material=bm,
                name=bm.name,
                required=required,
                element={
                    "name": bm.name,
                    **bm.element,
                    "requirement": "required" if required else "conditional",
                    "condition": "",
                },
                departments=sorted({depts[k] for k in keys}),
                shared=len(keys) > 1,
            )
        )
    return rows


def draft_members(application: Application) -> list[MemberRow]:
    link = link_of(application)
    if link is None:
        return []
    guide = bundle_guide(link.bundle, link.answers)
    ids = set(link.member_ids)
    return [r for r in guide.members if r.member.pk in ids]


@dataclass
class PublicBranch:
    department_name: str
    item_name: str
    state_label: str
    done: bool


def public_branches(case: Case) -> list[PublicBranch]:
    """What the public lookup shows of an umbrella case: each department's item and state,
    nothing of the application."""
    if not selectors.is_umbrella(case):
        return []
    overview = selectors.bundle_overview(case)
    return [
        PublicBranch(r.department_name, r.item_name, r.state_label, bool(r.outcome)) for r in overview.rows
    ]
