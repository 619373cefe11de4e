"""The implementation-list spreadsheet format (实施清单表格): its columns and how each cell is
written and read. docs/spreadsheets.md describes the same format for the people who fill it in.

The headers and coded labels are part of the file format, not of the interface language: a file
exported by an English-speaking administrator must import anywhere, so they are fixed Chinese
strings here and the choice labels are always taken in Simplified Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from yiwang.catalog.elements import split_list
from yiwang.catalog.models import (
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

FORMAT_VERSION = 1
SHEET_TITLE = "实施清单"

# Kinds of column: how a cell is parsed and written.
KEY = "key"  # identifies the row (code, standard, region, department)
INFO = "info"  # written on export for the reader, ignored on import
TEXT = "text"
INT = "int"
BOOL = "bool"
ENUM = "enum"
CHANNELS = "channels"
MATERIALS = "materials"
STEPS = "steps"

TEXT_LIMIT = 10_000  # TextField elements: far beyond any real guide, well under Excel's 32,767


@dataclass(frozen=True)
class Column:
    key: str  # the ServiceItem field (or pseudo-field for KEY/INFO columns)
    header: str
    kind: str
    width: int
    max_length: int | None = None
    required: bool = False  # the header must be present and the cell filled
    aliases: tuple[str, ...] = ()
    max_value: int | None = None


COLUMNS: tuple[Column, ...] = (
    Column("code", "实施编码", KEY, 27, 32, aliases=("事项编码", "实施清单编码")),
    Column("standard", "基本编码", KEY, 14, 11, required=True, aliases=("基本目录编码", "事项基本编码")),
    Column("region", "区划代码", KEY, 12, 12, required=True, aliases=("行政区划代码", "实施区划代码")),
    Column("department", "部门代码", KEY, 10, 3, required=True, aliases=("实施主体代码", "实施部门代码")),
    Column("department_name", "实施主体", INFO, 22, aliases=("实施主体名称", "部门名称")),
    Column("name", "事项名称", TEXT, 30, 200),
    Column("aliases", "别名", TEXT, 16, 300),
    Column("item_type", "事项类型", ENUM, 12),
    Column("audience", "服务对象", ENUM, 12),
    Column("legal_basis", "设定依据", TEXT, 40, TEXT_LIMIT),
    Column("acceptance_conditions", "受理条件", TEXT, 40, TEXT_LIMIT),
    Column("extra_conditions", "本地补充受理条件", TEXT, 24, TEXT_LIMIT),
    Column(
        "statutory_limit_days",
        "法定办结时限（工作日）",
        INT,
        12,
        max_value=3650,
        aliases=("法定办结时限", "法定时限"),
    ),
    Column(
        "promised_limit_days",
        "承诺办结时限（工作日）",
        INT,
        12,
        max_value=3650,
        aliases=("承诺办结时限", "承诺时限"),
    ),
    Column("is_instant", "即办件", BOOL, 8),
    Column("fee_required", "是否收费", BOOL, 8),
    Column("fee_standard", "收费标准", TEXT, 20, TEXT_LIMIT),
    Column("fee_basis", "收费依据", TEXT, 20, TEXT_LIMIT),
    Column("online_payment", "支持网上支付", BOOL, 8, aliases=("网上支付",)),
    Column("where_to_apply", "办理地点", TEXT, 30, TEXT_LIMIT),
    Column("office_hours", "办理时间", TEXT, 24, 200),
    Column("onsite_visits", "到办事现场次数", INT, 8, max_value=99, aliases=("到现场次数",)),
    Column("onsite_reason", "必须现场办理原因", TEXT, 24, 300),
    Column("online_depth", "网办深度", ENUM, 16),
    Column("channels", "办理渠道", CHANNELS, 24),
    Column("delivery_methods", "结果送达方式", TEXT, 18, 200, aliases=("送达方式",)),
    Column("consult_phone", "咨询电话", TEXT, 16, 60),
    Column("complaint_phone", "监督投诉电话", TEXT, 16, 60, aliases=("投诉电话",)),
    Column("result_name", "审批结果名称", TEXT, 20, 200, aliases=("结果名称",)),
    Column("materials", "申请材料", MATERIALS, 60),
    Column("steps", "办理流程", STEPS, 48, aliases=("办理环节",)),
    Column("min_assurance_level", "最低认证等级", ENUM, 16, aliases=("认证等级",)),
    # Added later, at the end so that earlier columns keep their letters; blank 审批结果类型 and
    # 结果证照类型 mean "as the standard item".
    Column("result_kind", "审批结果类型", ENUM, 14, aliases=("结果类型",)),
    Column("result_certificate_type", "结果证照类型", TEXT, 18, 100),
    Column("status", "状态", INFO, 14, aliases=("发布状态",)),
)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
EDITABLE: tuple[Column, ...] = tuple(c for c in COLUMNS if c.kind not in (KEY, INFO))

# A blank coded cell means the field's default; blank 事项类型/服务对象 mean "as the standard item".
ENUM_BLANK: dict[str, Any] = {"online_depth": 0, "min_assurance_level": 1}

# Writing "无" in 申请材料 or 办理流程 removes every material or step; a blank cell keeps them.
NONE_MARK = "无"

YES, NO = "是", "否"
_YES = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "需要"}
_NO = {"否", "n", "no", "false", "0", "×", "✗", "无", "不", "不需要"}


def normalize_header(text: Any) -> str:
    """Header text as compared: no spaces or required-markers, half-width brackets."""
    s = "" if text is None else str(text)
    s = re.sub(r"[\s*＊]+", "", s)
    return s.replace("（", "(").replace("）", ")")


HEADER_LOOKUP: dict[str, Column] = {}
for _col in COLUMNS:
    for _h in (_col.header, *_col.aliases):
        HEADER_LOOKUP[normalize_header(_h)] = _col


# --- choice labels ------------------------------------------------------------------------------


def _zh_choices(choices_cls) -> list[tuple[Any, str]]:
    with translation.override("zh-hans"):
        return [(value, str(label)) for value, label in choices_cls.choices]


class _FieldChoices:
    """A model field's inline choices, shaped like a Choices class."""

    def __init__(self, field_name: str) -> None:
        self.choices = ServiceItem._meta.get_field(field_name).choices


ASSURANCE = _FieldChoices("min_assurance_level")


def _lookup(choices_cls, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for value, label in _zh_choices(choices_cls):
        table[_norm_token(label)] = value
        table[_norm_token(str(value))] = value
    for alias, value in (extra or {}).items():
        table[_norm_token(alias)] = value
    return table


@lru_cache(maxsize=4096)
def _norm_token(s: str) -> str:
    return re.sub(r"\s+", "", s).replace("（", "(").replace("）", ")").lower()


def _depth_aliases() -> dict[str, int]:
    out: dict[str, int] = {}
    for value, label in _zh_choices(OnlineDepth):
        # "全程网办（四级）" is also typed "全程网办", "四级" or "4".
        m = re.match(r"^(.*?)[（(](.*)[)）]$", label)
        if m:
            out[m.group(1)] = value
            out[m.group(2)] = value
        out[f"{value}级"] = value
    out["零级"] = 0
    return out


LABELS: dict[str, dict[Any, str]] = {
    "item_type": dict(_zh_choices(ItemType)),
    "audience": dict(_zh_choices(Audience)),
    "online_depth": dict(_zh_choices(OnlineDepth)),
    "result_kind": dict(_zh_choices(ResultKind)),
    "channels": dict(_zh_choices(Channel)),
    "min_assurance_level": dict(_zh_choices(ASSURANCE)),
    "form": dict(_zh_choices(MaterialForm)),
    "requirement": dict(_zh_choices(MaterialRequirementKind)),
    "source": dict(_zh_choices(MaterialSource)),
}
PARSE: dict[str, dict[str, Any]] = {
    "item_type": _lookup(ItemType),
    "audience": _lookup(
        Audience, {"个人": "person", "企业": "company", "自然人和法人": "both", "全部": "both"}
    ),
    "online_depth": _lookup(OnlineDepth, _depth_aliases()),
    "result_kind": _lookup(
        ResultKind,
        {
            "证书": "certificate",
            "许可证": "certificate",
            "执照": "certificate",
            "决定书": "decision",
            "注销": "revocation",
            "不产生结果": "none",
        },
    ),
    "min_assurance_level": _lookup(
        ASSURANCE, {"注册": 1, "实名": 2, "实名核验": 2, "二次认证": 3, "双因素": 3}
    ),
    "channels": _lookup(
        Channel,
        {
            "网上": "web",
            "网办": "web",
            "窗口": "counter",
            "自助": "self_service",
            "邮寄": "mail",
            "app": "mobile",
        },
    ),
    "form": _lookup(MaterialForm, {"原件及复印件": "original_and_copy", "电子": "electronic"}),
    "requirement": _lookup(
        MaterialRequirementKind,
        {
            "必须": "required",
            "是": "required",
            "容缺": "conditional",
            "情形必要": "conditional",
            "非必要": "conditional",
        },
    ),
    "source": _lookup(
        MaterialSource,
        {
            "申请人": "applicant",
            "自备": "applicant",
            "基础库": "base_registry",
            "共享": "base_registry",
            "部门核发": "government",
        },
    ),
}


def choice_options(key: str) -> list[str]:
    """The labels offered in a cell's drop-down list."""
    return list(LABELS[key].values())


class CellError(ValueError):
    """A cell that cannot be read; the message is already in Chinese and names what is wrong."""


# --- reading cells ------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """Any cell value as the text a person typed: numbers without '.0', dates as 2024-05-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
        )
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_code(value: Any, digits: int, *, label: str, exact: bool = True) -> str:
    """A numeric code. Excel turns 01010010001 into the number 1010010001; the lost leading zeros
    are put back. A code above 15 digits stored as a number has lost digits for good."""
    if isinstance(value, int | float) and not isinstance(value, bool) and digits > 15:
        raise CellError(
            _("%(label)s被 Excel 存成了数字，末尾几位已经丢失；请把该列设为“文本”格式后重新填写。")
            % {"label": label}
        )
    text = cell_text(value).replace(" ", "")
    if isinstance(value, int | float) and text.isdigit() and len(text) < digits:
        text = text.zfill(digits)
    if not text.isdigit() or (len(text) != digits if exact else len(text) > digits):
        raise CellError(
            _("%(label)s“%(value)s”格式不对，应为%(n)s位数字。")
            % {"label": label, "value": text[:40], "n": digits}
        )
    return text


def parse_int(value: Any, *, max_value: int) -> int | None:
    """Working days or visits: whole numbers, also typed as text ("20", "20个工作日")."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(_("应填写整数"))
    if isinstance(value, dt.date | dt.time):
        raise CellError(
            _("单元格是日期格式（显示为 %(v)s），应为整数；请把单元格格式改为“常规”或“数值”后重新填写")
            % {"v": cell_text(value)}
        )
    if isinstance(value, int):
        n = value
    elif isinstance(value, float | Decimal):
        if value != int(value):
            raise CellError(_("应填写整数，不能有小数（当前为 %(v)s）") % {"v": cell_text(value)})
        n = int(value)
    else:
        text = cell_text(value)
        if text == "":
            return None
        text = re.sub(r"(个?工作日|天|日|次)$", "", text.replace(" ", ""))
        text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if re.fullmatch(r"\d+(\.0+)?", text) is None:
            raise CellError(_("应填写整数（当前为“%(v)s”）") % {"v": cell_text(value)[:40]})
        n = int(float(text))
    if n < 0 or n > max_value:
        raise CellError(_("应为 0 到 %(max)s 之间的整数（当前为 %(v)s）") % {"max": max_value, "v": n})
    return n


def parse_bool(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    token = _norm_token(cell_text(value))
    if token in _YES:
        return True
    if token in _NO:
        return False
    raise CellError(_("应填写“是”或“否”（当前为“%(v)s”）") % {"v": cell_text(value)[:40]})


def parse_choice(key: str, value: Any) -> Any:
    text = cell_text(value)
    table = PARSE[key]
    token = _norm_token(text)
    if token in table:
        return table[token]
    if key == "audience":
        # "自然人／法人", "个人、企业": one value per entry, both kinds together mean "both".
        parts = {table.get(_norm_token(p)) for p in split_list(text)}
        if len(parts) > 1 and None not in parts:
            return "both"
    raise CellError(
        _("“%(v)s”不是可选值，可选：%(options)s")
        % {"v": text[:40], "options": "、".join(choice_options(key))}
    )


def parse_channels(value: Any) -> list[str]:
    text = cell_text(value)
    out: list[str] = []
    for part in split_list(text):
        token = _norm_token(part)
        if token not in PARSE["channels"]:
            raise CellError(
                _("办理渠道“%(v)s”不是可选值，可选：%(options)s")
                % {"v": part[:40], "options": "、".join(choice_options("channels"))}
            )
        ch = PARSE["channels"][token]
        if ch not in out:
            out.append(ch)
    return out


def format_channels(channels: list[str]) -> str:
    return "、".join(LABELS["channels"].get(c, c) for c in channels or [])


# --- the one-line-per-entry mini-format of 申请材料 and 办理流程 ------------------------------------
# Fields are separated by "|"; inside a field "\|" is a bar, "\n" a line break and "\\" a backslash.


def escape_field(text: Any) -> str:
    s = "" if text is None else str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "\\n")


def split_line(line: str) -> list[str]:
    """Split on unescaped bars; blanks around a field are dropped, escaped characters kept."""
    fields: list[str] = []
    buf: list[tuple[str, bool]] = []  # (text, escaped)

    def close() -> None:
        while buf and not buf[0][1] and buf[0][0].isspace():
            buf.pop(0)
        while buf and not buf[-1][1] and buf[-1][0].isspace():
            buf.pop()
        fields.append("".join(t for t, _e in buf))
        buf.clear()

    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            nxt = line[i + 1]
            buf.append(({"n": "\n", "|": "|", "\\": "\\"}.get(nxt, "\\" + nxt), True))
            i += 2
            continue
        if ch in "|｜":
            close()
        else:
            buf.append((ch, False))
        i += 1
    close()
    return fields


def _lines(value: Any) -> list[str] | None:
    """None for a blank cell (keep what is there), [] for "无" (remove all)."""
    text = cell_text(value)
    if text == "":
        return None
    if text == NONE_MARK:
        return []
    return [ln for ln in (s.strip() for s in text.split("\n")) if ln]


MATERIAL_FIELDS = (
    "name",
    "form",
    "copies",
    "requirement",
    "source",
    "condition",
    "certificate_type",
    "notes",
)
MATERIAL_MAX = {"name": 200, "condition": 300, "certificate_type": 100, "notes": 500}


def format_materials(materials: list[dict[str, Any]]) -> str:
    lines = []
    for m in materials:
        fields = [
            escape_field(m["name"]),
            LABELS["form"].get(m["form"], m["form"]),
            str(m["copies"]),
            LABELS["requirement"].get(m["requirement"], m["requirement"]),
            LABELS["source"].get(m["source"], m["source"]),
        ]
        tail = [escape_field(m.get(k) or "") for k in ("condition", "certificate_type", "notes")]
        if any(tail):
            fields += tail
        lines.append("|".join(fields))
    return "\n".join(lines)


def parse_materials(value: Any) -> list[dict[str, Any]] | None:
    lines = _lines(value)
    if lines is None:
        return None
    out: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        f = split_line(line)
        if len(f) > len(MATERIAL_FIELDS):
            raise CellError(
                _(
                    "第%(n)s条材料有%(k)s段，最多%(max)s段：名称|形式|份数|必要性|来源|适用情形|证照类型|填报说明"
                )
                % {"n": n, "k": len(f), "max": len(MATERIAL_FIELDS)}
            )
        f += [""] * (len(MATERIAL_FIELDS) - len(f))
        raw = dict(zip(MATERIAL_FIELDS, f, strict=True))
        if not raw["name"]:
            raise CellError(_("第%(n)s条材料缺少材料名称（格式：名称|形式|份数|必要性|来源）") % {"n": n})
        m: dict[str, Any] = {"name": raw["name"]}
        try:
            m["form"] = parse_choice("form", raw["form"]) if raw["form"] else MaterialForm.ORIGINAL.value
            m["requirement"] = (
                parse_choice("requirement", raw["requirement"])
                if raw["requirement"]
                else MaterialRequirementKind.REQUIRED.value
            )
            m["source"] = (
                parse_choice("source", raw["source"]) if raw["source"] else MaterialSource.APPLICANT.value
            )
            copies = parse_int(raw["copies"], max_value=99) if raw["copies"] else 1
        except CellError as e:
            raise CellError(
                _("第%(n)s条材料“%(name)s”：%(msg)s") % {"n": n, "name": raw["name"][:30], "msg": e}
            ) from None
        if not copies:
            raise CellError(_("第%(n)s条材料“%(name)s”：份数至少为1") % {"n": n, "name": raw["name"][:30]})
        m["copies"] = copies
        for k in ("condition", "certificate_type", "notes"):
            m[k] = raw[k]
        for k, limit in MATERIAL_MAX.items():
            if len(m[k]) > limit:
                raise CellError(
                    _("第%(n)s条材料的%(field)s超过%(max)s字")
                    % {"n": n, "field": _material_field_label(k), "max": limit}
                )
        out.append(m)
    return out


def _material_field_label(key: str) -> str:
    return {
        "name": _("材料名称"),
        "condition": _("适用情形"),
        "certificate_type": _("证照类型"),
        "notes": _("填报说明"),
    }[key]


STEP_FIELDS = ("name", "is_approval", "handler", "time_limit_days", "criteria")


def format_steps(steps: list[dict[str, Any]]) -> str:
    lines = []
    for s in steps:
        limit = "" if s.get("time_limit_days") is None else str(s["time_limit_days"])
        lines.append(
            "|".join(
                [
                    escape_field(s["name"]),
                    YES if s["is_approval"] else NO,
                    escape_field(s.get("handler") or ""),
                    limit,
                    escape_field(s.get("criteria") or ""),
                ]
            )
        )
    return "\n".join(lines)


def parse_steps(value: Any) -> list[dict[str, Any]] | None:
    lines = _lines(value)
    if lines is None:
        return None
    out: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        f = split_line(line)
        if len(f) > len(STEP_FIELDS):
            raise CellError(
                _("第%(n)s个环节有%(k)s段，最多%(max)s段：环节名称|审批环节|办理人员|时限|审查标准")
                % {"n": n, "k": len(f), "max": len(STEP_FIELDS)}
            )
        f += [""] * (len(STEP_FIELDS) - len(f))
        name, approval, handler, limit, criteria = f
        if not name:
            raise CellError(
                _("第%(n)s个环节缺少环节名称（格式：环节名称|审批环节|办理人员|时限|审查标准）") % {"n": n}
            )
        try:
            is_approval = parse_bool(approval) if approval else True
            days = parse_int(limit, max_value=3650) if limit else None
        except CellError as e:
            raise CellError(
                _("第%(n)s个环节“%(name)s”：%(msg)s") % {"n": n, "name": name[:30], "msg": e}
            ) from None
        if len(name) > 50 or len(handler) > 100 or len(criteria) > TEXT_LIMIT:
            raise CellError(_("第%(n)s个环节的名称（50字）、办理人员（100字）或审查标准过长") % {"n": n})
        out.append(
            {
                "name": name,
                "is_approval": is_approval,
                "handler": handler,
                "time_limit_days": days,
                "criteria": criteria,
            }
        )
    return out
