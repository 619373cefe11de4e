"""Bundle definitions: who may manage a bundle, the bundle itself, its members and questions."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from yiwang.catalog.models import LifeEvent, ServiceItem
from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.selectors import can_manage_department
from yiwang.regions.models import Department
from yiwang.workflow.expressions import UnsafeExpression, check_expression

from ..models import Bundle, BundleKind, BundleMember, OutcomeRule, Question

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # = cases.formschema


def _is_platform_admin(user: User) -> bool:
    return bool(user.is_superuser or StaffRole.objects.filter(user=user, role=Role.PLATFORM_ADMIN).exists())


def check_can_manage(
    user: User | AnonymousUser | None, bundle_or_department: Bundle | Department | None
) -> None:
    """Catalogue administrators of the lead department (or above it) build its bundles; ``None``
    is the system (demo, generator)."""
    if user is None:
        return
    department = (
        bundle_or_department.lead_department
        if isinstance(bundle_or_department, Bundle)
        else bundle_or_department
    )
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        raise NotPermitted()
    if department is None:
        if _is_platform_admin(user):
            return
        raise NotPermitted(_("未设置牵头部门的一件事只能由平台管理员管理。"))
    if not can_manage_department(user, department):
        raise NotPermitted(
            _("您只能管理本部门牵头的一件事（%(dept)s 不在您的管理范围内）。") % {"dept": department.name}
        )


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


def check_bundle_values(values: dict[str, Any]) -> None:
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
    user: User | None,
    code: str,
    name: str,
    kind: str,
    lead_department: Department,
    overall_limit_days: int | None = None,
    outcome_rule: str = OutcomeRule.ALL_MUST_APPROVE,
    description: str = "",
    audience: str = "both",
    life_event: LifeEvent | None = None,
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
    check_bundle_values(values)
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
def update_bundle(bundle: Bundle, *, user: User | None, **fields: Any) -> Bundle:
    check_can_manage(user, bundle)
    unknown = set(fields) - BUNDLE_FIELDS
    if unknown:
        raise DomainError(_("不能修改：%(f)s") % {"f": "、".join(sorted(unknown))})
    if "lead_department" in fields and fields["lead_department"] != bundle.lead_department:
        check_can_manage(user, fields["lead_department"])
    check_bundle_values(fields)
    for key, value in fields.items():
        setattr(bundle, key, value)
    bundle.updated_by = user
    bundle.save()
    audit.record("bundles.update", bundle, summary=bundle.code, detail={"fields": sorted(fields)})
    return bundle


def check_condition(condition: str) -> str | None:
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
    item: ServiceItem,
    *,
    user: User | None,
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
    if problem := check_condition(condition):
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
def update_member(member: BundleMember, *, user: User | None, **fields: Any) -> BundleMember:
    check_can_manage(user, member.bundle)
    unknown = set(fields) - {"advisory", "limit_days", "order", "condition"}
    if unknown:
        raise DomainError(_("不能修改：%(f)s") % {"f": "、".join(sorted(unknown))})
    if problem := check_condition(fields.get("condition") or ""):
        raise DomainError(problem, field="condition")
    for key, value in fields.items():
        setattr(member, key, value)
    member.save()
    audit.record("bundles.member.update", member.bundle, summary=member.bundle.code, detail=fields)
    return member


@transaction.atomic
def remove_member(member: BundleMember, *, user: User | None) -> None:
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
    user: User | None,
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


def branch_limit(member: BundleMember) -> int:
    """A branch's limit in working days: the member's own, else the item's promised (or
    statutory) limit; an instant item gets one day (it is decided in the branch's inbox, not on
    the spot)."""
    if member.limit_days:
        return member.limit_days
    version = member.item.current_version
    e = version.elements if version is not None else {}
    return e.get("promised_limit_days") or e.get("statutory_limit_days") or 1
