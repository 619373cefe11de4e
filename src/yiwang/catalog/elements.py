"""The guide elements: their labels, how an implementation's elements are merged with its
standard item's, and how two published versions differ."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import (
    Audience,
    Channel,
    ItemType,
    MaterialForm,
    MaterialRequirementKind,
    MaterialSource,
    OnlineDepth,
    ServiceItem,
)

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
    "materials": _("申请材料"),
    "steps": _("办理流程"),
    "approval_steps": _("审批环节数"),
    "themes": _("主题"),
    "life_events": _("一件事"),
    "region": _("实施区划"),
    "department": _("实施主体"),
    "standard": _("基本目录事项"),
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
    "form": dict(MaterialForm.choices),
    "requirement": dict(MaterialRequirementKind.choices),
    "source": dict(MaterialSource.choices),
}
_CHANNEL_LABELS = dict(Channel.choices)


def split_aliases(text: str) -> list[str]:
    import re

    return [a.strip() for a in re.split(r"[,，、;；\n]+", text or "") if a.strip()]


def effective_elements(item: ServiceItem) -> dict[str, Any]:
    """The implementation's guide as it would be published: own elements, blanks inherited."""
    std = item.standard
    materials = [m.as_element() for m in item.materials.all()]
    steps = [
        {
            "name": s.name,
            "is_approval": s.is_approval,
            "handler": s.handler,
            "time_limit_days": s.time_limit_days,
            "criteria": s.criteria,
        }
        for s in item.steps.all()
    ]
    themes = list(item.themes.all()) or list(std.themes.all())
    statutory = (
        item.statutory_limit_days if item.statutory_limit_days is not None else std.statutory_limit_days
    )
    return {
        "code": item.code,
        "name": item.name or std.name,
        "aliases": split_aliases(item.aliases or std.aliases),
        "item_type": item.item_type or std.item_type,
        "audience": item.audience or std.audience,
        "legal_basis": item.legal_basis or std.legal_basis,
        "acceptance_conditions": item.acceptance_conditions or std.acceptance_conditions,
        "extra_conditions": item.extra_conditions,
        "statutory_limit_days": statutory,
        "promised_limit_days": item.promised_limit_days,
        "is_instant": item.is_instant,
        "fee_required": item.fee_required,
        "fee_standard": item.fee_standard,
        "fee_basis": item.fee_basis or (std.fee_basis if item.fee_required else ""),
        "online_payment": item.online_payment,
        "where_to_apply": item.where_to_apply,
        "office_hours": item.office_hours,
        "halls": [
            {
                "id": h.pk,
                "name": h.name,
                "address": h.address,
                "phone": h.phone,
                "opening_hours": h.opening_hours,
            }
            for h in item.halls.all()
        ],
        "onsite_visits": item.onsite_visits,
        "onsite_reason": item.onsite_reason,
        "online_depth": item.online_depth,
        "channels": list(item.channels or []),
        "delivery_methods": item.delivery_methods,
        "consult_phone": item.consult_phone,
        "complaint_phone": item.complaint_phone,
        "result_name": item.result_name or std.result_name,
        "materials": materials,
        "steps": steps,
        "approval_steps": sum(1 for s in steps if s["is_approval"]),
        "themes": [{"code": t.code, "name": t.name} for t in themes],
        "life_events": [{"code": e.code, "name": e.name} for e in std.life_events.all()],
        "region": {"code": item.region.code, "name": item.region.name, "level": item.region.level},
        "department": {
            "id": item.department_id,
            "name": item.department.name,
            "code": item.department.code,
            "kind": item.department.kind,
        },
        "standard": {"basic_code": std.basic_code, "name": std.name},
    }


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
    if key in {"statutory_limit_days", "promised_limit_days"}:
        return str(_("%(n)s个工作日") % {"n": value})
    if key == "channels":
        return "、".join(str(_CHANNEL_LABELS.get(c, c)) for c in value)
    if key == "aliases":
        return "、".join(value)
    if key in {"themes", "life_events", "halls"}:
        return "、".join(v["name"] for v in value)
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
