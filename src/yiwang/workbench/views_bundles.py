"""Workbench pages and actions for bundles (一件事): the umbrella and branch panels on the
ordinary case page, the unified decision, a branch's correction request (merged into the
umbrella's one combined request), a branch's decision document seen from the umbrella, and the
supervisors' list of bundle cases with the branch holding each up.

Branch staff work their branch from their normal inbox and case page: a branch case is an
ordinary case of their department. The writes are ``bundles.services`` / ``bundles.actions``,
which check the actor again; the views only keep people out of what is not in their scope.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.bundles import page_selectors
from yiwang.bundles import selectors as bundle_selectors
from yiwang.bundles import services as bundle_services
from yiwang.bundles.actions import BranchRequestCorrection
from yiwang.bundles.models import Bundle
from yiwang.cases.models import Notice
from yiwang.core.errors import DomainError
from yiwang.identity.models import Role, StaffRole
from yiwang.portal import views_bundles, views_cases

from . import selectors, views


@views.staff_required
@require_POST
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    """统一决定: the lead department head decides the umbrella; the outcome rule gives the
    result from the branches' decisions (``bundles.services.decide_bundle``)."""
    case = selectors.visible_case(request.user, request.work_roles, case_id)
    if not bundle_selectors.is_umbrella(case):
        raise Http404
    try:
        bundle_services.decide_bundle(case, actor=request.user, reasons=request.POST.get("reasons", ""))
    except DomainError as exc:
        return views.refused(request, case, "bundle_decide", exc)
    messages.success(request, _("已作出统一决定：%(n)s") % {"n": case.number})
    return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))


@views.staff_required
@require_POST
def branch_correction(request: HttpRequest, case_id: int) -> HttpResponse:
    """A branch's correction request: merged into the umbrella's one combined request."""
    case = selectors.visible_case(request.user, request.work_roles, case_id)
    if bundle_selectors.branch_of(case) is None:
        raise Http404
    try:
        BranchRequestCorrection(case, request.user, items=views.correction_items(request, case, "b")).run()
    except DomainError as exc:
        return views.refused(request, case, "bundle_correction", exc)
    messages.success(request, _("补正要求已并入一件事的合并告知：%(n)s") % {"n": case.number})
    return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))


@views.staff_required
def branch_notice(request: HttpRequest, case_id: int, branch_case_id: int, notice_id: int) -> HttpResponse:
    """A branch's decision document, opened from the umbrella by its lead department: the
    umbrella must be in the reader's scope and the branch must be one of its branches."""
    umbrella = selectors.visible_case(request.user, request.work_roles, case_id)
    rows = bundle_selectors.branches_for_staff(request.user, umbrella)
    row = next((r for r in rows if r.branch.branch_id == branch_case_id), None)
    if row is None:
        raise Http404
    notice = Notice.objects.filter(pk=notice_id, case_id=branch_case_id).first()
    if notice is None:
        raise Http404
    return views_cases.notice_response(notice)


def _oversees(roles: list[StaffRole], user: Any) -> bool:
    """Supervisors and the working roles (a department head watches their own bundles)."""
    return selectors.is_staff_member(roles, user) or any(r.role == Role.SUPERVISOR for r in roles)


overseer_required = views.role_required(_oversees)


@overseer_required
def held_up(request: HttpRequest) -> HttpResponse:
    """The bundle cases of the reader's inbox (umbrellas and branches with an open task of theirs:
    ``bundle_selectors.inbox_bundle_cases``, the inbox's own rule); for supervisors, also the
    open bundle cases of their scope, the one held up longest first, with the branch holding each
    up."""
    roles = selectors.work_roles(request.user)  # as the decorator read them (cached)
    mine = bundle_selectors.inbox_bundle_cases(cast(User, request.user), roles)
    supervises = any(r.role == Role.SUPERVISOR for r in roles)
    rows = bundle_selectors.held_up_bundles(request.user) if supervises else []
    return render(
        request, "bundles/workbench/held_up.html", {"mine": mine, "rows": rows, "supervises": supervises}
    )


# --- counter entry of a bundle (窗口代录：一件事) -------------------------------------------------


@views.staff_required
@require_http_methods(["GET", "POST"])
def counter_start(request: HttpRequest) -> HttpResponse:
    """/workbench/counter/: a bundle's item code leads to the bundle's questionnaire at the
    counter (its form depends on the answers); every other item to the ordinary counter entry."""
    code = request.POST.get("item", "").strip() if request.method == "POST" else ""
    bundle = page_selectors.bundle_of_item_code(code) if code else None
    if bundle is None:
        return views.counter_start(request)
    return _counter_questionnaire(request, bundle, start=False)


@views.staff_required
@require_http_methods(["GET", "POST"])
def counter_bundle(request: HttpRequest, code: str) -> HttpResponse:
    bundle = page_selectors.bundle_by_code(code)
    if bundle is None:
        raise Http404
    return _counter_questionnaire(request, bundle, start=request.method == "POST")


def _counter_questionnaire(request: HttpRequest, bundle: Bundle, *, start: bool) -> HttpResponse:
    """The person at the counter (by ID number), the questionnaire's answers, then the umbrella
    draft owned by that person (channel counter, entered by the clerk)."""
    errors: dict[str, str] = {}
    id_number = request.POST.get("id_number", "").strip()
    answers, missing = page_selectors.parse_answers(bundle, request.POST)
    if start:
        person = views.counter_person(id_number, errors)
        for q in missing:
            errors[q.key] = _("请选择一项。")
        if not errors:
            try:
                app = bundle_services.start_bundle_application(
                    person.user,
                    bundle,
                    answers,
                    channel="counter",
                    entered_by=request.user,
                    idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                )
            except DomainError as exc:
                errors["general"] = "；".join(exc.messages)
            else:
                return HttpResponseRedirect(reverse("workbench:bundle_counter_form", args=[app.pk]))
    return render(
        request,
        "bundles/workbench/counter_start.html",
        {
            "bundle": bundle,
            "g": page_selectors.bundle_guide(bundle, answers if not missing else None),
            "answers": answers,
            "id_number": id_number,
            "errors": errors,
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
        status=400 if errors else 200,
    )


counter_form = views.counter_step(views_bundles.form_step)
counter_materials = views.counter_step(views_bundles.materials_step)
counter_delivery = views.counter_step(views_bundles.delivery_step)
counter_review = views.counter_step(views_bundles.review_step)
