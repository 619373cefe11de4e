"""Turn a published ``elements`` dict into what the guide template shows: labels for coded values.

The guide body is rendered from this once per (version, language) and cached; nothing here
touches the database. For 繁體中文 every published text of the guide is converted to Traditional
characters here (core/hant.py), so the cached body is converted once per version.

English labels the Chinese data around it and never mixes the two in one phrase: a region's
level is "仓山区 (County)", not "仓山区（County）"; the usual step names and handlers that
``catalog.services.default_steps`` writes (受理, 审查, 窗口受理人员, ...) are shown in the
reader's language, other step names as published.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from yiwang.catalog.elements import ELEMENT_LABELS
from yiwang.catalog.models import (
    Audience,
    Channel,
    ItemType,
    MaterialForm,
    MaterialRequirementKind,
    MaterialSource,
    OnlineDepth,
    ResultKind,
)
from yiwang.core.hant import hant_data
from yiwang.regions.models import RegionLevel

# The step names and handlers of catalog.services.default_steps, as they are stored (Simplified
# Chinese), with their label in the reader's language.
STEP_NAMES = {
    "受理": pgettext_lazy("办理环节", "受理"),
    "审查": pgettext_lazy("办理环节", "审查"),
    "复审": pgettext_lazy("办理环节", "复审"),
    "决定": pgettext_lazy("办理环节", "决定"),
    "送达": pgettext_lazy("办理环节", "送达"),
    "办结": pgettext_lazy("办理环节", "办结"),
    "现场核查/专家评审": pgettext_lazy("办理环节", "现场核查/专家评审"),
}
STEP_HANDLERS = {
    "窗口受理人员": gettext_lazy("窗口受理人员"),
    "审批人员": gettext_lazy("审批人员"),
    "部门负责人": gettext_lazy("部门负责人"),
    "相关部门（并联审批）": gettext_lazy("相关部门（并联审批）"),
}


def choice_label(choices: Any, value: Any) -> str:
    """The translated label of a coded value; the raw value if the code is unknown."""
    try:
        return str(choices(value).label)
    except ValueError:
        return "" if value in (None, "") else str(value)


def days(value: Any) -> str:
    if value in (None, ""):
        return _("无")
    count = value if isinstance(value, int) else 2  # a non-number read from old data: any form
    return ngettext("%(n)s个工作日", "%(n)s个工作日", count) % {"n": value}


def yes_no(value: Any) -> str:
    return _("是") if value else _("否")


def guide_context(elements: dict[str, Any]) -> dict[str, Any]:
    """Everything the guide body template needs, with coded values replaced by labels and, for
    繁體中文, the published texts in Traditional characters."""
    e = hant_data(elements)
    region = e.get("region") or {}
    department = e.get("department") or {}
    standard = e.get("standard") or {}
    materials = [
        {
            **m,
            "form_label": choice_label(MaterialForm, m.get("form")),
            "requirement_label": choice_label(MaterialRequirementKind, m.get("requirement")),
            "source_label": choice_label(MaterialSource, m.get("source")),
            "is_required": m.get("requirement") == MaterialRequirementKind.REQUIRED,
        }
        for m in e.get("materials") or []
    ]
    # Standard names are looked up as stored: the converted copy would no longer match.
    steps = [
        {
            **s,
            "name": _label(STEP_NAMES, stored.get("name")),
            "handler": _label(STEP_HANDLERS, stored.get("handler")),
            "limit_label": days(s.get("time_limit_days")) if s.get("time_limit_days") else "",
        }
        for stored, s in zip(elements.get("steps") or [], e.get("steps") or [], strict=True)
    ]
    depth = e.get("online_depth") or 0
    department_url = (
        f"{reverse('portal:browse')}?department={department['id']}" if department.get("id") else ""
    )
    visits = e.get("onsite_visits") or 0
    basic = [
        (_("事项名称"), e.get("name", "")),
        (_("实施编码"), e.get("code", "")),
        (_("基本编码"), standard.get("basic_code", "")),
        (_("事项类型"), choice_label(ItemType, e.get("item_type"))),
        (_("服务对象"), choice_label(Audience, e.get("audience"))),
        (_("实施主体"), department.get("name", ""), department_url),
        (
            _("实施区划"),
            _("%(name)s（%(level)s）")
            % {"name": region.get("name", ""), "level": choice_label(RegionLevel, region.get("level"))}
            if region
            else "",
        ),
        (_("办件类型"), _("即办件") if e.get("is_instant") else _("承诺件")),
        (_("网办深度"), choice_label(OnlineDepth, depth)),
        (_("到办事现场次数"), visits_label(visits)),
        (_("审批环节数"), str(e.get("approval_steps", ""))),
        (_("审批结果名称"), e.get("result_name", "")),
        (_("审批结果类型"), result_label(e)),
        (_("结果送达方式"), e.get("delivery_methods", "")),
        (_("办理渠道"), "、".join(choice_label(Channel, c) for c in e.get("channels") or [])),
    ]
    if e.get("aliases"):
        basic.insert(1, (_("别名"), "、".join(e["aliases"])))
    return {
        "e": e,
        "basic": [
            {"label": row[0], "value": row[1], "url": row[2] if len(row) > 2 else ""}
            for row in basic
            if row[1] not in (None, "")
        ],
        "materials": materials,
        "steps": steps,
        "depth": depth,
        "depth_label": choice_label(OnlineDepth, depth),
        "visits_label": visits_label(visits),
        "statutory_label": days(e.get("statutory_limit_days")),
        # An instant item, or one promised in 0 days, is done on the spot: never "0个工作日".
        "promised_label": (
            _("即办")
            if e.get("is_instant") or e.get("promised_limit_days") == 0
            else days(e.get("promised_limit_days"))
        ),
        "fee_label": yes_no(e.get("fee_required")),
        "online_payment_label": yes_no(e.get("online_payment")),
        "region": region,
        "department": department,
    }


def result_label(e: dict[str, Any]) -> str:
    """What approval produces: 证照（食品经营许可证）, 注销证照（…）, 决定文书, 无."""
    kind = e.get("result_kind") or ""
    if not kind:
        return ""
    label = choice_label(ResultKind, kind)
    cert_type = e.get("result_certificate_type") or ""
    if not cert_type:
        return label
    return _("%(kind)s（%(type)s）") % {"kind": label, "type": hant_data(cert_type)}


def _label(labels: dict[str, Any], value: Any) -> str:
    """A standard step name or handler in the reader's language; any other one as published
    (in Traditional characters for 繁體中文)."""
    if value in labels:
        return str(labels[value])
    return str(hant_data(value)) if value else ""


def visits_label(visits: Any) -> str:
    if not visits:
        return _("零跑动")
    if visits == 1:
        return _("最多跑一次")
    count = visits if isinstance(visits, int) else 2
    return ngettext("%(n)s次", "%(n)s次", count) % {"n": visits}


def format_value(value: Any) -> str:
    """A changed element's old or new value as short text for the version history."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list):
        return "；".join(format_value(v) for v in value) or "—"
    if isinstance(value, dict):
        if "name" in value:
            return str(value["name"])
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def change_rows(changes: Any) -> list[dict[str, str]]:
    """The version's change list as rows of (label, old, new), whatever shape the entries take."""
    rows = []
    for change in changes or []:
        if isinstance(change, dict):
            field = str(change.get("field", ""))
            # Labels are stored in the publisher's language; show the reader's where we can.
            if field in ELEMENT_LABELS and field != "materials":
                label = ELEMENT_LABELS[field]
            else:
                label = change.get("label") or field
            rows.append(
                {
                    "label": str(label),
                    "old": format_value(change.get("old")),
                    "new": format_value(change.get("new")),
                }
            )
        else:
            rows.append({"label": str(change), "old": "", "new": ""})
    return rows
