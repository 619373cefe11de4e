"""Publication of a bundle: the checks, then its catalogue item, combined form and umbrella
process."""

from __future__ import annotations

import ast
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.cases import formschema
from yiwang.cases.models import ItemForm
from yiwang.catalog import services as catalog
from yiwang.catalog.models import (
    ITEM_TYPE_CODES,
    ItemMaterial,
    ItemType,
    OnlineDepth,
    ProcessStep,
    ServiceItem,
    ServiceItemVersion,
    StandardItem,
)
from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, ValidationFailed
from yiwang.regions.models import Department
from yiwang.workflow import services as workflow
from yiwang.workflow.expressions import evaluate

from .. import process
from ..models import Bundle, BundleMember, OutcomeRule
from .branches import branch_definition
from .combined_form import combined_layout, combined_schema, member_form, member_materials
from .definitions import branch_limit, check_can_manage, check_condition

LEGAL_BASIS = (
    "《国务院关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见》（国发〔2024〕3号）；"
    "各事项的设定依据见其办事指南。"
)


def _days(n: int) -> str:
    """A count of working days, in the reader's language with the right plural."""
    return ngettext("%(n)s个工作日", "%(n)s个工作日", n) % {"n": n}


def published_version(item: ServiceItem) -> ServiceItemVersion:
    """A member's published version; ``publication_problems`` refuses a bundle with a member
    that has none."""
    version = item.current_version
    if version is None:
        raise DomainError(
            _("事项“%(n)s”（%(c)s）尚未发布或已停用，不能纳入一件事。")
            % {"n": item.name or item.code, "c": item.code},
            code="member_unpublished",
        )
    return version


def lead_department(bundle: Bundle) -> Department:
    """The bundle's lead department; ``publication_problems`` refuses a bundle without one."""
    if bundle.lead_department is None:
        raise DomainError(_("请设置牵头部门。"), field="lead_department", code="no_lead")
    return bundle.lead_department


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
        e = published_version(item).elements
        limit = branch_limit(m)
        limits.append((limit, label))
        promised = e.get("promised_limit_days") or e.get("statutory_limit_days")
        if m.limit_days and promised and m.limit_days > promised:
            problems.append(
                FieldError(
                    "members",
                    _("事项“%(n)s”的分支时限（%(b)s）超过了该事项的承诺时限（%(p)s）。")
                    % {"n": label, "b": _days(m.limit_days), "p": _days(promised)},
                    "branch_over_promise",
                )
            )
        if problem := check_condition(m.condition):
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
                    _("总时限（%(o)s）短于最长的分支时限（“%(n)s”，%(l)s）。")
                    % {"o": _days(overall), "n": longest_label, "l": _days(longest)},
                    "overall_below_branch",
                )
            )
        if len(limits) >= 2 and overall > total:
            problems.append(
                FieldError(
                    "overall_limit_days",
                    _("总时限（%(o)s）超过各分支时限之和（%(t)s）：并联办理不应慢于逐项办理。")
                    % {"o": _days(overall), "t": _days(total)},
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
        props, _required, _layout = member_form(m.item)
        missing = [k for k, _s in props if k not in mapped_fields.get(str(m.item_id), set())]
        missing_m = [
            e["name"]
            for e in member_materials(m.item)
            if e["name"] not in mapped_materials.get(str(m.item_id), set())
        ]
        if missing or missing_m:
            problems.append(
                FieldError(
                    "fields",
                    _("事项“%(n)s”的表单字段或材料（%(x)s）未纳入合并表单，请重新生成合并表单。")
                    % {"n": published_version(m.item).name, "x": "、".join(missing + missing_m)},
                    "form_outdated",
                )
            )
    return problems


def _names(expression: str) -> set[str]:
    return {
        n.id
        for n in ast.walk(ast.parse(expression.strip(), mode="eval"))
        if isinstance(n, ast.Name) and n.id not in ("True", "False", "None")
    }


def _bundle_standard(bundle: Bundle) -> StandardItem:
    lead = lead_department(bundle)
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
    elements = [published_version(m.item).elements for m in members]
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
    lead = lead_department(bundle)
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
        # The umbrella's own decision letter; certificates are issued by the branches.
        "result_kind": "decision",
        "result_certificate_type": "",
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
        users = [published_version(by_item[i].item).name for i in mat.mapping if i in by_item]
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


# Notes on the umbrella process's own steps (``process.umbrella_bpmn``); the guide lists the
# departments' parallel branches between acceptance and decision from the process itself.
BUNDLE_STEPS = [
    {"name": "统一受理", "is_approval": True, "handler": "窗口受理人员", "time_limit_days": 1},
    {"name": "统一决定", "is_approval": True, "handler": "部门负责人", "time_limit_days": 1},
    {"name": "统一送达", "is_approval": False, "handler": "窗口受理人员", "time_limit_days": None},
]


def publish_bundle(bundle: Bundle, *, user: User | None = None) -> ServiceItemVersion:
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
                department=lead_department(bundle),
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
        if schema_problems := formschema.check_schema(schema, layout):
            raise ValidationFailed([FieldError("fields", p, "bad_schema") for p in schema_problems])
        ItemForm.objects.update_or_create(
            item=item, defaults={"schema": schema, "layout": layout, "updated_by": user}
        )
        xml = process.umbrella_bpmn(
            bundle.code,
            bundle.name,
            [(m.pk, f"{m.item.department.name}：{published_version(m.item).name}") for m in members],
        )
        definition = workflow.upload_definition(
            key=f"bundle-{bundle.code}"[:64], xml=xml, name=f"一件事：{bundle.name}"[:100], by=_label(user)
        )
        workflow.bind(item, definition, user=None)
        # The branch processes exist before the first acceptance (two first acceptances at once
        # would both try to store version 1).
        for key in process.BRANCH_KEYS:
            branch_definition(key)
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


def _label(user: User | None) -> str:
    if user is None:
        return "system"
    return user.get_username()
