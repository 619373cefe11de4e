"""Applicant pages for bundles (一件事一次办, 多评合一, 单一窗口): the bundle guide, the 智能导办
questionnaire, the combined application (form, shared materials, delivery, review), the bundle
case with every department's progress and the one combined correction, and the public lookup
with the bundle's branches.

Everything works without JavaScript: the questionnaire is a GET form whose answers come back in
the URL, so the result (which items apply) is a plain page that can be bookmarked. The writes go
through ``bundles.services`` and ``cases.services``; the pages only shape what they read from
``bundles.page_selectors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.bundles import page_selectors as pages
from yiwang.bundles import selectors as bundle_selectors
from yiwang.bundles import services as bundle_services
from yiwang.cases import providers
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.models import Application, Case, CaseState
from yiwang.catalog import selectors as catalog_selectors
from yiwang.core.errors import DomainError
from yiwang.identity import account_selectors

from . import applicant_pages as ap
from . import bundle_region, views_cases

NS = "portal:bundle_"
COUNTER_NS = "workbench:bundle_counter_"


def _ctx(**extra: Any) -> dict[str, Any]:
    return ap.page_context(False, NS, **extra)


def _published(code: str):
    bundle = pages.bundle_by_code(code)
    if bundle is None:
        raise Http404(_("没有这个“一件事”，或它尚未发布。"))
    return bundle


# --- guide, questionnaire -------------------------------------------------------------------------


@require_http_methods(["GET"])
def bundle_list(request: HttpRequest) -> HttpResponse:
    """The bundles of the reader's region (``bundle_region``), grouped by kind; with no region
    yet, the prefectures to choose from. ``?region=<code>`` chooses (remembered in the session),
    ``?region=`` (empty) forgets the choice; an unknown code is said next to the chooser."""
    error = ""
    if "region" in request.GET:
        code = request.GET.get("region", "").strip()[:12]
        region = catalog_selectors.region_by_code(code) if code else None
        if code and (region is None or region.parent_id is None):
            error = _("没有这个地区，请从下面的城市中选择。")
        else:
            bundle_region.remember(request, region)
            return HttpResponseRedirect(reverse("portal:bundle_list"))
    chosen = bundle_region.chosen_region(request)
    groups = pages.grouped_by_kind(pages.bundles_for_region(chosen)) if chosen is not None else []
    return render(
        request,
        "bundles/portal/list.html",
        _ctx(groups=groups, region=chosen, cities=pages.city_choices(), error=error),
        status=400 if error else 200,
    )


@require_http_methods(["GET"])
def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    bundle = _published(code)
    return render(request, "bundles/portal/guide.html", _ctx(bundle=bundle, g=pages.bundle_guide(bundle)))


@require_http_methods(["GET", "POST"])
def bundle_start(request: HttpRequest, code: str) -> HttpResponse:
    """智能导办: the questions (a GET form); once all are answered, which items apply and why,
    and the button that starts the combined application (POST, login required)."""
    bundle = _published(code)
    source = request.POST if request.method == "POST" else request.GET
    answers, missing = pages.parse_answers(bundle, source)
    asked = any(q.key in source for q in bundle.questions.all())
    error = ""
    person = account_selectors.person_of(request.user) if request.user.is_authenticated else None
    companies = ap.actable_companies(person, bundle.item)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if missing:
            error = _("请先回答全部问题。")
        else:
            acting_for, error = ap.acting_for_choice(request, companies)
            if not error:
                try:
                    app = bundle_services.start_bundle_application(
                        request.user,
                        bundle,
                        answers,
                        acting_for=acting_for,
                        idempotency_key=ap.idempotency_key_of(request),
                    )
                except DomainError as exc:
                    error = "；".join(exc.messages)
                else:
                    return HttpResponseRedirect(STEPS.url(False, "form", app))
    guide = pages.bundle_guide(bundle, answers if not missing else None)
    return render(
        request,
        "bundles/portal/start.html",
        _ctx(
            bundle=bundle,
            g=guide,
            answers=answers,
            missing={q.key for q in missing} if asked else set(),
            complete=not missing,
            applies=[r for r in guide.members if r.applies],
            skipped=[r for r in guide.members if r.applies is False],
            person=person,
            companies=companies,
            default_choice=ap.default_applicant(request, companies, bundle.item),
            error=error,
            idempotency_key=uuid.uuid4().hex,
        ),
        status=400 if error else 200,
    )


# --- the combined application ----------------------------------------------------------------------


def _draft(user, application_id: int) -> tuple[Application, Any]:
    app = ap.draft_for(user, application_id)
    link = pages.link_of(app)
    if link is None:
        raise Http404
    return app, link


def _material_rows(app: Application, errors: dict[str, str]) -> list[dict[str, Any]]:
    """A material several departments need is listed (and uploaded) once, with the
    departments it is shared with."""
    have = case_services.current_materials(app)
    rows = []
    for i, r in enumerate(pages.draft_materials(app)):
        rows.append(
            {
                "index": i,
                "name": r.name,
                "required": r.required,
                "element": r.element,
                "departments": r.departments,
                "shared": r.shared,
                "provided": have.get(r.name, []),
                "reusable": providers.reusable(r.element, user=app.applicant, company=app.acting_for),
                "error": errors.get(r.name) or errors.get(f"material:{r.name}", ""),
            }
        )
    return rows


def _unlisted(app: Application, requirement: str) -> bool:
    return requirement not in {r.name for r in pages.draft_materials(app)}


def _step_extra(app: Application, link: Any, step: str) -> dict[str, Any]:
    """The form and the review show the bundle and its applicable items; the materials page
    the bundle; the delivery page is the ordinary one."""
    if step in ("form", "review"):
        return {"bundle": link.bundle, "members": pages.draft_members(app)}
    if step == "materials":
        return {"bundle": link.bundle}
    return {}


STEPS = ap.ApplicationSteps(
    ns=NS,
    counter_ns=COUNTER_NS,
    templates={
        "form": "bundles/portal/apply_form.html",
        "materials": "bundles/portal/apply_materials.html",
        "delivery": "portal/cases/apply_delivery.html",
        "review": "bundles/portal/apply_review.html",
    },
    draft=_draft,
    missing_materials=bundle_services.missing_materials,
    material_rows=_material_rows,
    submit=lambda app, user, key: bundle_services.submit_bundle(app, user=user),
    unlisted_requirement=_unlisted,
    extra=_step_extra,
)

# The workbench's counter entry wraps these with staff=True.
form_step = STEPS.form_step
materials_step = STEPS.materials_step
delivery_step = STEPS.delivery_step
review_step = STEPS.review_step

bundle_form, bundle_materials, bundle_delivery, bundle_review = STEPS.applicant_views()


# --- wrappers in front of the ordinary case pages --------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply_start(request: HttpRequest, code: str) -> HttpResponse:
    """/apply/<code>/: a bundle's item goes through the questionnaire (its form depends on the
    answers); every other item is the ordinary start page."""
    bundle = pages.bundle_of_item_code(code)
    if bundle is not None:
        return HttpResponseRedirect(reverse("portal:bundle_start", args=[bundle.code]))
    return views_cases.apply_start(request, code)


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """/my/cases/: the ordinary list, with a bundle shown once (its umbrella case)."""
    return ap.my_cases_page(
        request, lambda company_id: pages.applicant_cases(request.user, company_id=company_id)
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    """/my/cases/<number>/: an umbrella case gets the bundle page (every department's progress,
    the one combined correction); a branch case leads to its umbrella; any other case the
    ordinary page."""
    case = case_selectors.viewable_case(request.user, number)
    if case is not None:
        branch = bundle_selectors.branch_of(case)
        if branch is not None:
            return HttpResponseRedirect(reverse("portal:my_case", args=[branch.umbrella.number]))
    if case is None or not bundle_selectors.is_umbrella(case):
        return views_cases.my_case(request, number)
    return _my_bundle_case(request, case)


def _correct_bundle(case: Case, user, data: dict[str, str]) -> None:
    bundle_services.correct_bundle(case, user=user, data=data)


def _my_bundle_case(request: HttpRequest, case: Case) -> HttpResponse:
    return ap.my_case_page(
        request,
        case,
        template="bundles/portal/my_case.html",
        ns=NS,
        correct=_correct_bundle,
        corrected_message=_("补正已提交，相关部门将继续办理。"),
        extra=lambda detail: {
            "o": bundle_selectors.bundle_overview(case),
            "results_out": case.state in RESULTS_OUT,
        },
    )


RESULTS_OUT = {CaseState.DELIVERED, CaseState.CLOSED}


@login_required
def my_branch_notice(request: HttpRequest, number: str, branch_case_id: int, notice_id: int) -> HttpResponse:
    """A department's decision document of my bundle case. Results go out together: the
    branches' documents are the applicant's once the umbrella is delivered."""
    case = ap.viewable_case(request.user, number)
    if not bundle_selectors.is_umbrella(case) or case.state not in RESULTS_OUT:
        raise Http404
    row = next(
        (r for r in bundle_selectors.bundle_overview(case).rows if r.branch.branch_id == branch_case_id), None
    )
    if row is None or row.decision_notice is None or row.decision_notice.pk != notice_id:
        raise Http404
    return views_cases.notice_response(row.decision_notice)


@require_http_methods(["GET"])
def lookup(request: HttpRequest) -> HttpResponse:
    """/cases/lookup/: the ordinary public lookup; for a bundle case also each department's
    item and state (nothing of the application)."""
    return ap.lookup_page(
        request,
        template="bundles/portal/lookup.html",
        ns=views_cases.NS,
        extra=lambda case: {"branches": pages.public_branches(case) if case else []},
    )
