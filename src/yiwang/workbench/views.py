"""Workbench pages for staff: inbox, case page with the open task's actions, counter entry.

Views stay thin: permissions are checked again by the cases action classes (role, department,
region of the open task); the views only refuse what is outside the staff member's scope (404)
and turn the actions' Chinese errors into messages next to the field.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.actions import ACTIONS
from yiwang.cases.formschema import ordered_keys
from yiwang.cases.models import Case, CaseMaterial, CaseState, CourierStatus, DeliveryMethod, Notice
from yiwang.catalog import decision_words
from yiwang.core.crypto import mask_text
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.links import url_with_last
from yiwang.core.params import int_param
from yiwang.exchange import services as exchange_services
from yiwang.identity.models import Person, StaffRole
from yiwang.portal import views_cases
from yiwang.supervision import order_selectors
from yiwang.supervision import selectors as supervision_selectors
from yiwang.supervision import services as supervision_services
from yiwang.supervision.models import Level
from yiwang.workflow import selectors as wf_selectors

from . import selectors

User = get_user_model()
FORMS_OF_STEP = {
    "accept": ("accept", "request_correction", "refuse", "mark_material"),
    "review": ("review",),
    "inspection": ("inspection_done",),
    "second_review": ("second_review",),
    "decide": ("decide",),
    "deliver": ("deliver", "courier_status"),
}


View = Callable[..., HttpResponse]


def role_required(allowed: Callable[[list[StaffRole], Any], bool]) -> Callable[[View], View]:
    """A view for those logged in whose working roles ``allowed(roles, user)`` admits; the roles
    are loaded once per request and handed to the view (``request.work_roles``)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            roles = selectors.work_roles(request.user)
            if not allowed(roles, request.user):
                return render(
                    request, "workbench/forbidden.html", {"pages": selectors.pages_for(roles)}, status=403
                )
            request.work_roles = roles
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Logged in with a working role (counter clerk, approver, department head).
staff_required = role_required(selectors.is_staff_member)


def _masked(value: Any) -> Any:
    """Form values as staff see them: ID and mobile numbers masked (PIPL; the full value stays
    in the application for the services that need it)."""
    return mask_text(value) if isinstance(value, str) else value


# --- inbox ----------------------------------------------------------------------------------------


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox, one page at a time: ``cursor`` is the opaque keyset link of the previous page
    (a bad one shows page 1 with a message, never an error page)."""
    step = request.GET.get("step", "")
    state = request.GET.get("state", "")
    page = selectors.inbox_page(
        request.user,
        step=step if step in dict(selectors.STEPS) else "",
        item=request.GET.get("item", "")[:40],
        state=state if state in ("overdue", "due_soon") else "",
        order=request.GET.get("order", "due"),
        cursor=request.GET.get("cursor", "")[:400],
        roles=request.work_roles,
    )
    # The supervision's yellow and red marks, one query for the page's rows.
    levels = supervision_selectors.warned_levels([r.task.case_id for r in page.rows])
    labels = dict(Level.choices)
    for r in page.rows:
        if level := levels.get(r.task.case_id):
            r.warning, r.warning_label = level, str(labels[level])
    # A whole Jinja2 page (workbench/jinja2/workbench/inbox.html): twenty rows of ten values each
    # are most of its rendering, and Jinja2 renders them for a fraction of what Django's engine
    # takes. Django's context processors do not run for Jinja2: the page gets what it prints.
    context = {
        "p": page,
        "steps": selectors.STEPS,
        "orders": selectors.ORDERS,
        "query": urlencode(page.query),
        "messages": messages.get_messages(request),
        "warning_notices": supervision_selectors.unread_notices(request.user),
    }
    return render(request, "workbench/inbox.html", context, using="jinja2")


# --- warnings (supervision) -----------------------------------------------------------------------


@role_required(selectors.may_watch_warnings)
def warnings(request: HttpRequest) -> HttpResponse:
    """The yellow and red cases in the reader's scope (supervisor or department head)."""
    scope = selectors.warned_scope(request.user, request.work_roles)  # type: ignore[attr-defined]  # set by role_required
    return render(request, "workbench/warnings.html", {"rows": supervision_selectors.warned_cases(scope)})


@staff_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    """Mark the reader's unread warning notices read."""
    if request.user.pk is not None:
        supervision_services.mark_read(request.user.pk)
    return redirect("workbench:inbox")


# --- case page ------------------------------------------------------------------------------------


def render_case(
    request: HttpRequest, case: Case, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The case page of ``case`` as ``selectors.visible_case`` returned it (the caller has checked
    the scope), with the errors of a refused action. A plain page uses that case as read; after
    a refused action it is read again (the action may have changed the object before failing)."""
    detail = case_selectors.case_detail(case.pk, case=None if errors else case)
    case = detail.case
    # Tasks staff can work: not the applicant's, nor the system's waits (a bundle umbrella's
    # branch and combined-correction tasks, which no inbox shows).
    staff_tasks = [t for t in detail.open_tasks if t.role in wf_selectors.STAFF_ROLES_BY_STEP_ROLE]
    roles = request.work_roles
    workable = [t for t in staff_tasks if selectors.may_work(request.user, roles, t)]
    task = workable[0] if workable else None
    props = case.application.form_schema.get("properties", {})
    form_values = [
        {"key": k, "label": props[k].get("title") or k, "value": _masked(case.application.data.get(k, ""))}
        for k in ordered_keys(case.application.form_schema, case.application.form_layout)
    ]
    # The clerk's marks prefill the one-time correction (every faulty material, with its note).
    faulty = {m.requirement: m.note for m in detail.materials if m.status == "faulty"}
    materials_required = [
        {**m, "faulty": m["name"] in faulty, "note": faulty.get(m["name"], "")}
        for m in case.item_version.elements.get("materials") or []
    ]
    # The delivery row is shown only at the delivery step (one query fewer on the other pages).
    delivery = getattr(case, "delivery", None) if task and task.spec_name == "deliver" else None
    colleagues = selectors.colleagues_for(case, task, request.user)
    can_suspend = case.state in (CaseState.ACCEPTED, CaseState.UNDER_REVIEW)
    can_resume = case.state == CaseState.SUSPENDED
    can_close = case.state == CaseState.DELIVERED
    shown = set(FORMS_OF_STEP.get(task.spec_name, ())) if task else set()
    shown |= {
        n for n, on in (("transfer", colleagues), ("suspend", can_suspend), ("resume", can_resume)) if on
    }
    shown |= {"close"} if can_close else set()
    # An error of an action whose form is not on the page (e.g. a refused role) goes on top.
    top_errors = [m for k, m in (errors or {}).items() if "__" not in k and k not in shown]
    # The page's links, reversed once here rather than by a {% url %} per material, notice and
    # form.
    detail.set_links("workbench:material", "workbench:notice", case.pk)
    return render(
        request,
        "workbench/case.html",
        {
            "case": case,
            "d": detail,
            "task": task,
            "task_label": selectors.step_label(task) if task else "",
            "other_steps": [selectors.step_label(t) for t in staff_tasks if t not in workable],
            "form_values": form_values,
            "materials_required": materials_required,
            "colleagues": colleagues,
            "top_errors": top_errors,
            "errors": errors or {},
            "delivery": delivery,
            "delivery_methods": DeliveryMethod.choices,
            "courier_statuses": [c for c in CourierStatus.choices if c[0] and c[0] != "created"],
            "address": case_services.delivery_address_of(case.application),
            "can_suspend": can_suspend,
            "can_resume": can_resume,
            "can_close": can_close,
            "act": ActionUrls(case.pk),
            # The decision's two choices in the item type's words (准予许可, 予以确认, 办结, ...).
            "decide_words": decision_choices(case),
            "state_text": decision_words.state_label(
                case.item_version.elements, case.state, case.state_label
            ),
            # The case's warning level and flagged events (supervision).
            "panel": supervision_selectors.case_panel(case.pk),
            # The case's supervisory orders (督办), kept in supervision's table.
            "case_orders": order_selectors.case_orders(case.pk),
        },
        status=status,
    )


def decision_choices(case: Case) -> dict[str, str]:
    words = decision_words.words_of_elements(case.item_version.elements)
    return {"approve": decision_words.label(words.approve), "deny": decision_words.label(words.deny)}


def refused(request: HttpRequest, case: Case, name: str, exc: DomainError) -> HttpResponse:
    """The case page again with the refusal of the form ``name``: all its messages under
    ``name`` and, for a validation, each next to its field (``<name>__<field>``)."""
    errors = (
        {f"{name}__{e.field}": e.message for e in exc.errors if e.field}
        if isinstance(exc, ValidationFailed)
        else {}
    )
    errors[name] = "；".join(exc.messages)
    return render_case(request, case, errors=errors, status=400)


class ActionUrls:
    """``{{ act.accept }}``: the URL of the action form ``accept`` of one case, as
    ``{% url 'workbench:act' case.pk 'accept' %}`` gives it, from one reverse."""

    def __init__(self, case_id: int) -> None:
        self._url = url_with_last("workbench:act", case_id)

    def __getitem__(self, name: str) -> str:
        return self._url(name)


@staff_required
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.visible_case(
        request.user, request.work_roles, case_id, related=selectors.CASE_PAGE_RELATED
    )
    return render_case(request, case)


def correction_items(request: HttpRequest, case: Case, prefix: str = "c") -> list[dict[str, str]]:
    """The items of a correction request from its form: the ticked materials of the case's item
    (``<prefix>m_<i>``, reason ``<prefix>r_<i>``) and form fields (``<prefix>f_<key>``, reason
    ``<prefix>fr_<key>``). The case page's request and a bundle branch's share it."""
    post = request.POST
    items: list[dict[str, str]] = []
    for i, m in enumerate(case.item_version.elements.get("materials") or []):
        if post.get(f"{prefix}m_{i}"):
            items.append({"material": m["name"], "reason": post.get(f"{prefix}r_{i}", "")})
    for key in case.application.form_schema.get("properties", {}):
        if post.get(f"{prefix}f_{key}"):
            items.append({"field": key, "reason": post.get(f"{prefix}fr_{key}", "")})
    return items


def _params(name: str, request: HttpRequest, case: Case) -> dict[str, Any]:
    post = request.POST
    if name == "request_correction":
        return {"items": correction_items(request, case)}
    if name == "mark_material":
        mid = int_param(post.get("material"), 0)
        return {
            "material": CaseMaterial.objects.filter(pk=mid, case=case).first(),
            "status": post.get("status", ""),
            "note": post.get("note", ""),
        }
    if name == "transfer":
        to_id = int_param(post.get("to"), 0)
        return {"to": User.objects.filter(pk=to_id).first() if to_id else None}
    keys = ("decision", "reasons", "note", "method", "address", "status")
    return {k: post[k] for k in keys if k in post}


@staff_required
@require_POST
def act(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    action_class = ACTIONS.get(name)
    if action_class is None or name == "correct":  # the applicant's own step is not a staff action
        raise Http404
    case = selectors.visible_case(request.user, request.work_roles, case_id)
    action = action_class(case, request.user, **_params(name, request, case))
    try:
        action.run()
    except DomainError as exc:
        return refused(request, case, name, exc)
    messages.success(request, _("已%(a)s：%(n)s") % {"a": action_class.label, "n": case.number})
    return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))


@staff_required
def material(request: HttpRequest, case_id: int, material_id: int) -> HttpResponse:
    case = selectors.visible_case(request.user, request.work_roles, case_id)
    material = get_object_or_404(CaseMaterial, pk=material_id, case=case)
    # A certificate's copy opened by staff shows in the holder's 用证记录 (exchange app).
    exchange_services.record_copy_read(material, user=request.user)
    return views_cases.material_response(material)


@staff_required
def notice(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    case = selectors.visible_case(request.user, request.work_roles, case_id)
    return views_cases.notice_response(get_object_or_404(Notice, pk=notice_id, case=case))


# --- counter entry --------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def counter_start(request: HttpRequest) -> HttpResponse:
    """A counter clerk enters an application for the person at the counter (channel "counter"):
    the person is found by the keyed hash of their ID number, the draft is theirs."""
    errors: dict[str, str] = {}
    id_number = request.POST.get("id_number", "").strip()
    code = request.POST.get("item", "").strip() or request.GET.get("item", "")
    person = None
    if request.method == "POST":
        person = counter_person(id_number, errors)
        item = selectors.counter_item(code)
        if item is None:
            errors["item"] = _("没有找到该事项编码的已发布事项。")
        if not errors:
            try:
                app = case_services.start_application(
                    person.user,
                    item,
                    channel="counter",
                    entered_by=request.user,
                    idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                )
            except DomainError as exc:
                errors["item"] = "；".join(exc.messages)
            else:
                return HttpResponseRedirect(reverse("workbench:counter_form", args=[app.pk]))
    return render(
        request,
        "workbench/counter.html",
        {"errors": errors, "item": code, "idempotency_key": uuid.uuid4().hex},
        status=400 if errors else 200,
    )


def counter_person(id_number: str, errors: dict[str, str]) -> Person | None:
    """The registered person at the counter, by ID number; else an error on ``id_number``."""
    person = selectors.person_by_id_number(id_number)
    if person is None:
        errors["id_number"] = _("没有找到该身份证号的注册用户，请先为其注册账户。")
    return person


def counter_step(step: View) -> View:
    """A step of the applicant's form pages, entered by a clerk at the counter."""

    @staff_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, application_id: int) -> HttpResponse:
        return step(request, application_id, staff=True)

    return view


counter_form = counter_step(views_cases.form_step)
counter_materials = counter_step(views_cases.materials_step)
counter_delivery = counter_step(views_cases.delivery_step)
counter_review = counter_step(views_cases.review_step)
