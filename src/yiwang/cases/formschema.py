"""Application forms defined in JSON Schema: check a schema, validate data, render a Django form.

The platform accepts a subset of draft 2020-12 (docs/cases.md): a top-level ``object`` whose
properties are ``string`` (with ``minLength``, ``maxLength``, ``pattern``, ``enum``, ``format:
date``), ``integer``/``number`` (``minimum``, ``maximum``) or ``boolean``; ``required``; ``title``
and ``description`` for labels. The server validates with ``jsonschema`` and the rendered page
carries the same rules as HTML attributes, so the browser refuses what the server would.
"""

from __future__ import annotations

import contextlib
import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from yiwang.core.hant import hant

FIELD_TYPES = {"string", "integer", "number", "boolean"}
FIELD_KEYWORDS = {
    "type",
    "title",
    "description",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "default",
    "x-personal",  # personal data: stored encrypted, shown masked (cases.personal)
}
ROOT_KEYWORDS = {"$schema", "type", "title", "description", "properties", "required", "additionalProperties"}
PREFILL_SOURCES = {
    "person.name": "姓名",
    "person.id_number_masked": "身份证号（脱敏）",
    "person.phone": "手机号",
    "company.name": "单位名称",
    "company.credit_code": "统一社会信用代码",
}
PERSONAL_KINDS = ("id_number", "phone", "address", "name", "other")  # = personal.KINDS
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def default_schema() -> dict[str, Any]:
    """The form of an item whose administrators have not defined one."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "applicant_name": {
                "type": "string",
                "title": "申请人姓名/名称",
                "minLength": 2,
                "maxLength": 100,
                "x-personal": "name",
            },
            "id_number": {
                "type": "string",
                "title": "身份证号/统一社会信用代码",
                "maxLength": 18,
                "x-personal": "id_number",
            },
            "phone": {
                "type": "string",
                "title": "联系电话",
                "pattern": "^1[3-9][0-9]{9}$",
                "description": "11位手机号码",
                "x-personal": "phone",
            },
            "reason": {"type": "string", "title": "申请事项说明", "maxLength": 500},
        },
        "required": ["applicant_name", "phone"],
        "additionalProperties": False,
    }


def default_layout() -> dict[str, Any]:
    return {
        "order": ["applicant_name", "id_number", "phone", "reason"],
        "prefill": {
            "applicant_name": "person.name",
            "id_number": "person.id_number_masked",
            "phone": "person.phone",
        },
        "readonly": ["id_number"],
        "widgets": {"reason": "textarea"},
    }


def check_schema(schema: Any, layout: Any = None) -> list[str]:
    """Every reason this schema (and layout) cannot be used, in Chinese; [] when it is fine."""
    errors: list[str] = []
    if not isinstance(schema, dict):
        return [_("表单结构必须是 JSON 对象。")]
    if schema.get("type") != "object":
        errors.append(_('表单结构的 type 必须是 "object"。'))
    unknown = set(schema) - ROOT_KEYWORDS
    if unknown:
        errors.append(_("不支持的顶层关键字：%(k)s") % {"k": "、".join(sorted(unknown))})
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        errors.append(_("表单至少需要一个字段（properties）。"))
        props = {}
    for key, spec in props.items():
        where = _("字段“%(k)s”") % {"k": key}
        if not _KEY_RE.match(key):
            errors.append(_("%(w)s：字段名只能用小写字母、数字和下划线，且以字母开头。") % {"w": where})
        if not isinstance(spec, dict):
            errors.append(_("%(w)s：定义必须是对象。") % {"w": where})
            continue
        if spec.get("type") not in FIELD_TYPES:
            errors.append(_("%(w)s：type 必须是 string、integer、number 或 boolean。") % {"w": where})
        bad = set(spec) - FIELD_KEYWORDS
        if bad:
            errors.append(_("%(w)s：不支持的关键字 %(k)s。") % {"w": where, "k": "、".join(sorted(bad))})
        if "x-personal" in spec and spec["x-personal"] not in (*PERSONAL_KINDS, True, False):
            errors.append(
                _("%(w)s：x-personal 只能是 %(k)s 或 false。") % {"w": where, "k": "、".join(PERSONAL_KINDS)}
            )
        if "format" in spec and spec["format"] != "date":
            errors.append(_("%(w)s：format 只支持 date。") % {"w": where})
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except (re.error, TypeError):
                errors.append(_("%(w)s：pattern 不是有效的正则表达式。") % {"w": where})
        if "enum" in spec and (not isinstance(spec["enum"], list) or not spec["enum"]):
            errors.append(_("%(w)s：enum 必须是非空列表。") % {"w": where})
    for key in schema.get("required", []) or []:
        if key not in props:
            errors.append(_("必填字段“%(k)s”没有定义。") % {"k": key})
    if not errors:
        # Our own rules first (their messages are clearer); then the 2020-12 meta-schema.
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            path = "/".join(str(p) for p in exc.path) or "（根）"
            errors.append(
                _("不是有效的 JSON Schema（%(path)s）：%(msg)s") % {"path": path, "msg": exc.message}
            )
    if layout is not None:
        if not isinstance(layout, dict):
            errors.append(_("布局提示必须是 JSON 对象。"))
        else:
            for key, source in (layout.get("prefill") or {}).items():
                if key not in props:
                    errors.append(_("预填字段“%(k)s”没有定义。") % {"k": key})
                if source not in PREFILL_SOURCES:
                    errors.append(
                        _("预填来源“%(s)s”不支持，可用：%(all)s")
                        % {"s": source, "all": "、".join(PREFILL_SOURCES)}
                    )
            for key in layout.get("order") or []:
                if key not in props:
                    errors.append(_("排序中的字段“%(k)s”没有定义。") % {"k": key})
    return errors


def _label(schema: dict, key: str) -> str:
    return str(schema.get("properties", {}).get(key, {}).get("title") or key)


def _message(error, schema: dict) -> tuple[str, str]:
    """(field, Chinese message) for one jsonschema error."""
    v = error.validator
    if v == "required":
        key = re.findall(r"'([^']+)'", error.message)[0]
        return key, _("请填写%(label)s。") % {"label": _label(schema, key)}
    if v == "additionalProperties":
        return "", _("表单含有未定义的字段。")
    key = str(error.path[0]) if error.path else ""
    spec = error.schema if isinstance(error.schema, dict) else {}
    label = _label(schema, key)
    if v == "type":
        names = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "是/否"}
        return key, _("%(label)s应为%(t)s。") % {"label": label, "t": names.get(spec.get("type"), "")}
    if v == "minLength":
        n = spec["minLength"]
        return key, ngettext("%(label)s至少 %(n)s 个字。", "%(label)s至少 %(n)s 个字。", n) % {
            "label": label,
            "n": n,
        }
    if v == "maxLength":
        n = spec["maxLength"]
        return key, ngettext("%(label)s最多 %(n)s 个字。", "%(label)s最多 %(n)s 个字。", n) % {
            "label": label,
            "n": n,
        }
    if v == "pattern":
        hint = spec.get("description") or _("请检查格式")
        return key, _("%(label)s格式不正确（%(hint)s）。") % {"label": label, "hint": hint}
    if v == "enum":
        return key, _("%(label)s只能从所列选项中选择。") % {"label": label}
    if v == "minimum":
        return key, _("%(label)s不能小于 %(n)s。") % {"label": label, "n": spec["minimum"]}
    if v == "maximum":
        return key, _("%(label)s不能大于 %(n)s。") % {"label": label, "n": spec["maximum"]}
    if v == "format":
        return key, _("%(label)s应为日期，格式如 2026-01-31。") % {"label": label}
    return key, _("%(label)s不符合要求。") % {"label": label}


def coerce(schema: dict, raw: dict[str, Any]) -> dict[str, Any]:
    """Turn submitted form strings into JSON values by the schema's types; blank means absent.
    A value that does not convert is kept as given, so validation names the field."""
    data: dict[str, Any] = {}
    for key, spec in schema.get("properties", {}).items():
        if key not in raw:
            if spec.get("type") == "boolean":
                data[key] = False
            continue
        value = raw[key]
        t = spec.get("type")
        if isinstance(value, str):
            value = value.strip()
            if value == "" and t != "boolean":
                continue
            if t == "integer":
                with contextlib.suppress(ValueError):
                    value = int(value)
            elif t == "number":
                try:
                    d = Decimal(value)
                    value = int(d) if d == d.to_integral_value() else float(d)
                except InvalidOperation:
                    pass
            elif t == "boolean":
                value = value.lower() in {"on", "true", "1", "yes"}
        data[key] = value
    return data


def validate(schema: dict, data: dict[str, Any]) -> dict[str, str]:
    """{field: Chinese message} for every broken rule ("" for the whole form); {} when valid."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker(formats=["date"]))
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        key, message = _message(error, schema)
        errors.setdefault(key, message)
    return errors


def ordered_keys(schema: dict, layout: dict | None) -> list[str]:
    props = list(schema.get("properties", {}))
    order = [k for k in (layout or {}).get("order") or [] if k in props]
    return order + [k for k in props if k not in order]


def _field(spec: dict, required: bool, widget_hint: str | None, readonly: bool) -> forms.Field:
    # The item's own words, in Traditional characters for 繁體中文 (core/hant.py); values are never converted.
    label = hant(spec.get("title") or "")
    help_text = hant(spec.get("description") or "")
    attrs: dict[str, Any] = {}
    if readonly:
        attrs["readonly"] = "readonly"
    t = spec.get("type")
    if "enum" in spec:
        # An empty first option lets the browser enforce ``required`` on a <select>.
        choices = [("", _("请选择"))] + [(str(v), hant(str(v))) for v in spec["enum"]]
        return forms.ChoiceField(label=label, help_text=help_text, required=required, choices=choices)
    if t == "boolean":
        return forms.BooleanField(label=label, help_text=help_text, required=False)
    if t in ("integer", "number"):
        if "minimum" in spec:
            attrs["min"] = spec["minimum"]
        if "maximum" in spec:
            attrs["max"] = spec["maximum"]
        attrs["step"] = "1" if t == "integer" else "any"
        return forms.CharField(
            label=label, help_text=help_text, required=required, widget=forms.NumberInput(attrs=attrs)
        )
    if spec.get("format") == "date":
        return forms.CharField(
            label=label,
            help_text=help_text,
            required=required,
            widget=forms.DateInput(attrs={"type": "date", **attrs}),
        )
    if "minLength" in spec:
        attrs["minlength"] = spec["minLength"]
    if "maxLength" in spec:
        attrs["maxlength"] = spec["maxLength"]
    if "pattern" in spec:
        attrs["pattern"] = spec["pattern"].removeprefix("^").removesuffix("$")
        attrs["title"] = help_text or label
    widget = (
        forms.Textarea(attrs={"rows": 4, **attrs})
        if widget_hint == "textarea"
        else forms.TextInput(attrs=attrs)
    )
    return forms.CharField(label=label, help_text=help_text, required=required, widget=widget, strip=True)


class SchemaForm(forms.Form):
    """A Django form built from a JSON Schema; ``clean`` validates with the schema itself."""

    schema: dict
    layout: dict

    def __init__(self, *args: Any, schema: dict, layout: dict | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.layout = layout or {}
        required = set(schema.get("required", []))
        widgets = self.layout.get("widgets") or {}
        readonly = set(self.layout.get("readonly") or [])
        for key in ordered_keys(schema, self.layout):
            spec = schema["properties"][key]
            self.fields[key] = _field(spec, key in required, widgets.get(key), key in readonly)

    def clean(self) -> dict[str, Any]:
        raw = {k: v for k, v in self.data.items() if k in self.fields}
        data = coerce(self.schema, raw)
        for key, message in validate(self.schema, data).items():
            if key in self.fields:
                if key not in self.errors:
                    self.add_error(key, message)
            else:
                self.add_error(None, message)
        self.cleaned_json = data
        return self.cleaned_data


def prefill_values(layout: dict | None, *, user=None, company=None) -> dict[str, Any]:
    """Initial values from the applicant's account, per the layout's ``prefill`` mapping."""
    person = getattr(user, "person", None) if user is not None else None
    values: dict[str, Any] = {}
    for key, source in ((layout or {}).get("prefill") or {}).items():
        value: Any = None
        if source == "person.name" and person is not None:
            value = person.name
        elif source == "person.id_number_masked" and person is not None:
            value = person.id_number_masked
        elif source == "person.phone" and person is not None and person.phone_cipher:
            from yiwang.core.crypto import decrypt
            from yiwang.identity.services import PHONE_CONTEXT

            value = decrypt(person.phone_cipher, context=PHONE_CONTEXT)
        elif source == "company.name" and company is not None:
            value = company.name
        elif source == "company.credit_code" and company is not None:
            value = company.credit_code
        if value not in (None, ""):
            values[key] = value
    return values


def snapshot(schema: dict) -> dict:
    return copy.deepcopy(schema)
