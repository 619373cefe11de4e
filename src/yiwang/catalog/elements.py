"""The guide elements: their labels, how an implementation's elements are merged with its
standard item's, and how two published versions differ."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    RESULT_KINDS_WITH_CERTIFICATE,
    Audience,
    Channel,
    ItemType,
    MaterialForm,
    MaterialRequirementKind,
    MaterialSource,
    OnlineDepth,
    ResultKind,
    ServiceItem,
)

if TYPE_CHECKING:
    from yiwang.workflow.selectors import GuideStep

# Every element of a published guide, in guide order, with the label a person reads.
ELEMENT_LABELS: dict[str, Any] = {
    "code": _("实施编码"),
    "name": _("事项名称"),
    "aliases": _("别名"),
    "item_type": _("事项类型"),
    "audience": _("服务对象"),
    "legal_basis": _("设定依据"),
    "acceptance_conditions": _("受理条件"),
    "extra_conditions": _("本地补充受理条件"),
    "statutory_limit_days": _("法定办结时限"),
    "promised_limit_days": _("承诺办结时限"),
    "is_instant": _("办件类型"),
    "fee_required": _("是否收费"),
    "fee_standard": _("收费标准"),
    "fee_basis": _("收费依据"),
    "online_payment": _("支持网上支付"),
    "where_to_apply": _("办理地点"),
    "office_hours": _("办理时间"),
    "halls": _("办理大厅"),
    "onsite_visits": _("到办事现场次数"),
    "onsite_reason": _("必须现场办理原因"),
    "online_depth": _("网办深度"),
    "channels": _("办理渠道"),
    "delivery_methods": _("结果送达方式"),
    "consult_phone": _("咨询电话"),
    "complaint_phone": _("监督投诉电话"),
    "result_name": _("审批结果名称"),
    "result_kind": _("审批结果类型"),
    "result_certificate_type": _("结果证照类型"),
    "min_assurance_level": _("最低认证等级"),
    "materials": _("申请材料"),
    "steps": _("办理流程"),
    "approval_steps": _("审批环节数"),
    "themes": _("主题"),
    "life_events": _("一件事"),
    "region": _("实施区划"),
    "department": _("实施主体"),
    "standard": _("基本目录事项"),
    "process": _("办理流程（BPMN）"),
}

MATERIAL_LABELS: dict[str, Any] = {
    "name": _("材料名称"),
    "form": _("材料形式"),
    "copies": _("份数"),
    "requirement": _("必要性"),
    "condition": _("适用情形"),
    "source": _("来源渠道"),
    "certificate_type": _("电子证照/共享数据类型"),
    "notes": _("填报说明"),
}

_CHOICE_LABELS = {
    "item_type": dict(ItemType.choices),
    "audience": dict(Audience.choices),
    "online_depth": dict(OnlineDepth.choices),
    "result_kind": dict(ResultKind.choices),
    "form": dict(MaterialForm.choices),
    "requirement": dict(MaterialRequirementKind.choices),
    "source": dict(MaterialSource.choices),
    "min_assurance_level": dict(ServiceItem._meta.get_field("min_assurance_level").choices),
}
_CHANNEL_LABELS = dict(Channel.choices)


# Separators between the entries of a list typed in one cell or text box (aliases, channels,
# audience): ASCII / | , ; and their full-width forms ／ ｜ ， ；, the enumeration comma 、 and line
# breaks. Every list in the catalogue is split by ``split_list`` so that what one column accepts,
# every column accepts.
LIST_SEPARATORS = "/|,;／｜，；、\n"
_LIST_SPLIT = re.compile("[" + re.escape(LIST_SEPARATORS) + "]+")


def split_list(text: str | None) -> list[str]:
    """The entries of a list cell, blanks (also full-width spaces) trimmed, empty entries dropped."""
    return [part.strip() for part in _LIST_SPLIT.split(text or "") if part.strip()]


def split_aliases(text: str) -> list[str]:
    return split_list(text)


_MATERIAL_KEYS = ("name", "form", "copies", "requirement", "condition", "source", "certificate_type", "notes")
_STEP_KEYS = ("name", "is_approval", "handler", "time_limit_days", "criteria")
_ITEM_KEYS = (
    "id",
    "code",
    "standard_id",
    "region_id",
    "department_id",
    "current_version_id",
    "status",
    "name",
    "aliases",
    "item_type",
    "audience",
    "legal_basis",
    "acceptance_conditions",
    "statutory_limit_days",
    "is_instant",
    "promised_limit_days",
    "fee_required",
    "fee_standard",
    "fee_basis",
    "online_payment",
    "where_to_apply",
    "office_hours",
    "onsite_visits",
    "onsite_reason",
    "online_depth",
    "channels",
    "delivery_methods",
    "consult_phone",
    "complaint_phone",
    "result_name",
    "result_kind",
    "result_certificate_type",
    "extra_conditions",
    "min_assurance_level",
    "region__code",
    "region__name",
    "region__level",
    "region__path",
    "department__name",
    "department__code",
    "department__kind",
)
_STD_KEYS = (
    "id",
    "basic_code",
    "name",
    "aliases",
    "item_type",
    "audience",
    "legal_basis",
    "acceptance_conditions",
    "statutory_limit_days",
    "fee_basis",
    "result_name",
    "result_kind",
    "result_certificate_type",
)


@dataclass
class MergedItem:
    """An implementation's merged elements, with the ids the version row needs beside them."""

    elements: dict[str, Any]
    item_id: int
    current_version_id: int | None
    status: str
    region_id: int
    region_path: str
    region_level: int
    department_id: int
    department_kind: str
    theme_ids: list[int]
    # The steps of the process the item runs, and the names of the item's own step notes
    # (ProcessStep rows: time limit and criteria by step name): rules.process_disagreements.
    process_steps: list[GuideStep] = field(default_factory=list)
    step_notes: list[str] = field(default_factory=list)


def guide_steps(process_steps: list[GuideStep], notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The guide's steps: the process's steps in order, who does them by role, with the time
    limit and criteria of the item's note of the same name."""
    by_name = {n["name"]: n for n in notes}
    return [
        {
            "name": s.name,
            "is_approval": s.is_approval,
            "handler": s.handler,
            "time_limit_days": by_name.get(s.name, {}).get("time_limit_days"),
            "criteria": by_name.get(s.name, {}).get("criteria") or "",
            "optional": s.optional,
        }
        for s in process_steps
    ]


def _grouped(rows, key: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def merge_items(item_ids: list[int]) -> dict[int, MergedItem]:
    """The guide elements of many implementations, read with one query per table.

    This is the one place that knows how an implementation inherits from its standard item;
    ``effective_elements`` (one item) and ``bulk_publish`` (thousands) both use it, and it reads
    plain rows rather than model instances because the generator publishes 70,000 items.
    """
    from .models import (
        HallLink,
        ItemMaterial,
        ItemThemeLink,
        LifeEventLink,
        ProcessStep,
        StandardItem,
        StandardThemeLink,
    )

    items = list(ServiceItem.objects.filter(pk__in=item_ids).values(*_ITEM_KEYS))
    std_ids = {i["standard_id"] for i in items}
    stds = {s["id"]: s for s in StandardItem.objects.filter(pk__in=std_ids).values(*_STD_KEYS)}
    materials = _grouped(
        ItemMaterial.objects.filter(item_id__in=item_ids)
        .order_by("sort", "id")
        .values("item_id", *_MATERIAL_KEYS),
        "item_id",
    )
    steps = _grouped(
        ProcessStep.objects.filter(item_id__in=item_ids)
        .order_by("sort", "id")
        .values("item_id", *_STEP_KEYS),
        "item_id",
    )
    item_themes = _grouped(
        ItemThemeLink.objects.filter(serviceitem_id__in=item_ids)
        .order_by("theme__audience", "theme__sort", "theme__code")
        .values("serviceitem_id", "theme_id", "theme__code", "theme__name"),
        "serviceitem_id",
    )
    std_themes = _grouped(
        StandardThemeLink.objects.filter(standarditem_id__in=std_ids)
        .order_by("theme__audience", "theme__sort", "theme__code")
        .values("standarditem_id", "theme_id", "theme__code", "theme__name"),
        "standarditem_id",
    )
    events = _grouped(
        LifeEventLink.objects.filter(standarditem_id__in=std_ids)
        .order_by("lifeevent__sort", "lifeevent__code")
        .values("standarditem_id", "lifeevent__code", "lifeevent__name"),
        "standarditem_id",
    )
    halls = _grouped(
        HallLink.objects.filter(serviceitem_id__in=item_ids)
        .order_by("servicehall__name", "servicehall_id")
        .values(
            "serviceitem_id",
            "servicehall_id",
            "servicehall__name",
            "servicehall__address",
            "servicehall__phone",
            "servicehall__opening_hours",
        ),
        "serviceitem_id",
    )
    from yiwang.workflow.selectors import bound_processes
    from yiwang.workflow.selectors import guide_steps as process_steps_of

    processes = bound_processes(item_ids)
    process_steps = process_steps_of({it["id"]: it["is_instant"] for it in items})
    merged: dict[int, MergedItem] = {}
    for it in items:
        std = stds[it["standard_id"]]
        iid = it["id"]
        notes = steps.get(iid, [])
        step_list = guide_steps(process_steps[iid], notes)
        themes = item_themes.get(iid) or std_themes.get(std["id"], [])
        statutory = (
            it["statutory_limit_days"]
            if it["statutory_limit_days"] is not None
            else std["statutory_limit_days"]
        )
        kind = str(it["result_kind"] or std["result_kind"] or ResultKind.DECISION)
        elements = {
            "code": it["code"],
            "name": it["name"] or std["name"],
            "aliases": split_aliases(it["aliases"] or std["aliases"]),
            "item_type": it["item_type"] or std["item_type"],
            "audience": it["audience"] or std["audience"],
            "legal_basis": it["legal_basis"] or std["legal_basis"],
            "acceptance_conditions": it["acceptance_conditions"] or std["acceptance_conditions"],
            "extra_conditions": it["extra_conditions"],
            "statutory_limit_days": statutory,
            "promised_limit_days": it["promised_limit_days"],
            "is_instant": it["is_instant"],
            "fee_required": it["fee_required"],
            "fee_standard": it["fee_standard"],
            "fee_basis": it["fee_basis"] or (std["fee_basis"] if it["fee_required"] else ""),
            "online_payment": it["online_payment"],
            "where_to_apply": it["where_to_apply"],
            "office_hours": it["office_hours"],
            "halls": [
                {
                    "id": h["servicehall_id"],
                    "name": h["servicehall__name"],
                    "address": h["servicehall__address"],
                    "phone": h["servicehall__phone"],
                    "opening_hours": h["servicehall__opening_hours"],
                }
                for h in halls.get(iid, [])
            ],
            "onsite_visits": it["onsite_visits"],
            "onsite_reason": it["onsite_reason"],
            "online_depth": it["online_depth"],
            "channels": list(it["channels"] or []),
            "delivery_methods": it["delivery_methods"],
            "consult_phone": it["consult_phone"],
            "complaint_phone": it["complaint_phone"],
            "result_name": it["result_name"] or std["result_name"],
            "result_kind": kind,
            # Only a kind that issues or revokes names a certificate type.
            "result_certificate_type": (
                (it["result_certificate_type"] or std["result_certificate_type"]).strip()
                if kind in RESULT_KINDS_WITH_CERTIFICATE
                else ""
            ),
            "min_assurance_level": it["min_assurance_level"],
            "materials": [{k: m[k] for k in _MATERIAL_KEYS} for m in materials.get(iid, [])],
            "steps": step_list,
            "approval_steps": sum(1 for s in step_list if s["is_approval"]),
            "themes": [{"code": t["theme__code"], "name": t["theme__name"]} for t in themes],
            "life_events": [
                {"code": e["lifeevent__code"], "name": e["lifeevent__name"]}
                for e in events.get(std["id"], [])
            ],
            "region": {"code": it["region__code"], "name": it["region__name"], "level": it["region__level"]},
            "department": {
                "id": it["department_id"],
                "name": it["department__name"],
                "code": it["department__code"],
                "kind": it["department__kind"],
            },
            "standard": {"basic_code": std["basic_code"], "name": std["name"]},
        }
        if iid in processes:
            # Only bound items carry it: the default templates need no mention in the guide.
            elements["process"] = processes[iid]
        merged[iid] = MergedItem(
            elements=elements,
            item_id=iid,
            current_version_id=it["current_version_id"],
            status=it["status"],
            region_id=it["region_id"],
            region_path=it["region__path"],
            region_level=it["region__level"],
            department_id=it["department_id"],
            department_kind=it["department__kind"],
            theme_ids=[t["theme_id"] for t in themes],
            process_steps=process_steps[iid],
            step_notes=[n["name"] for n in notes],
        )
    return merged


def effective_elements(item: ServiceItem) -> dict[str, Any]:
    """The implementation's guide as it would be published: own elements, blanks inherited."""
    return merge_items([item.pk])[item.pk].elements


def display_value(key: str, value: Any) -> str:
    """A value as a person reads it in a change list or deviation report."""
    if value is None or value == "" or value == []:
        return "—"
    if key in _CHOICE_LABELS:
        return str(_CHOICE_LABELS[key].get(value, value))
    if key == "is_instant":
        return str(_("即办件") if value else _("承诺件"))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if key == "promised_limit_days" and value == 0:
        return str(_("即办"))
    if key in {"statutory_limit_days", "promised_limit_days"}:
        return ngettext("%(n)s个工作日", "%(n)s个工作日", value) % {"n": value}
    if key == "channels":
        return "、".join(str(_CHANNEL_LABELS.get(c, c)) for c in value)
    if key == "aliases":
        return "、".join(value)
    if key in {"themes", "life_events", "halls"}:
        return "、".join(v["name"] for v in value)
    if key == "process":
        return f"{value.get('name', '')} v{value.get('version', '')}"
    if key in {"region", "department", "standard"}:
        return str(value.get("name", ""))
    if key == "steps":
        return " → ".join(s["name"] for s in value)
    return str(value)


def _material_changes(old: list[dict], new: list[dict]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    old_by_name = {m["name"]: m for m in old}
    new_by_name = {m["name"]: m for m in new}
    label = str(ELEMENT_LABELS["materials"])
    for name, m in new_by_name.items():
        if name not in old_by_name:
            out.append(
                {"field": "materials", "label": label, "old": "—", "new": str(_("新增：%(n)s") % {"n": name})}
            )
            continue
        before = old_by_name[name]
        for k, klabel in MATERIAL_LABELS.items():
            if k != "name" and before.get(k) != m.get(k):
                out.append(
                    {
                        "field": f"materials.{k}",
                        "label": f"{label}「{name}」{klabel}",
                        "old": display_value(k, before.get(k)),
                        "new": display_value(k, m.get(k)),
                    }
                )
    for name in old_by_name:
        if name not in new_by_name:
            out.append(
                {"field": "materials", "label": label, "old": str(_("删除：%(n)s") % {"n": name}), "new": "—"}
            )
    if not out and [m["name"] for m in old] != [m["name"] for m in new]:
        out.append(
            {"field": "materials", "label": label, "old": str(_("原顺序")), "new": str(_("调整了材料顺序"))}
        )
    return out


def diff_elements(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, str]]:
    """What changed between two versions' elements, one row per element (per material field)."""
    if old is None:
        return [{"field": "*", "label": str(_("首次发布")), "old": "—", "new": new.get("name", "")}]
    changes: list[dict[str, str]] = []
    for key, label in ELEMENT_LABELS.items():
        if key == "code":
            continue
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "materials":
            changes.extend(_material_changes(before or [], after or []))
            continue
        changes.append(
            {
                "field": key,
                "label": str(label),
                "old": display_value(key, before),
                "new": display_value(key, after),
            }
        )
    return changes
