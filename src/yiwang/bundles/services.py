"""Writes of the bundles app: definitions, publication, applications and the joint process.

Public API (docs/bundles.md). Every function checks permission when given a user, runs in one
transaction and writes the audit log. The umbrella and branch cases are ordinary
``cases.Case`` rows moved by ``cases.actions``; this module adds what a bundle needs around
them, driven by the signals of ``cases.signals`` (see ``receivers``).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.core.rows import insert_rows, locked_row
from yiwang.workflow.expressions import UnsafeExpression, check_expression, evaluate

from . import process
from .models import (
    BranchOutcome,
    BranchState,
    Bundle,
    BundleApplication,
    BundleBranch,
    BundleField,
    BundleKind,
    BundleMaterial,
    BundleMember,
    OutcomeRule,
    Question,
)

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # = cases.formschema
LEGAL_BASIS = (
    "《国务院关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见》（国发〔2024〕3号）；"
    "各事项的设定依据见其办事指南。"
)


@dataclass
class CombinedForm:
    fields: list[BundleField]
    materials: list[BundleMaterial]


@dataclass
class BundleOutcome:
    """The unified decision the outcome rule gives: ``decision`` approve/deny ("" while a branch
    is still open), the binding denials (they deny the whole) and the advisory ones (shown, not
    binding), and the reasons text the decision carries."""

    decision: str
    binding_denials: list[BundleBranch] = field(default_factory=list)
    advisory_denials: list[BundleBranch] = field(default_factory=list)
    reasons: str = ""


# --- permission -----------------------------------------------------------------------------------


def _is_platform_admin(user) -> bool:
    from yiwang.identity.models import Role, StaffRole

    return bool(user.is_superuser or StaffRole.objects.filter(user=user, role=Role.PLATFORM_ADMIN).exists())


def check_can_manage(user, bundle_or_department) -> None:
    """Catalogue administrators of the lead department (or above it) build its bundles; ``None``
    is the system (demo, generator)."""
    if user is None:
        return
    from yiwang.identity.selectors import can_manage_department

    department = (
        bundle_or_department.lead_department
        if isinstance(bundle_or_department, Bundle)
        else bundle_or_department
    )
    if not getattr(user, "is_authenticated", False):
        raise NotPermitted()
    if department is None:
        if _is_platform_admin(user):
            return
        raise NotPermitted(_("未设置牵头部门的一件事只能由平台管理员管理。"))
    if not can_manage_department(user, department):
        raise NotPermitted(
            _("您只能管理本部门牵头的一件事（%(dept)s 不在您的管理范围内）。") % {"dept": department.name}
        )


# --- definitions ----------------------------------------------------------------------------------

BUNDLE_FIELDS = {
    "name",
    "kind",
    "description",
    "audience",
    "lead_department",
    "overall_limit_days",
    "outcome_rule",
    "life_event",
    "one_step_branches",
}


def _check_bundle_values(values: dict[str, Any]) -> None:
    errors = []
    if "name" in values and not (values["name"] or "").strip():
        errors.append(FieldError("name", _("请填写一件事名称。"), "required"))
    if "kind" in values and values["kind"] not in BundleKind.values:
        errors.append(FieldError("kind", _("请选择一件事类型。"), "invalid"))
    if "outcome_rule" in values and values["outcome_rule"] not in OutcomeRule.values:
        errors.append(FieldError("outcome_rule", _("请选择结果规则。"), "invalid"))
    limit = values.get("overall_limit_days")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        errors.append(FieldError("overall_limit_days", _("总时限应为正整数（工作日）。"), "invalid"))
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def create_bundle(
    *,
    user,
    code: str,
    name: str,
    kind: str,
    lead_department,
    overall_limit_days: int | None = None,
    outcome_rule: str = OutcomeRule.ALL_MUST_APPROVE,
    description: str = "",
    audience: str = "both",
    life_event=None,
    one_step_branches: bool = False,
) -> Bundle:
    check_can_manage(user, lead_department)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise DomainError(_("一件事代码应为 2-32 位小写字母、数字、连字符或下划线。"), field="code")
    if Bundle.objects.filter(code=code).exists():
        raise DomainError(_("一件事代码“%(c)s”已存在。") % {"c": code}, field="code", code="duplicate")
    values = {
        "name": name,
        "kind": kind,
        "outcome_rule": outcome_rule,
        "overall_limit_days": overall_limit_days,
    }
    _check_bundle_values(values)
    bundle = Bundle.objects.create(
        code=code,
        name=name.strip(),
        kind=kind,
        lead_department=lead_department,
        overall_limit_days=overall_limit_days,
        outcome_rule=outcome_rule,
        description=description,
        audience=audience,
        life_event=life_event,
        one_step_branches=one_step_branches,
        created_by=user,
        updated_by=user,
    )
    audit.record("bundles.create", bundle, summary=f"{code} {bundle.name}", detail={"kind": kind})
    return bundle


@transaction.atomic
def update_bundle(bundle: Bundle, *, user, **fields: Any) -> Bundle:
    check_can_manage(user, bundle)
    unknown = set(fields) - BUNDLE_FIELDS
    if unknown:
        raise DomainError(_("不能修改：%(f)s") % {"f": "、".join(sorted(unknown))})
    if "lead_department" in fields and fields["lead_department"] != bundle.lead_department:
        check_can_manage(user, fields["lead_department"])
    _check_bundle_values(fields)
    for key, value in fields.items():
        setattr(bundle, key, value)
    bundle.updated_by = user
    bundle.save()
    audit.record("bundles.update", bundle, summary=bundle.code, detail={"fields": sorted(fields)})
    return bundle


def _check_condition(condition: str) -> str | None:
    """A problem with a member's applicability condition, or None."""
    if not condition.strip():
        return None
    try:
        check_expression(condition)
    except (UnsafeExpression, SyntaxError):
        return _("适用条件“%(c)s”不是允许的表达式（只能比较问卷答案与常量）。") % {"c": condition}
    return None


@transaction.atomic
def add_member(
    bundle: Bundle,
    item,
    *,
    user,
    advisory: bool = False,
    limit_days: int | None = None,
    order: int | None = None,
    condition: str = "",
) -> BundleMember:
    check_can_manage(user, bundle)
    if bundle.item_id is not None and item.pk == bundle.item_id:
        raise DomainError(_("一件事不能包含它自己。"), field="item")
    if Bundle.objects.filter(item=item).exists():
        raise DomainError(_("“%(n)s”本身是一件事，不能再纳入其他一件事。") % {"n": item}, field="item")
    if BundleMember.objects.filter(bundle=bundle, item=item).exists():
        raise DomainError(_("事项“%(n)s”已在本一件事中。") % {"n": item}, field="item", code="duplicate")
    if problem := _check_condition(condition):
        raise DomainError(problem, field="condition")
    if limit_days is not None and limit_days < 1:
        raise DomainError(_("分支时限应为正整数（工作日）。"), field="limit_days")
    if order is None:
        order = (bundle.members.aggregate(m=Max("order"))["m"] or 0) + 1
    member = BundleMember.objects.create(
        bundle=bundle, item=item, advisory=advisory, limit_days=limit_days, order=order, condition=condition
    )
    audit.record(
        "bundles.member.add", bundle, summary=f"{bundle.code} + {item.code}", detail={"advisory": advisory}
    )
    return member


@transaction.atomic
def update_member(member: BundleMember, *, user, **fields: Any) -> BundleMember:
    check_can_manage(user, member.bundle)
    unknown = set(fields) - {"advisory", "limit_days", "order", "condition"}
    if unknown:
        raise DomainError(_("不能修改：%(f)s") % {"f": "、".join(sorted(unknown))})
    if problem := _check_condition(fields.get("condition") or ""):
        raise DomainError(problem, field="condition")
    for key, value in fields.items():
        setattr(member, key, value)
    member.save()
    audit.record("bundles.member.update", member.bundle, summary=member.bundle.code, detail=fields)
    return member


@transaction.atomic
def remove_member(member: BundleMember, *, user) -> None:
    check_can_manage(user, member.bundle)
    if member.branches.exists():
        raise DomainError(_("该事项已有办件，不能移除；可重新发布不含它的一件事版本。"))
    bundle = member.bundle
    item_code = member.item.code
    member.delete()
    audit.record("bundles.member.remove", bundle, summary=f"{bundle.code} - {item_code}")


@transaction.atomic
def save_question(
    bundle: Bundle,
    *,
    user,
    key: str,
    text: str,
    choices: list[dict[str, str]],
    help: str = "",
    order: int | None = None,
) -> Question:
    check_can_manage(user, bundle)
    errors = []
    if not FIELD_KEY_RE.match(key or ""):
        errors.append(FieldError("key", _("问题标识应为小写字母开头的字母、数字或下划线。")))
    if not (text or "").strip():
        errors.append(FieldError("text", _("请填写问题。"), "required"))
    if not choices or any(not str(c.get("value", "")).strip() or not c.get("label") for c in choices):
        errors.append(FieldError("choices", _("请至少设置一个选项，每个选项须有值和文字。"), "required"))
    if errors:
        raise ValidationFailed(errors)
    if order is None:
        order = (bundle.questions.aggregate(m=Max("order"))["m"] or 0) + 1
    question, _created = Question.objects.update_or_create(
        bundle=bundle,
        key=key,
        defaults={"text": text.strip(), "choices": choices, "help": help, "order": order},
    )
    audit.record("bundles.question.save", bundle, summary=f"{bundle.code} {key}")
    return question


# --- the combined form and materials ---------------------------------------------------------------


def forms_of(item_ids: list[int]) -> dict[int, tuple[dict, dict]]:
    """item id -> (schema, layout) of each item's form (``cases.services.form_of``), one query for
    all of them: a bundle reads the forms of all its members at once."""
    from yiwang.cases import formschema
    from yiwang.cases.models import ItemForm

    found = {f.item_id: (f.schema, f.layout or {}) for f in ItemForm.objects.filter(item_id__in=item_ids)}
    return {i: found.get(i) or (formschema.default_schema(), formschema.default_layout()) for i in item_ids}


def _member_form(
    item, form: tuple[dict, dict] | None = None
) -> tuple[list[tuple[str, dict]], set[str], dict]:
    """(ordered [(key, field schema)], required keys, layout) of an item's form."""
    from yiwang.cases.services import form_of

    schema, layout = form if form is not None else form_of(item)
    props = schema.get("properties") or {}
    order = [k for k in (layout or {}).get("order") or [] if k in props]
    order += [k for k in props if k not in order]
    return [(k, props[k]) for k in order], set(schema.get("required") or []), layout or {}


def _member_materials(item) -> list[dict]:
    version = item.current_version
    if version is not None:
        return list(version.elements.get("materials") or [])
    return [m.as_element() for m in item.materials.all()]


def _same_field(a: dict, b: dict) -> bool:
    return (a.get("type") or "string") == (b.get("type") or "string") and (a.get("format") == b.get("format"))


@transaction.atomic
def rebuild_combined_form(bundle: Bundle, *, user=None) -> CombinedForm:
    """Rebuild the combined form and the shared materials from the members' current forms and
    published materials: a field with the same key, or the same title and type, is asked once; a
    material with the same name, or the same e-certificate type, is uploaded once. The
    administrators' merges and renames are kept: a member's field that a combined field asked
    before is asked by that field again (its key and title as the administrator left them)."""
    check_can_manage(user, bundle)
    members = list(bundle.members.select_related("item", "item__current_version"))
    # What the administrators made of the previous rebuild: (member item, its field) → combined.
    before = {
        (item_id, member_key): row
        for row in bundle.fields.all()
        for item_id, member_key in row.mapping.items()
    }
    kept_keys = {row.key for row in before.values()}
    fields: list[dict[str, Any]] = []
    by_key: dict[str, dict] = {}
    by_title: dict[tuple[str, str], dict] = {}
    for member in members:
        item_id = str(member.item_id)
        props, required, _layout = _member_form(member.item)
        for key, schema in props:
            title = str(schema.get("title") or key)
            target = None
            old = before.get((item_id, key))
            if old is not None:
                target = by_key.get(old.key)
                if target is None:
                    target = {
                        "key": old.key,
                        "schema": {**dict(schema), "title": old.schema.get("title") or title},
                        "mapping": {},
                        "required_for": [],
                    }
                    fields.append(target)
                    by_key[old.key] = target
                elif item_id in target["mapping"]:
                    target = None
            if target is None:
                target = by_key.get(key)
                if target is not None and (
                    not _same_field(target["schema"], schema) or item_id in target["mapping"]
                ):
                    target = None
            if target is None:
                target = by_title.get((title, schema.get("type") or "string"))
                if target is not None and item_id in target["mapping"]:
                    target = None
            if target is None:
                new_key = key
                n = 2
                # nor a key that a kept field takes (when its member comes later in the loop)
                while new_key in by_key or new_key in kept_keys:
                    new_key = f"{key[:36]}_{n}"
                    n += 1
                target = {"key": new_key, "schema": dict(schema), "mapping": {}, "required_for": []}
                fields.append(target)
                by_key[new_key] = target
                by_title.setdefault((title, schema.get("type") or "string"), target)
            target["mapping"][item_id] = key
            if key in required:
                target["required_for"].append(member.item_id)
    materials: list[dict[str, Any]] = []
    by_name: dict[str, dict] = {}
    by_cert: dict[str, dict] = {}
    for member in members:
        item_id = str(member.item_id)
        for element in _member_materials(member.item):
            name = element["name"]
            cert = (element.get("certificate_type") or "").strip()
            target = by_name.get(name) or (by_cert.get(cert) if cert else None)
            if target is not None and item_id in target["mapping"]:
                target = None
            if target is None:
                target_name = name if name not in by_name else f"{name}（{member.item.department.name}）"
                kept = {k: v for k, v in element.items() if k not in ("name", "requirement", "condition")}
                target = {"name": target_name, "element": kept, "mapping": {}, "required_for": []}
                materials.append(target)
                by_name[target_name] = target
                if cert:
                    by_cert.setdefault(cert, target)
            target["mapping"][item_id] = name
            if element.get("requirement", "required") == "required":
                target["required_for"].append(member.item_id)
    bundle.fields.all().delete()
    bundle.materials.all().delete()
    new_fields = BundleField.objects.bulk_create(
        BundleField(bundle=bundle, order=i, **f) for i, f in enumerate(fields)
    )
    new_materials = BundleMaterial.objects.bulk_create(
        BundleMaterial(bundle=bundle, order=i, **m) for i, m in enumerate(materials)
    )
    audit.record(
        "bundles.rebuild_form",
        bundle,
        summary=bundle.code,
        detail={"fields": len(new_fields), "materials": len(new_materials)},
    )
    return CombinedForm(new_fields, new_materials)


@transaction.atomic
def merge_fields(bundle: Bundle, keys: list[str], *, into: str, user) -> BundleField:
    """Ask several combined fields as one (``into`` keeps its key and schema)."""
    check_can_manage(user, bundle)
    rows = {f.key: f for f in bundle.fields.filter(key__in=keys)}
    missing = [k for k in keys if k not in rows]
    if missing or into not in rows:
        raise DomainError(_("没有字段：%(k)s") % {"k": "、".join(missing or [into])}, field="keys")
    target = rows[into]
    mapping = dict(target.mapping)
    required = set(target.required_for)
    errors = []
    for key in keys:
        if key == into:
            continue
        other = rows[key]
        for item_id, item_key in other.mapping.items():
            if item_id in mapping:
                errors.append(
                    FieldError(
                        "keys",
                        _("字段“%(a)s”和“%(b)s”对应同一事项的不同字段（%(x)s、%(y)s），不能合并。")
                        % {"a": into, "b": key, "x": mapping[item_id], "y": item_key},
                    )
                )
            mapping[item_id] = item_key
        required |= set(other.required_for)
    if errors:
        raise ValidationFailed(errors)
    bundle.fields.filter(key__in=[k for k in keys if k != into]).delete()
    target.mapping, target.required_for = mapping, sorted(required)
    target.save(update_fields=["mapping", "required_for"])
    audit.record("bundles.merge_fields", bundle, summary=bundle.code, detail={"keys": keys, "into": into})
    return target


@transaction.atomic
def rename_field(
    bundle_field: BundleField, *, user, key: str | None = None, title: str | None = None
) -> BundleField:
    check_can_manage(user, bundle_field.bundle)
    if key is not None and key != bundle_field.key:
        if not FIELD_KEY_RE.match(key):
            raise DomainError(_("字段名应为小写字母开头的字母、数字或下划线（至多40位）。"), field="key")
        if BundleField.objects.filter(bundle=bundle_field.bundle, key=key).exists():
            raise DomainError(_("字段名“%(k)s”已存在。") % {"k": key}, field="key", code="duplicate")
        bundle_field.key = key
    if title is not None:
        if not title.strip():
            raise DomainError(_("请填写字段标题。"), field="title")
        bundle_field.schema = {**bundle_field.schema, "title": title.strip()}
    bundle_field.save(update_fields=["key", "schema"])
    audit.record("bundles.rename_field", bundle_field.bundle, summary=bundle_field.key)
    return bundle_field


def combined_schema(
    bundle: Bundle, members: list[BundleMember], fields: list[BundleField] | None = None
) -> dict[str, Any]:
    """The JSON Schema (``cases.formschema``) of the combined form for these members: each field
    one of them needs, once; required when one of them requires it. ``fields``: the bundle's
    fields when the caller already read them."""
    ids = {str(m.item_id) for m in members}
    int_ids = {m.item_id for m in members}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in bundle.fields.all() if fields is None else fields:
        if not ids & set(f.mapping):
            continue
        properties[f.key] = f.schema
        if int_ids & set(f.required_for):
            required.append(f.key)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
    }


def combined_layout(
    bundle: Bundle, members: list[BundleMember], fields: list[BundleField] | None = None
) -> dict[str, Any]:
    """Field order and the members' prefills carried over to the combined keys."""
    ids = {str(m.item_id) for m in members}
    forms = forms_of([m.item_id for m in members])
    layouts = {str(m.item_id): _member_form(m.item, forms[m.item_id])[2] for m in members}
    order, prefill, widgets = [], {}, {}
    for f in bundle.fields.all() if fields is None else fields:
        if not ids & set(f.mapping):
            continue
        order.append(f.key)
        for item_id, key in f.mapping.items():
            layout = layouts.get(item_id) or {}
            if key in (layout.get("prefill") or {}):
                prefill.setdefault(f.key, layout["prefill"][key])
            if key in (layout.get("widgets") or {}):
                widgets.setdefault(f.key, layout["widgets"][key])
    return {"order": order, "prefill": prefill, "widgets": widgets}


def combined_materials(bundle: Bundle, members: list[BundleMember]) -> list[dict[str, Any]]:
    """The material elements for these members: each needed material once; ``requirement``
    "required" when one of them requires it."""
    ids = {str(m.item_id) for m in members}
    int_ids = {m.item_id for m in members}
    out = []
    for m in bundle.materials.all():
        if not ids & set(m.mapping):
            continue
        required = bool(int_ids & set(m.required_for))
        out.append(
            {
                "name": m.name,
                **m.element,
                "requirement": "required" if required else "conditional",
                "condition": "",
            }
        )
    return out


# --- publication ----------------------------------------------------------------------------------


def branch_limit(member: BundleMember) -> int:
    """A branch's limit in working days: the member's own, else the item's promised (or
    statutory) limit; an instant item gets one day (it is decided in the branch's inbox, not on
    the spot)."""
    if member.limit_days:
        return member.limit_days
    version = member.item.current_version
    e = version.elements if version is not None else {}
    return e.get("promised_limit_days") or e.get("statutory_limit_days") or 1


def publication_problems(bundle: Bundle) -> list[FieldError]:
    """Every reason the bundle cannot be published, one Chinese message each."""
    problems: list[FieldError] = []
    members = list(bundle.members.select_related("item", "item__current_version", "item__department"))
    if bundle.lead_department_id is None:
        problems.append(FieldError("lead_department", _("请设置牵头部门。"), "no_lead"))
    if len(members) < 2:
        problems.append(
            FieldError(
                "members", _("一件事至少包含两个事项（当前 %(n)s 个）。") % {"n": len(members)}, "too_few"
            )
        )
    limits = []
    questions = {q.key for q in bundle.questions.all()}
    for m in members:
        item = m.item
        label = item.current_version.name if item.current_version else (item.name or item.code)
        if item.current_version_id is None:
            problems.append(
                FieldError(
                    "members",
                    _("事项“%(n)s”（%(c)s）尚未发布或已停用，不能纳入一件事。")
                    % {"n": label, "c": item.code},
                    "member_unpublished",
                )
            )
            continue
        e = item.current_version.elements
        limit = branch_limit(m)
        limits.append((limit, label))
        promised = e.get("promised_limit_days") or e.get("statutory_limit_days")
        if m.limit_days and promised and m.limit_days > promised:
            problems.append(
                FieldError(
                    "members",
                    _("事项“%(n)s”的分支时限（%(b)s个工作日）超过了该事项的承诺时限（%(p)s个工作日）。")
                    % {"n": label, "b": m.limit_days, "p": promised},
                    "branch_over_promise",
                )
            )
        if problem := _check_condition(m.condition):
            problems.append(FieldError("members", f"{label}：{problem}", "bad_condition"))
        elif m.condition.strip():
            try:
                evaluate(m.condition, {})
            except Exception:  # the expression is allowed but cannot be evaluated
                problems.append(
                    FieldError(
                        "members", _("事项“%(n)s”的适用条件无法计算。") % {"n": label}, "bad_condition"
                    )
                )
            unknown = _names(m.condition) - questions
            if unknown:
                problems.append(
                    FieldError(
                        "members",
                        _("事项“%(n)s”的适用条件引用了不存在的问题：%(q)s。")
                        % {"n": label, "q": "、".join(sorted(unknown))},
                        "unknown_question",
                    )
                )
        if m.advisory and bundle.outcome_rule == OutcomeRule.ALL_MUST_APPROVE:
            problems.append(
                FieldError(
                    "members",
                    _("结果规则为“全部准予方可准予”时不能设置参考性事项（“%(n)s”）。") % {"n": label},
                    "advisory_not_allowed",
                )
            )
    if members and all(m.advisory for m in members):
        problems.append(FieldError("members", _("至少须有一个事项不是参考性事项。"), "all_advisory"))
    if members and all(m.condition.strip() for m in members):
        problems.append(
            FieldError("members", _("至少须有一个事项总是适用（不设适用条件）。"), "nothing_always_applies")
        )
    overall = bundle.overall_limit_days
    if not overall:
        problems.append(
            FieldError("overall_limit_days", _("请填写一件事的总承诺时限（工作日）。"), "no_limit")
        )
    elif limits:
        longest, longest_label = max(limits)
        total = sum(limit for limit, _label in limits)
        if overall < longest:
            problems.append(
                FieldError(
                    "overall_limit_days",
                    _("总时限（%(o)s个工作日）短于最长的分支时限（“%(n)s”，%(l)s个工作日）。")
                    % {"o": overall, "n": longest_label, "l": longest},
                    "overall_below_branch",
                )
            )
        if len(limits) >= 2 and overall > total:
            problems.append(
                FieldError(
                    "overall_limit_days",
                    _(
                        "总时限（%(o)s个工作日）超过各分支时限之和（%(t)s个工作日）：并联办理不应慢于逐项办理。"
                    )
                    % {"o": overall, "t": total},
                    "overall_above_sum",
                )
            )
    # The combined form must cover every member's fields and materials (rebuild after a change).
    mapped_fields: dict[str, set[str]] = {}
    for f in bundle.fields.all():
        for item_id, key in f.mapping.items():
            mapped_fields.setdefault(item_id, set()).add(key)
    mapped_materials: dict[str, set[str]] = {}
    for mat in bundle.materials.all():
        for item_id, name in mat.mapping.items():
            mapped_materials.setdefault(item_id, set()).add(name)
    for m in members:
        if m.item.current_version_id is None:
            continue
        props, _required, _layout = _member_form(m.item)
        missing = [k for k, _s in props if k not in mapped_fields.get(str(m.item_id), set())]
        missing_m = [
            e["name"]
            for e in _member_materials(m.item)
            if e["name"] not in mapped_materials.get(str(m.item_id), set())
        ]
        if missing or missing_m:
            problems.append(
                FieldError(
                    "fields",
                    _("事项“%(n)s”的表单字段或材料（%(x)s）未纳入合并表单，请重新生成合并表单。")
                    % {"n": m.item.current_version.name, "x": "、".join(missing + missing_m)},
                    "form_outdated",
                )
            )
    return problems


def _names(expression: str) -> set[str]:
    import ast

    return {
        n.id
        for n in ast.walk(ast.parse(expression.strip(), mode="eval"))
        if isinstance(n, ast.Name) and n.id not in ("True", "False", "None")
    }


def _bundle_standard(bundle: Bundle):
    from yiwang.catalog.models import ITEM_TYPE_CODES, ItemType, StandardItem

    lead = bundle.lead_department
    basic_code = f"{ITEM_TYPE_CODES[ItemType.PUBLIC_SERVICE]}9{bundle.pk:06d}00"
    standard, _created = StandardItem.objects.update_or_create(
        basic_code=basic_code,
        defaults={
            "name": bundle.name,
            "item_type": ItemType.PUBLIC_SERVICE,
            "department_kind": lead.kind,
            "audience": bundle.audience,
            "legal_basis": LEGAL_BASIS,
            "statutory_limit_days": None,
            "levels": str(lead.region.level),
        },
    )
    return standard


def _item_elements(bundle: Bundle, members: list[BundleMember]) -> dict[str, Any]:
    """The catalogue elements of the bundle item, from the members' published elements."""
    from yiwang.catalog.models import OnlineDepth

    elements = [m.item.current_version.elements for m in members]
    depth = min((e.get("online_depth") or 0) for e in elements)
    channels: list[str] = []
    for e in elements:
        for c in e.get("channels") or []:
            if c not in channels:
                channels.append(c)
    visits = (
        0
        if depth == OnlineDepth.FULLY_ONLINE
        else min(1, max((e.get("onsite_visits") or 0) for e in elements))
    )
    lead = bundle.lead_department
    names = "、".join(e.get("name", "") for e in elements)
    return {
        "name": bundle.name,
        "item_type": "public_service",
        "audience": bundle.audience,
        "legal_basis": LEGAL_BASIS,
        "acceptance_conditions": bundle.description or _("一次申请，同时办理：%(n)s。") % {"n": names},
        "is_instant": False,
        "statutory_limit_days": None,
        "promised_limit_days": bundle.overall_limit_days,
        "online_depth": depth,
        "onsite_visits": visits,
        "onsite_reason": _("统一受理时核验原件或领取结果") if visits else "",
        "channels": channels or ["web", "counter"],
        "consult_phone": lead.phone
        or next((e.get("consult_phone") for e in elements if e.get("consult_phone")), ""),
        "complaint_phone": "12345",
        "where_to_apply": next((e.get("where_to_apply") for e in elements if e.get("where_to_apply")), ""),
        "result_name": _("各部门审批结果（统一送达）"),
        "delivery_methods": "、".join(["窗口领取", "邮寄送达", "电子送达"]),
    }


def _item_materials(bundle: Bundle, members: list[BundleMember]) -> list[dict[str, Any]]:
    # Required on the guide only when a member that always applies requires it; the others are
    # "conditional" (情形必要) and checked per application by ``missing_materials``.
    always = {m.item_id for m in members if not m.condition.strip()}
    by_item = {str(m.item_id): m for m in members}
    out = []
    for mat in bundle.materials.all():
        required = bool(always & set(mat.required_for))
        users = [by_item[i].item.current_version.name for i in mat.mapping if i in by_item]
        out.append(
            {
                **{
                    k: v
                    for k, v in mat.element.items()
                    if k in ("form", "copies", "source", "certificate_type", "notes")
                },
                "name": mat.name,
                "requirement": "required" if required else "conditional",
                "condition": "" if required else _("办理%(n)s时提供") % {"n": "、".join(users)},
            }
        )
    return out


BUNDLE_STEPS = [
    {"name": "统一受理", "is_approval": True, "handler": "牵头部门窗口受理人员", "time_limit_days": 1},
    {"name": "各部门并联审批", "is_approval": False, "handler": "各相关部门", "time_limit_days": None},
    {"name": "统一决定", "is_approval": True, "handler": "牵头部门负责人", "time_limit_days": 1},
    {"name": "统一送达", "is_approval": False, "handler": "牵头部门窗口受理人员", "time_limit_days": None},
]


def publish_bundle(bundle: Bundle, *, user=None):
    """Check the bundle, then (one transaction) write its catalogue item (elements, union of the
    materials, the combined form), upload and bind its umbrella process, and publish the item.
    Returns the item's new ``ServiceItemVersion``; refuses with one message per problem."""
    check_can_manage(user, bundle)
    problems = publication_problems(bundle)
    if problems:
        audit.record(
            "bundles.publish_refused",
            bundle,
            summary=bundle.code,
            detail={"errors": [p.message for p in problems]},
        )
        raise ValidationFailed(problems)
    from yiwang.cases import formschema
    from yiwang.cases.models import ItemForm
    from yiwang.catalog import services as catalog
    from yiwang.catalog.models import ItemMaterial, ProcessStep, ServiceItem
    from yiwang.workflow import services as workflow

    with transaction.atomic():
        bundle = (
            Bundle.objects.select_for_update(of=("self",))
            .select_related("lead_department__region")
            .get(pk=bundle.pk)
        )
        members = list(bundle.members.select_related("item__current_version", "item__department"))
        elements = _item_elements(bundle, members)
        materials = _item_materials(bundle, members)
        if bundle.item_id is None:
            item = catalog.create_implementation(
                standard=_bundle_standard(bundle),
                department=bundle.lead_department,
                user=None,  # the bundle's own item: permission was checked on the bundle
                materials=materials,
                steps=BUNDLE_STEPS,
                **{k: v for k, v in elements.items() if k not in ("name",)},
                name=elements["name"],
            )
            bundle.item = item
            bundle.save(update_fields=["item"])
        else:
            item = ServiceItem.objects.get(pk=bundle.item_id)
            _bundle_standard(bundle)
            ServiceItem.objects.filter(pk=item.pk).update(**elements)
            item.refresh_from_db()
            ItemMaterial.objects.filter(item=item).delete()
            ItemMaterial.objects.bulk_create(
                ItemMaterial(item=item, sort=i, **m) for i, m in enumerate(materials)
            )
            ProcessStep.objects.filter(item=item).delete()
            ProcessStep.objects.bulk_create(
                ProcessStep(item=item, sort=i, **s) for i, s in enumerate(BUNDLE_STEPS)
            )
            catalog.mark_changed(item, user=None, changed_fields=["bundle"])
        fields = list(bundle.fields.all())  # once for the schema and the layout
        schema = combined_schema(bundle, members, fields)
        layout = combined_layout(bundle, members, fields)
        if problems := formschema.check_schema(schema, layout):
            raise ValidationFailed([FieldError("fields", p, "bad_schema") for p in problems])
        ItemForm.objects.update_or_create(
            item=item, defaults={"schema": schema, "layout": layout, "updated_by": user}
        )
        xml = process.umbrella_bpmn(
            bundle.code,
            bundle.name,
            [(m.pk, f"{m.item.department.name}：{m.item.current_version.name}") for m in members],
        )
        definition = workflow.upload_definition(
            key=f"bundle-{bundle.code}"[:64], xml=xml, name=f"一件事：{bundle.name}"[:100], by=_label(user)
        )
        workflow.bind(item, definition, user=None)
        # The branch processes exist before the first acceptance (two first acceptances at once
        # would both try to store version 1).
        for key in process.BRANCH_KEYS:
            _branch_definition(key)
        version = catalog.publish(item, user=None, actor_label=_label(user))
        bundle.published = True
        bundle.version += 1
        bundle.published_at = timezone.now()
        bundle.updated_by = user
        bundle.save(update_fields=["published", "version", "published_at", "updated_by", "updated_at"])
        audit.record(
            "bundles.publish",
            bundle,
            summary=f"{bundle.code} v{bundle.version}",
            detail={
                "item": item.code,
                "item_version": version.number,
                "members": [m.item.code for m in members],
            },
        )
    return version


def _label(user) -> str:
    if user is None:
        return "system"
    return user.get_username()


# --- applying -------------------------------------------------------------------------------------


def applicable_members(bundle: Bundle, answers: dict[str, Any]) -> list[BundleMember]:
    """The members whose condition holds for these questionnaire answers (no condition: always)."""
    out = []
    for m in bundle.members.select_related("item", "item__department").order_by("order", "pk"):
        if not m.condition.strip():
            out.append(m)
            continue
        try:
            if evaluate(m.condition, dict(answers or {})):
                out.append(m)
        except (UnsafeExpression, SyntaxError, TypeError, KeyError, IndexError) as exc:
            raise DomainError(_("事项“%(n)s”的适用条件无法计算。") % {"n": m.item}) from exc
    return out


def check_answers(bundle: Bundle, answers: dict[str, Any]) -> None:
    errors = []
    for q in bundle.questions.all():
        values = {str(c.get("value")) for c in q.choices}
        if str(answers.get(q.key, "")) not in values:
            errors.append(FieldError(f"answers.{q.key}", _("请回答：%(q)s") % {"q": q.text}, "required"))
    if errors:
        raise ValidationFailed(errors)


def _open(application) -> dict[str, Any]:
    try:
        from yiwang.cases import personal
    except ImportError:  # before personal form data was sealed
        return dict(application.data)
    return personal.open_data(application, reader=personal.SYSTEM)


def _seal(application, data: dict[str, Any]) -> list[str]:
    """Set the application's data (sealed when the cases app seals personal values); returns the
    fields to save."""
    try:
        from yiwang.cases import personal
    except ImportError:
        application.data = data
        return ["data"]
    personal.seal_data(application, data)
    return ["data", "personal_cipher"]


def start_bundle_application(
    user,
    bundle: Bundle,
    answers: dict[str, Any],
    *,
    acting_for=None,
    channel: str = "web",
    entered_by=None,
    idempotency_key: str | None = None,
):
    """The umbrella draft: an application to the bundle item whose form is the combined form of
    the members the answers make applicable (fill and submit it like any draft, then
    ``submit_bundle``)."""
    from yiwang.cases import services as cases

    if not bundle.published or bundle.item_id is None or bundle.item.current_version_id is None:
        raise DomainError(_("该一件事尚未发布，暂不能申请。"), code="not_published")
    answers = {str(k): v for k, v in (answers or {}).items()}
    check_answers(bundle, answers)
    members = applicable_members(bundle, answers)
    if not members:
        raise DomainError(_("根据您的回答，没有需要办理的事项。"), code="nothing_applies")
    bundle_fields = list(bundle.fields.all())  # once for the schema and the layout
    # The combined form of the members that apply, prefilled by its own layout's mapping.
    form = (combined_schema(bundle, members, bundle_fields), combined_layout(bundle, members, bundle_fields))
    with transaction.atomic():
        app = cases.start_application(
            user,
            bundle.item,
            acting_for=acting_for,
            channel=channel,
            entered_by=entered_by,
            idempotency_key=idempotency_key,
            form=form,
        )
        # the same draft asked for twice (idempotency key); without a key the draft is new
        if idempotency_key is not None and BundleApplication.objects.filter(application=app).exists():
            return app
        BundleApplication.objects.create(
            application=app,
            bundle=bundle,
            bundle_version=bundle.version,
            answers=answers,
            member_ids=[m.pk for m in members],
            open_branches=len(members),  # what unified acceptance will spawn (it corrects it if not)
        )
    return app


def _link(application) -> BundleApplication:
    link = BundleApplication.objects.select_related("bundle").filter(application=application).first()
    if link is None:
        raise DomainError(_("这不是一件事的申请。"), code="not_bundle")
    return link


def _members_of(link: BundleApplication) -> list[BundleMember]:
    return list(
        BundleMember.objects.filter(pk__in=link.member_ids)
        .select_related("item", "item__department")
        .order_by("order", "pk")
    )


def missing_materials(application, link: BundleApplication | None = None) -> list[str]:
    """The materials the applicable members require that the draft does not have yet."""
    link = link or _link(application)
    # Names and item ids only: the material rows and the members' items are not needed here.
    have = set(application.materials.filter(replaced=False).values_list("requirement", flat=True))
    item_ids = set(BundleMember.objects.filter(pk__in=link.member_ids).values_list("item_id", flat=True))
    return [
        m.name
        for m in link.bundle.materials.all()
        if item_ids & {int(i) for i in m.required_for} and m.name not in have
    ]


def submit_bundle(application, *, user):
    """Submit the umbrella draft (idempotent like ``cases.services.submit``), every problem at
    once: the combined form's fields and every material an applicable member requires."""
    from yiwang.cases import services as cases

    cases._check_owner(application, user)  # before anything about the draft is reported
    link = _link(application)
    # A draft submitted before has its materials: cases.submit then returns the same case.
    missing = [
        FieldError(f"material:{name}", _("请提供申请材料“%(n)s”。") % {"n": name}, "missing")
        for name in missing_materials(application, link)
    ]
    try:
        case = cases.submit(application, user=user, bundle_role="umbrella") if not missing else None
    except ValidationFailed as exc:
        seen = {(e.field, e.message) for e in exc.errors}
        raise ValidationFailed(exc.errors + [e for e in missing if (e.field, e.message) not in seen]) from exc
    if missing:
        from yiwang.cases import formschema

        errors = [
            FieldError(k, v)
            for k, v in formschema.validate(application.form_schema, _open(application)).items()
        ]
        raise ValidationFailed(errors + missing)
    return case


# --- the joint process ----------------------------------------------------------------------------

_BRANCH_DEFINITIONS: dict[str, int] = {}


def _branch_definition(key: str):
    """The branch process ``key`` (one of ``process.BRANCH_KEYS``), uploaded on first use."""
    from yiwang.workflow import services as workflow
    from yiwang.workflow.models import ProcessDefinition

    pk = _BRANCH_DEFINITIONS.get(key)
    if pk is not None:
        # the key too: a rolled-back test database may give the id to another definition
        found = ProcessDefinition.objects.filter(pk=pk, key=key).first()
        if found is not None:
            return found
    definition = workflow.upload_definition(
        key=key, xml=process.branch_bpmn(key), by="system", is_template=True
    )
    _BRANCH_DEFINITIONS[key] = definition.pk
    return definition


def _branch_key(bundle: Bundle, second_review: bool) -> str:
    if bundle.one_step_branches:
        return process.BRANCH_ONE_STEP  # the department's opinion is its review: no second review
    return process.BRANCH_SECOND_REVIEW if second_review else process.BRANCH_TWO_STEP


def umbrella_link(case) -> BundleApplication | None:
    try:  # its SQL compiled once per connection: every bundle step reads it
        return locked_row(BundleApplication, case.application_id, ("bundle",), lock=False, by="application")
    except BundleApplication.DoesNotExist:
        return None


def spawn_branches(umbrella, *, actor=None, opened=None) -> list[BundleBranch]:
    """Unified acceptance: one accepted branch case per applicable member, at its department, with
    the mapped fields and the shared materials (rows pointing at the same stored files); the
    wait tasks of members that do not apply are completed as ``skipped``. Runs inside the
    umbrella's Accept (receiver of ``case_accepted``). The rows of all branches are written
    together (one INSERT per table; a case number and a process start per branch)."""
    from yiwang.cases import bulk as case_bulk
    from yiwang.cases import formschema, numbering
    from yiwang.cases import services as cases
    from yiwang.cases.models import Application, Case, CaseState
    from yiwang.workflow import bulk as wf_bulk
    from yiwang.workflow import selectors as wf_selectors
    from yiwang.workflow import services as workflow
    from yiwang.workflow.selectors import bound_processes
    from yiwang.worktime import selectors as worktime

    link = umbrella_link(umbrella)
    if link is None:
        return []
    bundle = link.bundle
    applicable = set(link.member_ids)
    # The branch wait tasks the acceptance opened (``opened``: as the Accept step made them).
    tasks = opened if opened is not None else wf_selectors.open_tasks(umbrella)
    waits = {t.spec_name: t for t in tasks if t.role == process.BRANCH_ROLE}
    members = list(
        BundleMember.objects.filter(bundle=bundle).select_related(
            "item__current_version", "item__department", "item__region"
        )
    )
    today = timezone.localdate()
    now = timezone.now()
    chosen: list[BundleMember] = []
    for member in members:
        task = waits.get(process.branch_step(member.pk))
        if task is None:
            continue  # not in this umbrella's process (added after it started)
        if member.pk not in applicable:
            workflow.complete_task(task, actor=actor, decision="skipped", case=umbrella)
            continue
        if member.item.current_version is None:
            raise DomainError(
                _("事项“%(n)s”已停用，不能分送，请联系牵头部门。")
                % {"n": member.item.name or member.item.code},
                code="member_unpublished",
            )
        chosen.append(member)
    if not chosen:
        return []
    umbrella_data = _open(umbrella.application)
    fields = list(bundle.fields.all())
    materials = list(bundle.materials.all())
    if bundle.one_step_branches:
        second: set[int] = set()  # the member's own process is not asked for: it is not used
    else:
        second = {i for i, p in bound_processes([m.item_id for m in chosen]).items() if "second" in p["key"]}
    keys = {m.pk: _branch_key(bundle, m.item_id in second) for m in chosen}
    definitions = {key: _branch_definition(key) for key in set(keys.values())}
    forms = forms_of([m.item_id for m in chosen])
    apps, data_keys = [], []
    for member in chosen:
        item = member.item
        schema, layout = forms[item.pk]
        item_key = str(item.pk)
        data = {
            f.mapping[item_key]: umbrella_data[f.key]
            for f in fields
            if item_key in f.mapping and f.key in umbrella_data
        }
        app = Application(
            applicant_id=umbrella.applicant_id,
            acting_for_id=umbrella.company_id,
            item_version=item.current_version,
            form_schema=formschema.snapshot(schema),
            form_layout=layout,
            idempotency_key=f"bundle-{umbrella.pk}-{member.pk}",
            channel=umbrella.channel,
            entered_by_id=umbrella.entered_by_id,
            delivery_method=umbrella.delivery_method,
            submitted_at=now,
        )
        _seal(app, data)
        apps.append(app)
        data_keys.append(sorted(data))
    insert_rows(apps)
    branches = []
    numbers = case_bulk.case_numbers([m.item.region.code for m in chosen], today)
    for member, app, number in zip(chosen, apps, numbers, strict=True):
        item = member.item
        limit = branch_limit(member)
        deadline = worktime.due_date(today, limit, [])
        branches.append(
            Case(
                number=number,
                check_code=numbering.check_code(),
                application=app,
                item=item,
                item_version=item.current_version,
                item_name=item.current_version.name,
                region=item.region,
                department=item.department,
                applicant_id=umbrella.applicant_id,
                company_id=umbrella.company_id,
                applicant_name=umbrella.applicant_name,
                state=CaseState.ACCEPTED,
                channel=umbrella.channel,
                entered_by_id=umbrella.entered_by_id,
                submitted_at=umbrella.submitted_at,
                accepted_on=today,
                limit_days=limit,
                due_date=deadline.date,
                due_estimated=deadline.estimated,
                delivery_method=umbrella.delivery_method,
                bundle_role="branch",
            )
        )
    insert_rows(branches)
    # Shared materials: a row per material each member needs, pointing at the stored file.
    shared = cases.share_materials(
        umbrella,
        [
            (
                app.pk,
                branch.pk,
                {
                    mat.name: mat.mapping[str(member.item_id)]
                    for mat in materials
                    if str(member.item_id) in mat.mapping
                },
            )
            for member, app, branch in zip(chosen, apps, branches, strict=True)
        ],
    )
    wf_bulk.start_processes(
        [(branch, definitions[keys[member.pk]]) for member, branch in zip(chosen, branches, strict=True)]
    )
    if link.open_branches != len(branches):  # set at the draft; a member may have left the process
        BundleApplication.objects.filter(pk=link.pk).update(open_branches=len(branches))
    created = insert_rows(
        [
            BundleBranch(
                umbrella=umbrella,
                branch=branch,
                member=member,
                department=member.item.department,
                advisory=member.advisory,
                limit_days=branch.limit_days,
                due_date=branch.due_date,
                wait_step=process.branch_step(member.pk),
            )
            for member, branch in zip(chosen, branches, strict=True)
        ]
    )
    note = _("一件事办件 %(n)s") % {"n": umbrella.number}
    # The branches' timeline lines and the umbrella's, with the Accept step's other rows.
    cases.add_events(
        [
            cases.timeline_line(
                branch, "bundle_accepted", _("一件事统一受理，分送本部门办理"), actor=actor, note=note
            )
            for branch in branches
        ]
        + [
            cases.timeline_line(
                umbrella,
                "bundle_branches",
                _("已分送各部门并联办理"),
                actor=actor,
                note="；".join(
                    f"{m.item.department.name}：{b.item_name}（{b.number}）"
                    for m, b in zip(chosen, branches, strict=True)
                ),
            )
        ]
    )
    umbrella.state = CaseState.UNDER_REVIEW
    audit.record(
        "bundles.branches_created",
        umbrella,
        summary=f"{umbrella.number} → {len(branches)}",
        detail={
            "bundle": bundle.code,
            "branches": [
                {
                    "case": b.number,
                    "member": m.pk,
                    "fields": keys,
                    "materials": shared.get(b.pk, 0),
                }
                for m, b, keys in zip(chosen, branches, data_keys, strict=True)
            ],
        },
    )
    return created


def request_branch_correction(branch_case, *, actor, items: list[dict[str, str]]):
    """A branch asks for a correction (approver of its department, at review): merged into the
    umbrella's one combined correction request; the branch waits and its clock pauses."""
    from .actions import BranchRequestCorrection

    return BranchRequestCorrection(branch_case, actor, items=items).run()


def on_branch_correction(case, items: list[dict[str, str]]) -> None:
    """Merge a branch's correction items into the umbrella's open combined request (or open one):
    the umbrella goes to correction_requested and its clock pauses; the applicant is told once."""
    from yiwang.cases import actions
    from yiwang.cases import services as cases
    from yiwang.cases.models import (
        Case,
        CaseMaterial,
        CaseState,
        ClockPause,
        CorrectionRequest,
        MaterialStatus,
        NoticeKind,
        PauseKind,
    )

    bb = BundleBranch.objects.select_related("department").filter(branch=case).first()
    if bb is None:
        return
    umbrella = Case.objects.select_for_update(of=("self",)).select_related("region").get(pk=bb.umbrella_id)
    bundle_fields = list(BundleField.objects.filter(bundle_id=bb.member.bundle_id))
    bundle_materials = list(BundleMaterial.objects.filter(bundle_id=bb.member.bundle_id))
    item_key = str(case.item_id)
    merged: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {}
        if item.get("material"):
            mat = next((m for m in bundle_materials if m.mapping.get(item_key) == item["material"]), None)
            entry["material"] = mat.name if mat else item["material"]
        if item.get("field"):
            f = next((f for f in bundle_fields if f.mapping.get(item_key) == item["field"]), None)
            entry["field"] = f.key if f else item["field"]
            entry["field_label"] = (
                (f.schema.get("title") if f else None) or item.get("field_label") or item["field"]
            )
        entry["reason"] = f"{bb.department.name}：{item['reason']}"
        entry["branches"] = [case.pk]
        merged.append(entry)
    request = umbrella.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    first = request is None or umbrella.state != CaseState.CORRECTION_REQUESTED
    if first:
        request = CorrectionRequest.objects.create(case=umbrella, items=[], requested_by=None)
        ClockPause.objects.create(case=umbrella, kind=PauseKind.CORRECTION, start=timezone.localdate())
    all_items = list(request.items)
    for entry in merged:
        same = next(
            (
                i
                for i in all_items
                if (entry.get("material") and i.get("material") == entry["material"])
                or (entry.get("field") and i.get("field") == entry["field"])
            ),
            None,
        )
        if same is None:
            all_items.append(entry)
        else:
            same["reason"] = f"{same['reason']}；{entry['reason']}"
            same["branches"] = sorted(set(same.get("branches", [])) | {case.pk})
    request.items = all_items
    request.save(update_fields=["items"])
    for entry in merged:
        if entry.get("material"):
            CaseMaterial.objects.filter(case=umbrella, requirement=entry["material"], replaced=False).update(
                status=MaterialStatus.FAULTY, note=entry["reason"][:300]
            )
    umbrella.state = CaseState.CORRECTION_REQUESTED
    actions.recompute_due(umbrella)
    umbrella.save()
    note = "；".join(f"{i.get('material') or i.get('field_label')}：{i['reason']}" for i in merged)
    cases.add_event(umbrella, "correction_requested", _("一次性告知补正（合并各部门意见）"), note=note)
    cases.notify_applicant(
        umbrella,
        "correction",
        _("您的一件事办件 %(n)s 需要补正，请登录查看一次性告知（已合并各部门意见）。")
        % {"n": umbrella.number},
    )
    cases.issue_notice_after_commit(umbrella, NoticeKind.CORRECTION)
    bb.state = BranchState.CORRECTION
    bb.save(update_fields=["state"])


def correct_bundle(umbrella, *, user, data: dict[str, Any] | None = None):
    """The applicant corrects once. At acceptance this is the umbrella's ordinary correction
    (``ApplicantCorrects``); during the branches it answers the combined request: the umbrella
    resumes, and each branch that asked gets the corrected fields and materials and resumes."""
    from yiwang.cases import actions, formschema
    from yiwang.cases import services as cases
    from yiwang.cases.models import Case, CaseMaterial, CaseState, ClockPause, PauseKind
    from yiwang.workflow import selectors as wf_selectors
    from yiwang.workflow import services as workflow

    if wf_selectors.open_tasks(umbrella).filter(spec_name="applicant_correction").exists():
        return actions.ApplicantCorrects(umbrella, user, data=data or {}).run()
    with transaction.atomic():
        umbrella = (
            Case.objects.select_for_update(of=("self",))
            .select_related("application", "region")
            .get(pk=umbrella.pk)
        )
        if user is None or user.pk != umbrella.applicant_id:
            raise NotPermitted(_("只有申请人本人可以办理此环节。"))
        if umbrella.state != CaseState.CORRECTION_REQUESTED:
            raise DomainError(_("办件当前不需要补正。"), code="state")
        request = umbrella.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
        if request is None:
            raise DomainError(_("没有待补正的内容。"))
        app = umbrella.application
        current = _open(app)
        new = dict(current)
        if data:
            new.update(formschema.coerce(app.form_schema, data))
        errors = [FieldError(k, v) for k, v in formschema.validate(app.form_schema, new).items()]
        fresh: dict[str, list] = {}
        for item in request.items:
            name = item.get("material")
            if not name:
                continue
            rows = list(
                CaseMaterial.objects.filter(
                    case=umbrella, requirement=name, replaced=False, created_at__gt=request.requested_at
                )
            )
            if not rows:
                errors.append(
                    FieldError(f"material:{name}", _("请重新提供“%(n)s”。") % {"n": name}, "missing")
                )
            fresh[name] = rows
        if errors:
            raise ValidationFailed(errors)
        fields_saved = _seal(app, new)
        app.save(update_fields=[*fields_saved, "updated_at"])
        for name in fresh:
            CaseMaterial.objects.filter(
                case=umbrella, requirement=name, created_at__lte=request.requested_at
            ).update(replaced=True)
        now = timezone.now()
        today = timezone.localdate()
        request.resolved_at = now
        request.save(update_fields=["resolved_at"])
        ClockPause.objects.filter(case=umbrella, kind=PauseKind.CORRECTION, end__isnull=True).update(
            end=today
        )
        umbrella.state = CaseState.UNDER_REVIEW
        actions.recompute_due(umbrella)
        umbrella.save()
        cases.add_event(umbrella, "corrected", _("申请人已补正"), actor=user)
        # The corrections flow to the branches that asked.
        asking = {b for i in request.items for b in i.get("branches", [])}
        bundle_fields = list(BundleField.objects.filter(bundle__applications__application=app))
        bundle_materials = {
            m.name: m for m in BundleMaterial.objects.filter(bundle__applications__application=app)
        }
        for bb in BundleBranch.objects.filter(
            umbrella=umbrella, branch_id__in=asking, state=BranchState.CORRECTION
        ):
            branch = (
                Case.objects.select_for_update(of=("self",))
                .select_related("application", "region")
                .get(pk=bb.branch_id)
            )
            item_key = str(branch.item_id)
            b_app = branch.application
            b_data = _open(b_app)
            for f in bundle_fields:
                if item_key in f.mapping and f.key in new:
                    b_data[f.mapping[item_key]] = new[f.key]
            saved = _seal(b_app, b_data)
            b_app.save(update_fields=[*saved, "updated_at"])
            b_request = branch.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
            for name, rows in fresh.items():
                mat = bundle_materials.get(name)
                if mat is None or item_key not in mat.mapping:
                    continue
                b_name = mat.mapping[item_key]
                CaseMaterial.objects.filter(case=branch, requirement=b_name, replaced=False).update(
                    replaced=True
                )
                CaseMaterial.objects.bulk_create(
                    CaseMaterial(
                        application=b_app,
                        case=branch,
                        requirement=b_name,
                        origin=m.origin,
                        file=m.file.name,
                        content_type=m.content_type,
                        size=m.size,
                        sha256=m.sha256,
                        original_name=m.original_name,
                        record=m.record,
                        uploaded_by_id=m.uploaded_by_id,
                    )
                    for m in rows
                )
            if b_request is not None:
                b_request.resolved_at = now
                b_request.save(update_fields=["resolved_at"])
            ClockPause.objects.filter(case=branch, kind=PauseKind.CORRECTION, end__isnull=True).update(
                end=today
            )
            branch.state = CaseState.UNDER_REVIEW
            task = wf_selectors.open_tasks(branch).filter(spec_name="bundle_correction").first()
            if task is not None:
                workflow.complete_task(task, actor=user, decision="corrected", case=branch)
            actions.recompute_due(branch)
            branch.save()
            cases.add_event(
                branch, "corrected", _("申请人已补正（一件事合并告知）"), actor=user, visible=False
            )
            bb.state = BranchState.OPEN
            bb.due_date = branch.due_date
            bb.save(update_fields=["state", "due_date"])
        audit.record(
            "bundles.correct",
            umbrella,
            summary=f"{umbrella.number}",
            detail={"items": len(request.items), "branches": sorted(asking)},
        )
    return umbrella


def _returning(sql: str, params: list[Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def on_branch_decided(case) -> bool:
    """A branch case was decided: record it; when it was the last open branch, complete the
    umbrella's branch wait tasks together, which opens the unified decision.

    Exactly once: the branch row is marked decided (only from open: a second call does
    nothing), then the umbrella link's count of open branches is decremented in one statement,
    under that row's lock; of two last branches decided at the same moment, the second waits
    for the first's commit, decrements what it left and reaches 0: it alone completes the
    waits. Until then the waits stay open (one engine step of the umbrella per bundle instead of
    one per branch); ``BundleBranch`` rows carry each branch's progress for the pages and
    supervision. Written as SQL with RETURNING, since it runs on every branch decision: on
    PostgreSQL one statement for a branch that is not the last, elsewhere three."""
    outcome = BranchOutcome.APPROVED if case.outcome == "approved" else BranchOutcome.DENIED
    label = _("准予") if outcome == BranchOutcome.APPROVED else _("不予")
    event = (
        "branch_decided",
        (_("%(d)s已作出决定：%(o)s") % {"d": case.department.name, "o": label})[:100],
        f"{case.item_name}（{case.number}）{('：' + case.reasons) if case.reasons else ''}",
    )
    params = [
        BranchState.DECIDED,
        outcome,
        case.decided_at or timezone.now(),
        case.pk,
        BranchState.OPEN,
        BranchState.CORRECTION,
    ]
    found = _record_pg(params, event) if connection.vendor == "postgresql" else _record(params, event)
    if found is None:  # not a branch, or decided already
        return BundleBranch.objects.filter(branch_id=case.pk).exists()
    umbrella_id, left = found
    if left is None:
        # Accepted before the count existed: lock the umbrella's process (the lock its steps
        # take), then read the other branches; the second of two last branches sees the first.
        from yiwang.workflow.models import WorkflowInstance

        WorkflowInstance.objects.select_for_update().filter(case_id=umbrella_id).values_list("pk").first()
        unfinished = (BranchState.OPEN, BranchState.CORRECTION)
        if BundleBranch.objects.filter(umbrella_id=umbrella_id, state__in=unfinished).exists():
            return True
    elif left > 0:
        return True
    _open_unified_decision(umbrella_id)
    return True


_MARK_DECIDED = (
    "UPDATE {bb} SET state = %s, outcome = %s, decided_at = %s WHERE branch_id = %s AND state IN (%s, %s)"
)
_COUNT_DOWN = (
    "UPDATE {link} SET open_branches = open_branches - 1 "
    "WHERE application_id = (SELECT application_id FROM {case} WHERE id = {umbrella})"
)


def _tables() -> dict[str, str]:
    from yiwang.cases.models import Case

    q = connection.ops.quote_name
    return {
        "bb": q(BundleBranch._meta.db_table),
        "link": q(BundleApplication._meta.db_table),
        "case": q(Case._meta.db_table),
    }


def _record(params: list[Any], event: tuple[str, str, str]) -> tuple[int, int | None] | None:
    """Mark the branch decided, add the umbrella's timeline line, count down: three statements.
    Returns (umbrella id, open branches left; None when not counted), or None when no open
    branch row was marked."""
    from yiwang.cases import services as cases
    from yiwang.cases.models import Case

    t = _tables()
    row = _returning(_MARK_DECIDED.format(**t) + " RETURNING umbrella_id", params)
    if row is None:
        return None
    umbrella_id = row[0]
    kind, label, note = event
    cases.add_event(Case(pk=umbrella_id), kind, label, note=note)
    left = _returning(_COUNT_DOWN.format(umbrella="%s", **t) + " RETURNING open_branches", [umbrella_id])
    return umbrella_id, (left[0] if left else None)


def _record_pg(params: list[Any], event: tuple[str, str, str]) -> tuple[int, int | None] | None:
    """``_record`` as one statement (data-modifying CTEs). The count-down is the main UPDATE, so
    it waits for the link row's lock and then decrements the latest committed count."""
    from yiwang.cases import services as cases

    t = _tables()
    kind, label, note = event
    line_sql, line_params = cases.timeline_insert_sql("SELECT umbrella_id FROM b", kind, label, note=note)
    sql = (
        f"WITH b AS ({_MARK_DECIDED.format(**t)} RETURNING umbrella_id), e AS ({line_sql}) "
        + _COUNT_DOWN.format(umbrella="(SELECT umbrella_id FROM b)", **t)
        + " RETURNING (SELECT umbrella_id FROM b), open_branches"
    )
    row = _returning(sql, [*params, *line_params])
    return (row[0], row[1]) if row is not None else None


def _open_unified_decision(umbrella_id: int) -> None:
    """Every branch is decided: complete the umbrella's branch wait tasks in one engine step
    (each with its branch's outcome); the parallel join opens the unified decision."""
    from yiwang.cases import services as cases
    from yiwang.cases.models import Case
    from yiwang.workflow import bulk as wf_bulk

    # The umbrella's row and region: the new task's columns (its SQL compiled once per connection).
    umbrella = locked_row(Case, umbrella_id, ("region",), lock=False)
    decisions = dict(
        BundleBranch.objects.filter(umbrella_id=umbrella_id).order_by().values_list("wait_step", "outcome")
    )
    opened, _done = wf_bulk.complete_tasks(None, decisions, case=umbrella)
    if any(t.spec_name == "decide" for t in opened):
        cases.add_event(umbrella, "branches_done", _("各部门均已办结，待统一决定"))


def outcome_of(umbrella) -> BundleOutcome:
    """What the outcome rule gives for the umbrella's branches ("" while one is still open)."""
    branches = list(
        BundleBranch.objects.filter(umbrella=umbrella)
        .select_related("branch", "department", "member__bundle")
        # what the rule and its reasons read (a branch case row is wide); the rule is the
        # bundle's, reached through the branches' members
        .only(
            "state",
            "outcome",
            "advisory",
            "branch__item_name",
            "branch__reasons",
            "department__name",
            "member__bundle__outcome_rule",
        )
        .order_by("member__order")
    )
    if not branches or any(b.state in (BranchState.OPEN, BranchState.CORRECTION) for b in branches):
        return BundleOutcome("")
    rule = branches[0].member.bundle.outcome_rule
    denied = [b for b in branches if b.outcome == BranchOutcome.DENIED]
    if rule == OutcomeRule.ADVISORY_ALLOWED:
        binding = [b for b in denied if not b.advisory]
        advisory = [b for b in denied if b.advisory]
    else:
        binding, advisory = denied, []
    parts = []
    if binding:
        parts.append(
            _("以下部门不予许可：")
            + "；".join(f"{b.department.name}（{b.branch.item_name}）：{b.branch.reasons}" for b in binding)
        )
    if advisory:
        parts.append(
            _("参考性意见（不影响整体结果）：")
            + "；".join(f"{b.department.name}（{b.branch.item_name}）：{b.branch.reasons}" for b in advisory)
        )
    return BundleOutcome("deny" if binding else "approve", binding, advisory, "。".join(parts))


def decide_bundle(umbrella, *, actor, reasons: str = ""):
    """The unified decision (lead department head): the outcome rule decides approve or deny;
    the reasons name the denying departments (and the advisory opinions)."""
    from yiwang.cases import actions

    result = outcome_of(umbrella)
    if not result.decision:
        raise DomainError(_("尚有部门未办结，不能统一决定。"), code="branches_open")
    text = "。".join(t for t in (result.reasons, (reasons or "").strip()) if t)
    # The receiver's check below need not read the branches again: once every branch is
    # decided their outcomes are final, so the rule gives what it gave here.
    token = _DECIDING.set((umbrella.pk, result))
    try:
        return actions.Decide(umbrella, actor, decision=result.decision, reasons=text).run()
    finally:
        _DECIDING.reset(token)


_DECIDING: ContextVar[tuple[int, BundleOutcome] | None] = ContextVar("bundles_deciding", default=None)


def check_unified_decision(case) -> None:
    """Receiver side of ``case_decided`` on an umbrella: a decision against the outcome rule is
    refused (the whole Decide rolls back), whichever page or API made it."""
    known = _DECIDING.get()
    if known is not None and known[0] == case.pk:
        result = known[1]
    elif umbrella_link(case) is None:
        return
    else:
        result = outcome_of(case)
    wanted = {"approve": "approved", "deny": "denied"}.get(result.decision)
    if wanted and case.outcome != wanted:
        raise DomainError(
            _("按本一件事的结果规则，应当作出“%(d)s”的决定。")
            % {"d": _("准予") if wanted == "approved" else _("不予")},
            field="decision",
            code="outcome_rule",
        )


def _mark_branches(umbrella, state: str) -> list[int]:
    """Every branch row of the umbrella to ``state``; returns their branch case ids (one
    statement: UPDATE … RETURNING)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(BundleBranch._meta.db_table)} SET state = %s "
            "WHERE umbrella_id = %s RETURNING branch_id",
            [state, umbrella.pk],
        )
        return sorted(row[0] for row in cursor.fetchall())


def on_umbrella_delivered(case) -> None:
    """One delivery of all results: each branch case is delivered with the umbrella."""
    from yiwang.cases import services as cases

    ids = _mark_branches(case, BranchState.DELIVERED)
    if not ids:
        return
    method = getattr(getattr(case, "delivery", None), "method", None) or case.delivery_method
    # One delivery row per branch case: one a branch already has is kept.
    cases.settle_with(ids, delivered_at=case.delivered_at or timezone.now(), method=method)
    label = _("随一件事统一送达（%(n)s）") % {"n": case.number}
    cases.add_events([cases.timeline_line(i, "delivered", label[:100]) for i in ids])


def on_umbrella_closed(case) -> None:
    from yiwang.cases import services as cases

    ids = _mark_branches(case, BranchState.CLOSED)
    if not ids:
        return
    cases.settle_with(ids, closed_at=case.closed_at or timezone.now())
    label = _("随一件事办结（%(n)s）") % {"n": case.number}
    cases.add_events([cases.timeline_line(i, "closed", label[:100]) for i in ids])
