"""Publication rules: an implementation that breaks one is refused, with one message per rule.

Each rule reads the merged elements (``elements.effective_elements``) so the check is the same
whether the item comes from the back office, a spreadsheet or the generator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core.errors import FieldError

from .models import RESULT_KINDS_WITH_CERTIFICATE, OnlineDepth, ResultKind

if TYPE_CHECKING:
    from .elements import MergedItem

MAX_APPROVAL_STEPS = 5  # Fujian's cap, taken as the province default (DESIGN.md)

Rule = Callable[[dict[str, Any]], FieldError | None]


def _days(n: int) -> str:
    return ngettext("%(n)s个工作日", "%(n)s个工作日", n) % {"n": n}


def _spaced_days(n: int) -> str:
    return ngettext("%(n)s 个工作日", "%(n)s 个工作日", n) % {"n": n}


def promised_not_longer_than_statutory(e: dict[str, Any]) -> FieldError | None:
    p, s = e.get("promised_limit_days"), e.get("statutory_limit_days")
    if p is not None and s is not None and p > s:
        return FieldError(
            "promised_limit_days",
            _("承诺办结时限（%(p)s）不得超过法定办结时限（%(s)s）。") % {"p": _days(p), "s": _days(s)},
            "promised_exceeds_statutory",
        )
    return None


def promised_within_provincial_cap(e: dict[str, Any]) -> FieldError | None:
    """A province may cap promised limits at a share of the statutory ones (Fujian: at most 60 %),
    ``settings.YIWANG_PROMISE_CAP_PERCENT``; a promise longer than the statutory limit is the
    rule above's, not reported twice."""
    cap = getattr(settings, "YIWANG_PROMISE_CAP_PERCENT", None)
    p, s = e.get("promised_limit_days"), e.get("statutory_limit_days")
    if not cap or cap >= 100 or p is None or s is None or p > s:
        return None
    if p * 100 > s * cap:
        return FieldError(
            "promised_limit_days",
            _("承诺时限 %(p)s超过法定时限 %(s)s的 %(cap)s%%（本省上限）。")
            % {"p": _spaced_days(p), "s": _spaced_days(s), "cap": cap},
            "promised_over_provincial_cap",
        )
    return None


def instant_item_has_no_limit(e: dict[str, Any]) -> FieldError | None:
    if e.get("is_instant") and e.get("promised_limit_days"):
        return FieldError(
            "promised_limit_days",
            _("即办件当场办结，不应设置承诺办结时限（当前为%(p)s）。")
            % {"p": _days(e["promised_limit_days"])},
            "instant_with_limit",
        )
    return None


def promise_item_has_limit(e: dict[str, Any]) -> FieldError | None:
    if not e.get("is_instant") and not e.get("promised_limit_days"):
        return FieldError(
            "promised_limit_days", _("承诺件须填写承诺办结时限（工作日）。"), "promise_without_limit"
        )
    return None


def fully_online_needs_no_visit(e: dict[str, Any]) -> FieldError | None:
    if e.get("online_depth") == OnlineDepth.FULLY_ONLINE and (e.get("onsite_visits") or 0) > 0:
        return FieldError(
            "onsite_visits",
            ngettext(
                "全程网办事项的到办事现场次数应为0（当前为%(n)s次）。",
                "全程网办事项的到办事现场次数应为0（当前为%(n)s次）。",
                e["onsite_visits"],
            )
            % {"n": e["onsite_visits"]},
            "fully_online_with_visits",
        )
    return None


def visits_need_reason(e: dict[str, Any]) -> FieldError | None:
    if (e.get("onsite_visits") or 0) > 0 and not (e.get("onsite_reason") or "").strip():
        return FieldError(
            "onsite_reason", _("需要到现场办理的，须说明必须现场办理的原因。"), "visits_without_reason"
        )
    return None


def at_most_five_approval_steps(e: dict[str, Any]) -> FieldError | None:
    n = e.get("approval_steps") or 0
    if n > MAX_APPROVAL_STEPS:
        return FieldError(
            "steps",
            ngettext(
                "审批环节不得超过%(max)s个（当前为%(n)s个）。",
                "审批环节不得超过%(max)s个（当前为%(n)s个）。",
                n,
            )
            % {"max": MAX_APPROVAL_STEPS, "n": n},
            "too_many_steps",
        )
    return None


def bound_process_within_limit(e: dict[str, Any]) -> FieldError | None:
    process = e.get("process") or {}
    n = process.get("approval_steps") or 0
    if n > MAX_APPROVAL_STEPS:
        return FieldError(
            "process",
            ngettext(
                "绑定的办理流程“%(name)s”有%(n)s个审批环节，超过%(max)s个的上限。",
                "绑定的办理流程“%(name)s”有%(n)s个审批环节，超过%(max)s个的上限。",
                n,
            )
            % {"name": process.get("name", ""), "n": n, "max": MAX_APPROVAL_STEPS},
            "process_too_many_steps",
        )
    return None


def has_an_approval_step(e: dict[str, Any]) -> FieldError | None:
    if not e.get("approval_steps"):
        return FieldError("steps", _("办理流程至少需要一个审批环节（如“受理”）。"), "no_steps")
    return None


def free_item_without_payment(e: dict[str, Any]) -> FieldError | None:
    if not e.get("fee_required") and e.get("online_payment"):
        return FieldError("online_payment", _("不收费事项不应开通网上支付。"), "free_with_payment")
    return None


def fee_needs_standard_and_basis(e: dict[str, Any]) -> FieldError | None:
    if e.get("fee_required") and not (
        (e.get("fee_standard") or "").strip() and (e.get("fee_basis") or "").strip()
    ):
        return FieldError("fee_basis", _("收费事项须写明收费标准和收费依据。"), "fee_without_basis")
    return None


def has_name_and_basis(e: dict[str, Any]) -> FieldError | None:
    if not (e.get("legal_basis") or "").strip():
        return FieldError("legal_basis", _("须填写设定依据。"), "no_legal_basis")
    return None


def has_consult_phone(e: dict[str, Any]) -> FieldError | None:
    if not (e.get("consult_phone") or "").strip():
        return FieldError("consult_phone", _("须填写咨询电话。"), "no_consult_phone")
    return None


def has_channel(e: dict[str, Any]) -> FieldError | None:
    if not e.get("channels"):
        return FieldError("channels", _("至少选择一个办理渠道。"), "no_channel")
    return None


def online_depth_needs_online_channel(e: dict[str, Any]) -> FieldError | None:
    if (e.get("online_depth") or 0) >= OnlineDepth.ONLINE_ACCEPTANCE and not {"web", "mobile"} & set(
        e.get("channels") or []
    ):
        return FieldError(
            "channels",
            _("网上受理或全程网办的事项须开通网上办事大厅或移动端渠道。"),
            "online_without_channel",
        )
    return None


def certificate_result_names_its_type(e: dict[str, Any]) -> FieldError | None:
    """An item that issues or revokes a certificate must say which type: approval reads it."""
    kind = e.get("result_kind")
    if kind in RESULT_KINDS_WITH_CERTIFICATE and not (e.get("result_certificate_type") or "").strip():
        if kind == ResultKind.REVOCATION:
            message = _("审批结果为注销证照的事项，须填写所注销的证照类型。")
        else:
            message = _("审批结果为证照的事项，须填写所签发的证照类型。")
        return FieldError("result_certificate_type", message, "certificate_without_type")
    return None


RULES: list[Rule] = [
    promised_not_longer_than_statutory,
    promised_within_provincial_cap,
    instant_item_has_no_limit,
    promise_item_has_limit,
    fully_online_needs_no_visit,
    visits_need_reason,
    at_most_five_approval_steps,
    bound_process_within_limit,
    has_an_approval_step,
    free_item_without_payment,
    fee_needs_standard_and_basis,
    has_name_and_basis,
    has_consult_phone,
    has_channel,
    online_depth_needs_online_channel,
    certificate_result_names_its_type,
]


def publication_errors(elements: dict[str, Any]) -> list[FieldError]:
    return [err for rule in RULES if (err := rule(elements)) is not None]


def process_disagreements(m: MergedItem) -> list[FieldError]:
    """Where the item's own step notes or its instant type disagree with the process it runs.
    The guide's steps come from the process (``elements.guide_steps``); a note naming a step
    the process does not have would be dropped from the guide without a word, so it is refused."""
    errors: list[FieldError] = []
    names = [s.name for s in m.process_steps]
    unknown = [n for n in m.step_notes if n not in names]
    if unknown:
        errors.append(
            FieldError(
                "steps",
                _(
                    "办理环节“%(steps)s”不在本事项运行的办理流程中（流程的环节：%(known)s）。请按流程的环节名称填写，或为事项绑定相应的流程。"
                )
                % {"steps": "、".join(unknown), "known": "、".join(names)},
                "step_not_in_process",
            )
        )
    review = [s.name for s in m.process_steps if s.role == "approver"]
    if m.elements.get("is_instant") and review:
        errors.append(
            FieldError(
                "is_instant",
                _(
                    "即办件须当场办结，但本事项运行的办理流程含有审查环节（%(steps)s）。请改为承诺件，或绑定即办流程。"
                )
                % {"steps": "、".join(review)},
                "instant_with_review",
            )
        )
    return errors
