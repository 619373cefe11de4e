"""Implementations (实施清单): how many each region gets, and each one's own elements.

The rows are built in memory and written in batches (a province's 70,000 items come with
about 300,000 materials and 250,000 steps: one ``create_implementation`` each would make a
round trip per row); the
codes come from ``services.implementation_code`` and the steps from ``services.default_steps``,
so they are the ones ``create_implementation`` would have made.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.models import ItemMaterial, ProcessStep, ServiceItem, StandardItem, StandardMaterial
from yiwang.catalog.services import default_steps, implementation_code
from yiwang.core.errors import DomainError
from yiwang.regions.models import Department, DepartmentKind, RegionLevel

from .names import area_code
from .regions import ProvinceLayout
from .standards import StandardSpec

# Share of the items each level carries in a real province (Fujian: ~0.6% province,
# ~7% prefectures, ~82% counties, ~10% townships); counties absorb the rest.
LEVEL_SHARE = {RegionLevel.PROVINCE: 0.006, RegionLevel.CITY: 0.07, RegionLevel.TOWNSHIP: 0.105}

APPLICANT_TYPES = {
    "licensing",
    "confirmation",
    "benefit",
    "levy",
    "award",
    "adjudication",
    "other_power",
    "public_service",
}


def room_for(regions, specs: list[StandardSpec]) -> int:
    """How many implementations these regions can hold: one per standard item the level may
    implement (every region but a township has every line department)."""
    per_level = {lv: sum(1 for s in specs if str(lv) in s.levels) for lv in RegionLevel.values}
    return sum(per_level[r.level] for r in regions)


def too_many(total: int, room: int) -> DomainError:
    return DomainError(
        _("事项数 %(n)s 超过了本省可生成的上限 %(max)s（区划数 × 可实施的基本目录事项数）。")
        % {"n": total, "max": room},
        field="items",
    )


def allocate(
    total: int, layout: ProvinceLayout, capacity: dict[int, int], rng: random.Random
) -> dict[int, int]:
    """How many implementations each region gets: exactly ``total``, level shares as in a real
    province, none above the number of standard items the region may implement."""
    room = sum(capacity.values())
    if total > room:
        raise too_many(total, room)
    levels = {lv: layout.by_level(lv) for lv in RegionLevel.values}
    level_room = {lv: sum(capacity[r.pk] for r in regions) for lv, regions in levels.items()}
    target = {lv: min(level_room[lv], round(total * LEVEL_SHARE.get(lv, 0))) for lv in levels}
    target[RegionLevel.COUNTY] = total - sum(v for lv, v in target.items() if lv != RegionLevel.COUNTY)
    # Overflow from a full level goes to the others, largest room first.
    for lv in sorted(levels, key=lambda lv: -level_room[lv]):
        spill = target[lv] - level_room[lv]
        if spill > 0:
            target[lv] = level_room[lv]
            for other in sorted(levels, key=lambda o: -(level_room[o] - target[o])):
                take = min(spill, level_room[other] - target[other])
                target[other] += take
                spill -= take
    out: dict[int, int] = {}
    for lv, regions in levels.items():
        if not regions:
            continue
        # Bigger jitter for townships (a handful each), little for the departments above.
        spread = 0.5 if lv == RegionLevel.TOWNSHIP else 0.12
        weights = [rng.uniform(1 - spread, 1 + spread) for _ in regions]
        scale = target[lv] / sum(weights)
        shares = {r.pk: min(capacity[r.pk], int(w * scale)) for r, w in zip(regions, weights, strict=True)}
        left = target[lv] - sum(shares.values())
        order = list(regions)
        while left > 0:
            rng.shuffle(order)
            moved = False
            for r in order:
                if left and shares[r.pk] < capacity[r.pk]:
                    shares[r.pk] += 1
                    left -= 1
                    moved = True
            if not moved:
                raise DomainError(_("第%(lv)s级区划的事项容量不足。") % {"lv": lv}, field="items")
        out.update(shares)
    return out


def choose(
    standards: list[StandardItem], specs: dict[str, StandardSpec], k: int, rng: random.Random
) -> list[StandardItem]:
    """k distinct standard items, common ones (high weight) more likely (Efraimidis-Spirakis)."""
    if k >= len(standards):
        return list(standards)
    keyed = sorted(standards, key=lambda s: -(rng.random() ** (1.0 / specs[s.basic_code].weight)))
    return sorted(keyed[:k], key=lambda s: s.basic_code)


def _promised(statutory: int | None, rng: random.Random) -> int:
    if statutory is None:
        return rng.randint(3, 15)
    roll = rng.random()
    if roll < 0.88:  # the province's target: at most 60% of the statutory limit
        cap = max(1, math.floor(statutory * 0.6))
        return max(1, min(cap, round(statutory * rng.uniform(0.15, 0.6))))
    if roll < 0.97:
        return max(1, min(statutory, round(statutory * rng.uniform(0.6, 1.0))))
    return statutory


_IN_PERSON = (
    ("photo", gettext_lazy("需本人到场采集人像、指纹等生物特征信息")),
    ("marriage_statement", gettext_lazy("依法须当事人双方亲自到场办理")),
    ("site", gettext_lazy("需现场核查经营场所条件")),
    ("farm_site", gettext_lazy("需现场核查场所布局和防疫条件")),
    ("felling_design", gettext_lazy("需现场核实伐区")),
)


def _visit_reason(spec: StandardSpec) -> str:
    for key, reason in _IN_PERSON:
        if key in spec.materials:
            return str(reason)
    return _("需现场核验申请材料原件")


_DELIVERY = {
    4: "电子证照推送；邮政EMS免费寄递；窗口领取",
    3: "邮政EMS免费寄递；窗口领取",
    2: "窗口领取；邮寄送达",
    1: "窗口领取",
    0: "窗口领取；直接送达",
}


def own_elements(std: StandardItem, spec: StandardSpec, dept: Department, hall, rng: random.Random) -> dict:
    """The elements a department sets itself, varied the way real lists vary."""
    region = dept.region
    applicant = spec.item_type in APPLICANT_TYPES
    is_instant = std.is_instant
    statutory = std.statutory_limit_days
    if applicant and not is_instant and statutory is not None and statutory <= 5 and rng.random() < 0.3:
        is_instant = True  # 即办: short items done on the spot locally
    depth = rng.choices([4, 3, 2, 1], weights=[45, 40, 10, 5])[0] if applicant else rng.choice([0, 1])
    reason = ""
    in_person = any(k in spec.materials for k in ("photo", "marriage_statement"))
    if in_person:
        depth = min(depth, 3)
    if not applicant or depth == 4:
        visits = 0
    elif depth == 3:
        visits = 1 if in_person or rng.random() < 0.35 else 0
    else:
        visits = 1
    if visits:
        reason = _visit_reason(spec)
    if depth >= 3:
        channels = ["web", "mobile", "counter"]
        if rng.random() < 0.25:
            channels.append("self_service")
        if rng.random() < 0.1:
            channels.append("mail")
    elif depth == 2:
        channels = ["web", "counter"]
    else:
        channels = ["counter"]
    fee = bool(spec.fee_standard)
    area = area_code(region.code)
    return {
        "is_instant": is_instant,
        "promised_limit_days": None if is_instant else _promised(statutory, rng),
        "fee_required": fee,
        "fee_standard": spec.fee_standard if fee else "",
        "online_payment": fee and depth >= 3 and rng.random() < 0.85,
        "where_to_apply": f"{hall.name}（{hall.address}）",
        "office_hours": hall.opening_hours,
        "onsite_visits": visits,
        "onsite_reason": reason,
        "online_depth": depth,
        "channels": channels,
        "delivery_methods": _DELIVERY[depth] if applicant else "直接送达；留置送达；邮寄送达",
        "consult_phone": dept.phone or hall.phone or f"{area}-12345",
        "complaint_phone": f"{area}-12345",
        "extra_conditions": _("申请人须为本地户籍或持有本地居住证。")
        if applicant and spec.audience == "person" and rng.random() < 0.05
        else "",
    }


def _steps(is_instant: bool, promised: int | None, spec: StandardSpec, rng: random.Random) -> list[dict]:
    """Step notes for the template the item runs (``services.default_steps``): time limits that
    add up to the promise, and criteria."""
    steps = {s["name"]: s for s in default_steps(is_instant=is_instant)}
    if is_instant:
        return list(steps.values())
    p = promised or 1
    limits: dict[str, int | None] = (
        {"受理": 1, "审查": p - 2, "决定": 1} if p >= 3 else {"受理": 1 if p == 2 else None, "决定": 1}
    )
    for name, s in steps.items():
        s["time_limit_days"] = limits.get(name)
    steps["受理"]["criteria"] = _(
        "申请材料齐全、符合法定形式的，予以受理；不齐全的，一次性告知需补正的全部内容。"
    )
    steps["审查"]["criteria"] = _("对申请材料的实质内容进行审查。")
    steps["现场核查/专家评审"]["criteria"] = (
        _("核查场所、设施与申请材料是否一致。")
        if spec.item_type == "licensing" and "site" in spec.materials
        else _("需要现场核查或专家评审的，告知申请人所需时间，该时间不计入办理时限。")
    )
    steps["决定"]["criteria"] = _("作出准予或者不予办理的决定；不予办理的，说明理由并告知救济途径。")
    return list(steps.values())


_MATERIAL_FIELDS = [
    "item",
    "standard_material",
    "sort",
    "name",
    "form",
    "copies",
    "requirement",
    "condition",
    "source",
    "certificate_type",
    "notes",
]
_STEP_FIELDS = ["item", "sort", "name", "is_approval", "handler", "time_limit_days", "criteria"]


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """INSERT many rows with one prepared statement, without bulk_create's per-object work for
    the ~10 child rows of every item; the same SQL on SQLite and PostgreSQL."""
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})", rows)


def build_items(
    layout: ProvinceLayout,
    standards: list[StandardItem],
    materials: dict[int, list[StandardMaterial]],
    specs: dict[str, StandardSpec],
    total: int,
    rng: random.Random,
    progress: Callable[[int], None] | None = None,
    batch: int = 2000,
    exclude: frozenset[tuple[int, int]] = frozenset(),
) -> list[int]:
    """Create ``total`` draft implementations spread over the province; return their ids.

    ``exclude``: (standard item id, department id) pairs that already have an implementation."""
    eligible: dict[int, dict[str, list[StandardItem]]] = {}
    for lv in RegionLevel.values:
        by_kind: dict[str, list[StandardItem]] = {}
        for s in standards:
            if str(lv) in s.levels:
                by_kind.setdefault(s.department_kind, []).append(s)
        eligible[lv] = by_kind
    capacity: dict[int, int] = {}
    candidates: dict[int, list[tuple[StandardItem, Department]]] = {}
    for region in layout.regions:
        depts = layout.departments.get(region.pk, [])
        pairs: list[tuple[StandardItem, Department]] = []
        if region.level == RegionLevel.TOWNSHIP:
            office = next(d for d in depts if d.kind == DepartmentKind.TOWNSHIP_OFFICE)
            pairs = [(s, office) for group in eligible[region.level].values() for s in group]
        else:
            by_kind = {d.kind: d for d in depts}
            pairs = [
                (s, by_kind[k]) for k, group in eligible[region.level].items() if k in by_kind for s in group
            ]
        if exclude:
            pairs = [(s, d) for s, d in pairs if (s.pk, d.pk) not in exclude]
        candidates[region.pk] = pairs
        capacity[region.pk] = len(pairs)
    shares = allocate(total, layout, capacity, rng)

    item_ids: list[int] = []
    pending: list[tuple[ServiceItem, StandardItem, StandardSpec, list[dict]]] = []

    def flush() -> None:
        if not pending:
            return
        created = ServiceItem.objects.bulk_create([p[0] for p in pending])
        mats: list[tuple] = []
        steps: list[tuple] = []
        halls: list[tuple] = []
        for (item, std, spec, item_steps), saved in zip(pending, created, strict=True):
            item_ids.append(saved.pk)
            for m in materials.get(std.pk, []):
                mats.append(
                    (
                        saved.pk,
                        m.pk,
                        m.sort,
                        m.name,
                        m.form,
                        m.copies,
                        m.requirement,
                        m.condition,
                        m.source,
                        m.certificate_type,
                        m.notes,
                    )
                )
            if spec.item_type == "licensing" and rng.random() < 0.15:
                # 告知承诺制: a signed promise replaces some certificates in this region.
                mats.append(
                    (
                        saved.pk,
                        None,
                        len(materials.get(std.pk, [])),
                        _("告知承诺书"),
                        "original",
                        1,
                        "conditional",
                        _("选择告知承诺方式办理的"),
                        "applicant",
                        "",
                        _("申请人签署承诺书后，免于提交相关证明材料"),
                    )
                )
            steps.extend(
                (
                    saved.pk,
                    i,
                    s["name"],
                    s["is_approval"],
                    s["handler"],
                    s["time_limit_days"],
                    s.get("criteria", ""),
                )
                for i, s in enumerate(item_steps)
            )
            halls.append((saved.pk, layout.halls[item.region_id].pk))
        insert_rows(ItemMaterial, _MATERIAL_FIELDS, mats)
        insert_rows(ProcessStep, _STEP_FIELDS, steps)
        insert_rows(ServiceItem.halls.through, ["serviceitem", "servicehall"], halls)
        if progress:
            progress(len(pending))
        pending.clear()

    for region in layout.regions:
        k = shares.get(region.pk, 0)
        if not k:
            continue
        pairs = candidates[region.pk]
        chosen_std = {s.pk for s in choose([s for s, _d in pairs], specs, k, rng)}
        hall = layout.halls[region.pk]
        for std, dept in pairs:
            if std.pk not in chosen_std:
                continue
            spec = specs[std.basic_code]
            own = own_elements(std, spec, dept, hall, rng)
            item = ServiceItem(
                standard=std, region=region, department=dept, code=implementation_code(std, dept), **own
            )
            pending.append(
                (item, std, spec, _steps(own["is_instant"], own["promised_limit_days"], spec, rng))
            )
            if len(pending) >= batch:
                flush()
    flush()
    return item_ids
