"""Staff (and applicant) actions on a case, one class each: check, then execute and audit.

``run()`` opens one transaction, locks the case row (``select_for_update``; on SQLite the
IMMEDIATE transaction already serialises writers), re-reads it, checks the actor's role,
department and region (``identity.selectors``) against the open workflow task the action
completes, executes, appends the timeline and the audit entry, and writes the applicant's
notifications to the outbox. The workflow (``workflow.services.complete_task``) is told the
decision; it decides what comes next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog import decision_words
from yiwang.catalog.models import ResultKind
from yiwang.core import audit
from yiwang.core.crypto import encrypt
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.core.rows import locked_row
from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, Region
from yiwang.workflow import selectors as wf_selectors
from yiwang.workflow import services as wf_services
from yiwang.worktime import selectors as worktime

from . import formschema, personal, services
from .courier import courier
from .models import (
    Case,
    CaseMaterial,
    CaseState,
    ClockPause,
    CorrectionRequest,
    CourierStatus,
    Delivery,
    DeliveryMethod,
    MaterialStatus,
    NoticeKind,
    Outcome,
    PauseKind,
)
from .signals import (
    case_accepted,
    case_closed,
    case_decided,
    case_delivered,
    case_refused,
    correction_requested,
)

APPEAL_RIGHTS = (
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)
ACTIVE_STATES = {CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.UNDER_REVIEW}


def has_role_for(user, role: str | set[str], department: Department, region_path: str | None = None) -> bool:
    """Does ``user`` hold ``role`` (or one of several) with a scope covering ``department``: that
    department, or no department and a region at or above it, or the whole province; platform
    administrators and superusers always. One query (the same rule as
    ``identity.selectors.department_scope_q``, which an inbox filter uses)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    roles = {role} if isinstance(role, str) else set(role)
    path = region_path if region_path is not None else department.region.path
    # The user's few role rows, matched here: a plain query compiles and plans in a fraction of
    # the OR-of-scopes filter it replaces (each staff action passes here).
    for held, dept_id, scope_path in _roles_of(user.pk):
        if held == Role.PLATFORM_ADMIN:
            return True
        if held not in roles:
            continue
        if dept_id == department.pk:
            return True
        if dept_id is None and (scope_path is None or path.startswith(scope_path)):
            return True
    return False


def _roles_of(user_id: int) -> list[tuple[str, int | None, str | None]]:
    """(role, department id, scope region path) of each of the user's StaffRole rows: the ORM's
    ``values_list("role", "department_id", "region__path")``, written out (every action asks)."""
    conn = connections[StaffRole.objects.db]
    qn = conn.ops.quote_name
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT s.{qn('role')}, s.{qn('department_id')}, r.{qn('path')} "
            f"FROM {qn(StaffRole._meta.db_table)} s "
            f"LEFT JOIN {qn(Region._meta.db_table)} r ON r.{qn('id')} = s.{qn('region_id')} "
            f"WHERE s.{qn('user_id')} = %s",
            [user_id],
        )
        return cursor.fetchall()


def pauses_of(case: Case) -> list[tuple[dt.date, dt.date | None]]:
    return [(p.start, p.end) for p in case.pauses.all()]


def recompute_due(case: Case, *, tasks: bool = True) -> None:
    """Due date from acceptance, limit and pauses; carried onto the open tasks when it moved
    (``tasks=False`` before the tasks that will carry it are created)."""
    if case.accepted_on is None or case.limit_days is None:
        return
    deadline = worktime.due_date(case.accepted_on, case.limit_days, pauses_of(case))
    moved = deadline.date != case.due_date
    case.due_date, case.due_estimated = deadline.date, deadline.estimated
    if tasks and moved:
        wf_services.set_due_date(case, case.due_date)


class CaseAction:
    """Base: subclasses name the workflow step and decision, the states they start from, and
    implement ``execute``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    step: ClassVar[str | None] = None  # the workflow task this action completes
    decision: ClassVar[str | None] = None
    from_states: ClassVar[set[str]] = set(ACTIVE_STATES)
    roles: ClassVar[set[str] | None] = None  # when no task: the StaffRole roles allowed
    # Read with the locked case in the same statement: what checks, events and notifications
    # read (the applicant's person row for the SMS number), plus what this action reads. The
    # item version (its elements: a large JSON) only where the action or a receiver reads it.
    related: ClassVar[tuple[str, ...]] = ("department", "region", "applicant__person")

    def __init__(self, case: Case, actor, **params: Any) -> None:
        self.case = case
        self.actor = actor
        self.params = params
        self.task = None
        self.next_tasks: list = []
        self.locked: wf_services.LockedInstance | None = None

    # --- checks
    def check(self) -> None:
        if self.case.state not in self.from_states:
            raise DomainError(
                _("办件当前状态为“%(s)s”，不能%(a)s。")
                % {"s": self.case.get_state_display(), "a": self.label},
                code="state",
            )
        if self.step:
            # The instance locked with its open tasks in one statement; ``complete_task`` then
            # neither locks nor reads again (the case row, locked first, keeps other steps out).
            self.locked = wf_services.lock_instance(self.case.pk)
            open_tasks = self.locked.open_tasks if self.locked is not None else []
            self.task = next((t for t in open_tasks if t.spec_name == self.step), None)
            if self.task is None:
                raise DomainError(_("办件当前没有“%(a)s”环节待办。") % {"a": self.label}, code="no_task")
            self.check_actor_for_task()
        else:
            self.check_actor_roles(self.roles or set())
        self.check_params()

    def check_actor_for_task(self) -> None:
        task = self.task
        if task.role == "applicant":
            if self.actor is None or self.actor.pk != self.case.applicant_id:
                raise NotPermitted(_("只有申请人本人可以办理此环节。"))
            if self.case.company_id is not None:
                # A company's case: the person who applied for it may still answer only while
                # they may act for the company (a revoked or expired mandate ends that).
                from yiwang.identity.services import acting_scope

                person = getattr(self.actor, "person", None)
                if not acting_scope(person, self.case.company, self.case.item).allowed:
                    raise NotPermitted(_("您没有代表该单位办理此事项的授权。"))
            return
        if task.assignee_id and task.assignee_id != getattr(self.actor, "pk", None):
            raise NotPermitted(_("该环节已转交给其他工作人员办理。"))
        self.check_actor_roles({task.role})

    def check_actor_roles(self, roles: set[str]) -> None:
        if not has_role_for(self.actor, roles, self.case.department, self.case.region.path):
            names = "、".join(str(Role(r).label) for r in sorted(roles) if r in Role.values)
            raise NotPermitted(
                _("您不是%(dept)s的%(roles)s，不能%(a)s。")
                % {"dept": self.case.department.name, "roles": names, "a": self.label}
            )

    def check_params(self) -> None:
        pass

    # --- execution
    def execute(self) -> None:
        raise NotImplementedError

    def complete_task(self, decision: str | None = None, data: dict | None = None) -> None:
        locked, self.locked = self.locked, None  # the rows it holds are out of date afterwards
        self.next_tasks = wf_services.complete_task(
            self.task,
            actor=self.actor,
            decision=decision or self.decision,
            data=data or {},
            case=self.case,
            locked=locked,
        )

    def audit_detail(self) -> dict[str, Any]:
        return {"decision": self.decision or "", "state": self.case.state}

    def run(self) -> Case:
        # The step's audit entries (its own and any its receivers record) are appended together
        # at its end (``audit.batched``).
        with transaction.atomic(), audit.batched():
            # The case locked, with what the action reads (``related``).
            self.case = lock_case(self.case.pk, self.related)
            before = _columns(self.case)
            self.check()
            self.execute()
            # Only the columns the action changed (and updated_at): the row is locked from the
            # read, so this writes the same row as a full save.
            after = _columns(self.case)
            changed = [k for k, v in after.items() if before[k] != v] + ["updated_at"]
            self.case.save(update_fields=changed)
            audit.record(
                f"cases.{self.name}",
                self.case,
                summary=f"{self.label} {self.case.number}",
                detail=self.audit_detail(),
            )
        return self.case

    def today(self) -> dt.date:
        return timezone.localdate()

    def reasons(self, required: bool = True) -> str:
        text = (self.params.get("reasons") or "").strip()
        if required and not text:
            raise ValidationFailed([FieldError("reasons", _("请填写理由。"), "required")])
        return text


def lock_case(pk: int, related: tuple[str, ...]) -> Case:
    return locked_row(Case, pk, related)


def _columns(case: Case) -> dict[str, Any]:
    return {f.attname: getattr(case, f.attname) for f in _CASE_FIELDS}


_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key and f.name != "updated_at"]
WITH_VERSION = (*CaseAction.related, "item_version")
WITH_DELIVERY = (*CaseAction.related, "delivery")


class Accept(CaseAction):
    name, label, step, decision = "accept", "受理", "accept", "accept"
    related = WITH_VERSION  # the promised limit
    from_states = {CaseState.SUBMITTED}

    def execute(self) -> None:
        elements = self.case.item_version.elements
        limit = (
            0
            if elements.get("is_instant")
            else (elements.get("promised_limit_days") or elements.get("statutory_limit_days") or 0)
        )
        self.case.accepted_on = self.today()
        self.case.limit_days = limit
        self.case.state = CaseState.ACCEPTED
        recompute_due(self.case, tasks=False)  # the review task opened next carries it
        self.complete_task()
        services.add_event(self.case, "accepted", _("已受理"), actor=self.actor)
        services.notify_applicant(
            self.case,
            "accepted",
            _("您的办件 %(n)s 已受理，办理期限 %(d)s。") % {"n": self.case.number, "d": self.case.due_date},
        )
        services.issue_notice_after_commit(self.case, NoticeKind.ACCEPTANCE)
        case_accepted.send(sender=Case, case=self.case, actor=self.actor, opened=self.next_tasks)


class RefuseToAccept(CaseAction):
    name, label, step, decision = "refuse", "不予受理", "accept", "refuse"
    from_states = {CaseState.SUBMITTED}

    def check_params(self) -> None:
        self.reasons()

    def execute(self) -> None:
        self.case.state = CaseState.REFUSED
        self.case.outcome = Outcome.REFUSED
        self.case.reasons = self.reasons()
        self.case.appeal_rights = APPEAL_RIGHTS
        self.case.closed_at = timezone.now()
        self.complete_task()
        services.add_event(self.case, "refused", _("不予受理"), actor=self.actor, note=self.case.reasons)
        services.notify_applicant(
            self.case, "refused", _("您的办件 %(n)s 不予受理，请查看通知书。") % {"n": self.case.number}
        )
        services.issue_notice_after_commit(self.case, NoticeKind.REFUSAL)
        case_refused.send(sender=Case, case=self.case, actor=self.actor)


def correction_note(items: list[dict[str, str]]) -> str:
    """The timeline note of a correction request: each material or field with its reason."""
    return "；".join(f"{i.get('material') or i.get('field_label')}：{i['reason']}" for i in items)


class RequestCorrection(CaseAction):
    """一次性告知: every missing or faulty material and field, at once; the clock stops."""

    name, label, step, decision = "request_correction", "一次性告知补正", "accept", "correction"
    related = WITH_VERSION  # the materials the request may name
    from_states = {CaseState.SUBMITTED}

    def check_params(self) -> None:
        items = self.params.get("items") or []
        errors: list[FieldError] = []
        if not items:
            errors.append(FieldError("items", _("请列出需要补正的全部材料或内容。"), "required"))
        materials = {m["name"] for m in self.case.item_version.elements.get("materials") or []}
        fields = self.case.application.form_schema.get("properties", {})
        for i, item in enumerate(items):
            if not (item.get("reason") or "").strip():
                errors.append(
                    FieldError(f"items.{i}", _("第 %(n)s 项：请写明补正原因。") % {"n": i + 1}, "required")
                )
            if item.get("material") and item["material"] not in materials:
                errors.append(FieldError(f"items.{i}", _("第 %(n)s 项：没有这项材料。") % {"n": i + 1}))
            if item.get("field") and item["field"] not in fields:
                errors.append(FieldError(f"items.{i}", _("第 %(n)s 项：没有这个表单字段。") % {"n": i + 1}))
            if not item.get("material") and not item.get("field"):
                errors.append(FieldError(f"items.{i}", _("第 %(n)s 项：请选择材料或字段。") % {"n": i + 1}))
        if errors:
            raise ValidationFailed(errors)

    def open_request(self) -> list[dict[str, str]]:
        """The request itself, shared with a bundle branch's request: its items (the named
        materials marked faulty), the paused clock, the state and the completed task."""
        fields = self.case.application.form_schema.get("properties", {})
        items = []
        for item in self.params["items"]:
            clean = {"reason": item["reason"].strip()}
            if item.get("material"):
                clean["material"] = item["material"]
                CaseMaterial.objects.filter(
                    case=self.case, requirement=item["material"], replaced=False
                ).update(status=MaterialStatus.FAULTY, note=clean["reason"][:300])
            if item.get("field"):
                clean["field"] = item["field"]
                clean["field_label"] = fields[item["field"]].get("title") or item["field"]
            items.append(clean)
        CorrectionRequest.objects.create(case=self.case, items=items, requested_by=self.actor)
        ClockPause.objects.create(case=self.case, kind=PauseKind.CORRECTION, start=self.today())
        self.case.state = CaseState.CORRECTION_REQUESTED
        self.complete_task()
        return items

    def execute(self) -> None:
        items = self.open_request()
        services.add_event(
            self.case,
            "correction_requested",
            _("一次性告知补正"),
            actor=self.actor,
            note=correction_note(items),
        )
        services.notify_applicant(
            self.case,
            "correction",
            _("您的办件 %(n)s 需要补正材料，请登录查看一次性告知。") % {"n": self.case.number},
        )
        services.issue_notice_after_commit(self.case, NoticeKind.CORRECTION)
        correction_requested.send(sender=Case, case=self.case, actor=self.actor, items=items)

    def audit_detail(self) -> dict[str, Any]:
        return {"decision": "correction", "items": len(self.params["items"])}


class MarkMaterial(CaseAction):
    """The clerk checks one material at acceptance: ok, or faulty with a note (the faulty ones
    then prefill the one-time correction request)."""

    name, label, step = "mark_material", "审核材料", "accept"
    from_states = {CaseState.SUBMITTED}

    def check_params(self) -> None:
        material = self.params.get("material")
        if material is None or material.case_id != self.case.pk:
            raise ValidationFailed([FieldError("material", _("请选择本办件的材料。"), "required")])
        status = self.params.get("status")
        if status not in (MaterialStatus.OK, MaterialStatus.FAULTY):
            raise ValidationFailed([FieldError("status", _("请选择合格或有误。"), "required")])
        if status == MaterialStatus.FAULTY and not (self.params.get("note") or "").strip():
            raise ValidationFailed([FieldError("note", _("请写明材料的问题。"), "required")])

    def execute(self) -> None:
        material = self.params["material"]
        material.status = self.params["status"]
        material.note = (self.params.get("note") or "").strip()[:300]
        material.save(update_fields=["status", "note"])

    def audit_detail(self) -> dict[str, Any]:
        return {"material": self.params["material"].pk, "status": self.params["status"]}


def faulty_items(case: Case) -> list[dict[str, str]]:
    """The correction items the clerk's marks suggest (one per faulty material)."""
    return [
        {"material": m.requirement, "reason": m.note}
        for m in CaseMaterial.objects.filter(case=case, replaced=False, status=MaterialStatus.FAULTY)
    ]


class ApplicantCorrects(CaseAction):
    """The applicant has re-uploaded (``services.upload_material(..., case=case)``) and edited
    what was asked; the clock restarts and the case goes back to acceptance."""

    name, label, step, decision = "correct", "提交补正", "applicant_correction", "corrected"
    from_states = {CaseState.CORRECTION_REQUESTED}

    def check_params(self) -> None:
        request = self.case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
        if request is None:
            raise DomainError(_("没有待补正的内容。"))
        self.request = request
        app = self.case.application
        data = personal.open_data(app, reader=personal.SYSTEM)
        data.update(
            formschema.coerce(app.form_schema, self.params.get("data") or {})
            if self.params.get("data")
            else {}
        )
        errors = [FieldError(k, v) for k, v in formschema.validate(app.form_schema, data).items()]
        for item in request.items:
            name = item.get("material")
            if (
                name
                and not CaseMaterial.objects.filter(
                    case=self.case, requirement=name, replaced=False, created_at__gt=request.requested_at
                ).exists()
            ):
                errors.append(
                    FieldError(f"material:{name}", _("请重新提供“%(n)s”。") % {"n": name}, "missing")
                )
        if errors:
            raise ValidationFailed(errors)
        self.data = data

    def execute(self) -> None:
        now = timezone.now()
        app = self.case.application
        personal.seal_data(app, self.data)
        app.save(update_fields=["data", "personal_cipher", "updated_at"])
        # The faulty copies are superseded by the new ones.
        for item in self.request.items:
            if item.get("material"):
                CaseMaterial.objects.filter(
                    case=self.case, requirement=item["material"], created_at__lte=self.request.requested_at
                ).update(replaced=True)
        self.request.resolved_at = now
        self.request.save(update_fields=["resolved_at"])
        ClockPause.objects.filter(case=self.case, kind=PauseKind.CORRECTION, end__isnull=True).update(
            end=self.today()
        )
        self.case.state = CaseState.SUBMITTED
        self.complete_task()
        recompute_due(self.case)
        services.add_event(self.case, "corrected", _("申请人已补正"), actor=self.actor)


class Review(CaseAction):
    name, label, step = "review", "审查", "review"
    from_states = {CaseState.ACCEPTED, CaseState.UNDER_REVIEW}

    def check_params(self) -> None:
        if self.params.get("decision") not in ("pass", "inspection"):
            raise ValidationFailed([FieldError("decision", _("请选择审查意见。"), "required")])

    def execute(self) -> None:
        self.decision = self.params["decision"]
        self.case.state = CaseState.UNDER_REVIEW
        note = (self.params.get("note") or "").strip()
        if self.decision == "inspection":
            ClockPause.objects.create(
                case=self.case, kind=PauseKind.INSPECTION, start=self.today(), reason=note
            )
            services.add_event(
                self.case, "inspection", _("现场核查/专家评审（不计时）"), actor=self.actor, note=note
            )
        else:
            services.add_event(
                self.case, "reviewed", _("审查通过"), actor=self.actor, note=note, visible=False
            )
        self.complete_task(self.decision)
        if self.decision == "inspection":  # a pass leaves acceptance, limit and pauses as they were
            recompute_due(self.case)


class FinishInspection(CaseAction):
    name, label, step, decision = "inspection_done", "完成现场核查", "inspection", "done"
    from_states = {CaseState.UNDER_REVIEW}

    def execute(self) -> None:
        ClockPause.objects.filter(case=self.case, kind=PauseKind.INSPECTION, end__isnull=True).update(
            end=self.today()
        )
        self.complete_task()
        recompute_due(self.case)
        services.add_event(
            self.case,
            "inspection_done",
            _("现场核查完成"),
            actor=self.actor,
            note=self.params.get("note", ""),
        )


class SecondReview(CaseAction):
    name, label, step = "second_review", "复审", "second_review"
    from_states = {CaseState.UNDER_REVIEW}

    def execute(self) -> None:
        self.decision = self.params.get("decision") or "pass"
        self.complete_task(self.decision)
        services.add_event(self.case, "second_review", _("复审"), actor=self.actor, visible=False)


class Decide(CaseAction):
    name, label, step = "decide", "作出决定", "decide"
    # What the e-certificate receiver (exchange) of case_decided reads besides the applicant: the
    # item version (does it produce one?) and a company holder, in the lock's one statement.
    related = (*WITH_VERSION, "company")
    from_states = {CaseState.ACCEPTED, CaseState.UNDER_REVIEW}

    def check_params(self) -> None:
        decision = self.params.get("decision")
        if decision not in ("approve", "deny"):
            raise ValidationFailed([FieldError("decision", _("请选择作出何种决定。"), "required")])
        self.reasons(required=decision == "deny")

    def execute(self) -> None:
        self.decision = self.params["decision"]
        approved = self.decision == "approve"
        self.case.state = CaseState.APPROVED if approved else CaseState.DENIED
        self.case.outcome = Outcome.APPROVED if approved else Outcome.DENIED
        self.case.reasons = self.reasons(required=not approved)
        self.case.appeal_rights = "" if approved else APPEAL_RIGHTS
        self.case.decided_at = timezone.now()
        self.complete_task()
        elements = self.case.item_version.elements or {}
        outcome = decision_words.words_of_elements(elements).outcome(approved)
        services.add_event(self.case, "decided", outcome, actor=self.actor, note=self.case.reasons)
        services.notify_applicant(
            self.case,
            "decided",
            _("您的办件 %(n)s 已作出决定：%(d)s。") % {"n": self.case.number, "d": outcome},
        )
        # An item whose approval produces nothing (审批结果类型 "无") has no decision letter to
        # send when approved; a denial always has one (reasons and appeal rights, in writing).
        if not approved or elements.get("result_kind") != ResultKind.NONE:
            services.issue_notice_after_commit(self.case, NoticeKind.DECISION)
        # The exchange app's receiver applies the result: issue or revoke a certificate.
        case_decided.send(sender=Case, case=self.case, actor=self.actor)


class Transfer(CaseAction):
    """Hand the open staff task to a colleague holding the task's role in the same department."""

    name, label = "transfer", "转办"

    def check(self) -> None:
        if self.case.state not in ACTIVE_STATES | {CaseState.APPROVED, CaseState.DENIED}:
            raise DomainError(_("办件当前状态不能转办。"), code="state")
        self.task = wf_selectors.open_tasks(self.case).exclude(role="applicant").first()
        if self.task is None:
            raise DomainError(_("办件当前没有可转办的环节。"), code="no_task")
        self.check_actor_for_task()
        to = self.params.get("to")
        if to is None or to.pk == self.actor.pk:
            raise ValidationFailed([FieldError("to", _("请选择另一位同事。"), "required")])
        same_dept = StaffRole.objects.filter(
            user=to, role=self.task.role, department=self.case.department
        ).exists()
        if not same_dept:
            raise ValidationFailed([FieldError("to", _("所选人员不是本部门该环节的办理人员。"))])

    def execute(self) -> None:
        wf_services.assign(self.task, self.params["to"])
        services.add_event(
            self.case,
            "transferred",
            _("转办"),
            actor=self.actor,
            note=_actor(self.params["to"]),
            visible=False,
        )

    def audit_detail(self) -> dict[str, Any]:
        return {"task": self.task.spec_name, "to": self.params["to"].pk}


def _actor(user) -> str:
    return services.actor_label(user)


class Suspend(CaseAction):
    """中止: a legal reason stops the clock until resumed."""

    name, label = "suspend", "中止办理"
    roles = {Role.APPROVER, Role.DEPARTMENT_HEAD}
    from_states = {CaseState.ACCEPTED, CaseState.UNDER_REVIEW}

    def check_params(self) -> None:
        self.reasons()

    def execute(self) -> None:
        ClockPause.objects.create(
            case=self.case, kind=PauseKind.SUSPENSION, start=self.today(), reason=self.reasons()
        )
        self.case.state = CaseState.SUSPENDED
        recompute_due(self.case)
        services.add_event(self.case, "suspended", _("中止办理"), actor=self.actor, note=self.reasons())
        services.notify_applicant(
            self.case, "suspended", _("您的办件 %(n)s 已中止办理，期间不计时。") % {"n": self.case.number}
        )


class Resume(CaseAction):
    name, label = "resume", "恢复办理"
    roles = {Role.APPROVER, Role.DEPARTMENT_HEAD}
    from_states = {CaseState.SUSPENDED}

    def execute(self) -> None:
        ClockPause.objects.filter(case=self.case, kind=PauseKind.SUSPENSION, end__isnull=True).update(
            end=self.today()
        )
        recompute_due(self.case)
        self.case.state = CaseState.UNDER_REVIEW
        services.add_event(self.case, "resumed", _("恢复办理"), actor=self.actor)
        services.notify_applicant(
            self.case,
            "resumed",
            _("您的办件 %(n)s 已恢复办理，办理期限 %(d)s。")
            % {"n": self.case.number, "d": self.case.due_date},
        )


class Deliver(CaseAction):
    """送达 by the method chosen at submission (or another given by staff). Counter and
    electronic delivery complete at once; courier delivery books a shipment through the
    ``CourierAdapter`` and completes when the courier reports it delivered."""

    name, label, step, decision = "deliver", "送达", "deliver", "delivered"
    from_states = {CaseState.APPROVED, CaseState.DENIED}
    related = WITH_DELIVERY  # an earlier delivery (a courier's failed one is sent again)

    def check_params(self) -> None:
        method = self.params.get("method") or self.case.delivery_method
        if method not in DeliveryMethod.values:
            raise ValidationFailed([FieldError("method", _("请选择送达方式。"), "required")])
        self.earlier = getattr(self.case, "delivery", None)  # None: no row (read with the case)
        if self.earlier is not None and self.earlier.courier_status == CourierStatus.CREATED:
            raise DomainError(_("已寄出，等待快递签收。"), code="in_transit")
        self.method = method
        self.address = ""
        if method == DeliveryMethod.COURIER:  # only a courier needs the (encrypted) address
            self.address = (
                self.params.get("address")
                or services.delivery_address_of(self.case.application)
                or (services.delivery_address_of(self.earlier) if self.earlier else "")
            ).strip()
            if not self.address:
                raise ValidationFailed([FieldError("address", _("请填写收件地址。"), "required")])

    def execute(self) -> None:
        # A failed courier delivery is sent again on the same record.
        delivery = self.earlier or Delivery(case=self.case)
        delivery.method, delivery.recorded_by = self.method, self.actor
        if self.method == DeliveryMethod.COURIER:
            shipment = courier().create_shipment(
                case_number=self.case.number, address=self.address, recipient=self.case.applicant_name
            )
            delivery.address_cipher = encrypt(self.address, context=services.ADDRESS_CONTEXT)
            delivery.address_masked = self.address[:6] + "****"
            delivery.carrier, delivery.tracking_number = shipment.carrier, shipment.tracking_number
            delivery.courier_status = CourierStatus.CREATED
            delivery.save()
            services.add_event(
                self.case,
                "shipped",
                _("已寄出"),
                actor=self.actor,
                note=f"{shipment.carrier} {shipment.tracking_number}",
            )
            services.notify_applicant(
                self.case,
                "shipped",
                _("您的办件 %(n)s 结果已寄出，运单号 %(t)s。")
                % {"n": self.case.number, "t": shipment.tracking_number},
            )
            return
        delivery.delivered_at = timezone.now()
        delivery.save()
        mark_delivered(self, delivery)


def mark_delivered(action: CaseAction, delivery: Delivery) -> None:
    case = action.case
    case.state = CaseState.DELIVERED
    case.delivered_at = delivery.delivered_at
    action.complete_task("delivered")
    services.add_event(
        case, "delivered", _("已送达（%(m)s）") % {"m": delivery.get_method_display()}, actor=action.actor
    )
    services.notify_applicant(case, "delivered", _("您的办件 %(n)s 结果已送达。") % {"n": case.number})
    case_delivered.send(sender=Case, case=case, actor=action.actor)


class RecordCourierStatus(CaseAction):
    """A courier status recorded by staff (or polled from the adapter): delivered completes."""

    name, label, step, decision = "courier_status", "登记物流状态", "deliver", "delivered"
    from_states = {CaseState.APPROVED, CaseState.DENIED}
    related = WITH_DELIVERY

    def check_params(self) -> None:
        if not hasattr(self.case, "delivery") or self.case.delivery.method != DeliveryMethod.COURIER:
            raise DomainError(_("该办件没有邮寄记录。"))
        status = self.params.get("status") or courier().status(self.case.delivery.tracking_number)
        if status not in CourierStatus.values or not status:
            raise ValidationFailed([FieldError("status", _("请选择物流状态。"), "required")])
        self.status = status

    def execute(self) -> None:
        delivery = self.case.delivery
        delivery.courier_status = self.status
        if self.status == CourierStatus.DELIVERED:
            delivery.delivered_at = timezone.now()
            delivery.save()
            mark_delivered(self, delivery)
        else:
            delivery.save()
            services.add_event(self.case, "courier", delivery.get_courier_status_display(), actor=self.actor)


class Close(CaseAction):
    name, label = "close", "办结"
    roles = {Role.COUNTER_CLERK, Role.APPROVER, Role.DEPARTMENT_HEAD}
    from_states = {CaseState.DELIVERED}

    def check_params(self) -> None:
        if not wf_selectors.is_finished(self.case):
            raise DomainError(_("流程尚未结束，不能办结。"), code="not_finished")

    def execute(self) -> None:
        self.case.state = CaseState.CLOSED
        self.case.closed_at = timezone.now()
        services.add_event(self.case, "closed", _("已办结"), actor=self.actor)
        services.notify_applicant(self.case, "closed", _("您的办件 %(n)s 已办结。") % {"n": self.case.number})
        case_closed.send(sender=Case, case=self.case, actor=self.actor)


ACTIONS: dict[str, type[CaseAction]] = {
    cls.name: cls
    for cls in (
        Accept,
        RefuseToAccept,
        RequestCorrection,
        MarkMaterial,
        ApplicantCorrects,
        Review,
        FinishInspection,
        SecondReview,
        Decide,
        Transfer,
        Suspend,
        Resume,
        Deliver,
        RecordCourierStatus,
        Close,
    )
}
