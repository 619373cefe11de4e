"""Applicant pages for online applications (全程网办): apply, my cases, public progress lookup.

Plain server-rendered forms; the JSON Schema form carries its rules as HTML attributes so the
browser refuses what the server would, and every rule is checked again by the cases services.
The step views (form, materials, delivery, review) also serve the counter clerk's entry in the
workbench: ``staff=True`` switches the base template and the URL names (``workbench:``). What
these pages share with the bundle pages (``views_bundles``) is in ``applicant_pages``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases import providers
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.actions import ApplicantCorrects
from yiwang.cases.models import Application, Case, CaseMaterial, Notice
from yiwang.catalog import selectors as catalog_selectors
from yiwang.core.errors import DomainError
from yiwang.identity import account_selectors
from yiwang.identity.stepup import required_acr_for_item, stepup_url
from yiwang.supervision import rating_selectors
from yiwang.supervision.models import RatingStage

from . import applicant_pages as ap

INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg"}
NS = "portal:apply_"
COUNTER_NS = "workbench:counter_"


# --- apply: start ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply_start(request: HttpRequest, code: str) -> HttpResponse:
    """Who applies (self or a company the person may act for); then a new draft."""
    level = required_acr_for_item(code)
    url = stepup_url(request, level)
    if url is not None:
        messages.info(request, _("此事项要求更高的认证等级，请先完成下一步认证。"))
        return HttpResponseRedirect(url)
    item = catalog_selectors.published_item(code)
    if item is None:
        raise Http404
    person = account_selectors.person_of(request.user)
    companies = ap.actable_companies(person, item)
    error = ""
    if request.method == "POST":
        acting_for, error = ap.acting_for_choice(request, companies)
        if not error:
            try:
                app = case_services.start_application(
                    request.user, item, acting_for=acting_for, idempotency_key=ap.idempotency_key_of(request)
                )
            except DomainError as exc:
                error = "；".join(exc.messages)
            else:
                return HttpResponseRedirect(STEPS.url(False, "form", app))
    return render(
        request,
        "portal/cases/apply_start.html",
        STEPS.context(
            False,
            item=item,
            version=item.current_version,
            person=person,
            companies=companies,
            default_choice=ap.default_applicant(request, companies, item),
            error=error,
            idempotency_key=uuid.uuid4().hex,
        ),
    )


# --- apply: the steps (shared with the counter entry) ---------------------------------------------


def _material_rows(app: Application, errors: dict[str, str]) -> list[dict[str, Any]]:
    have = case_services.current_materials(app)
    rows = []
    for i, req in enumerate(case_services.required_materials(app)):
        rows.append(
            {
                "index": i,
                "req": req,
                "name": req["name"],
                "required": req.get("requirement", "required") == "required",
                "provided": have.get(req["name"], []),
                "reusable": providers.reusable(req, user=app.applicant, company=app.acting_for),
                "error": errors.get(req["name"]) or errors.get(f"material:{req['name']}", ""),
            }
        )
    return rows


STEPS = ap.ApplicationSteps(
    ns=NS,
    counter_ns=COUNTER_NS,
    templates={
        "form": "portal/cases/apply_form.html",
        "materials": "portal/cases/apply_materials.html",
        "delivery": "portal/cases/apply_delivery.html",
        "review": "portal/cases/apply_review.html",
    },
    draft=lambda user, application_id: (ap.draft_for(user, application_id), None),
    missing_materials=case_services.missing_materials,
    material_rows=_material_rows,
    submit=lambda app, user, key: case_services.submit_by_key(key, user=user),
)

# The workbench's counter entry wraps these with staff=True.
form_step = STEPS.form_step
materials_step = STEPS.materials_step
delivery_step = STEPS.delivery_step
review_step = STEPS.review_step

apply_form, apply_materials, apply_delivery, apply_review = STEPS.applicant_views()


# --- my cases -------------------------------------------------------------------------------------


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    return ap.my_cases_page(
        request, lambda company_id: case_selectors.cases_of(request.user, company_id=company_id)
    )


@login_required
def case_receipt(request: HttpRequest, number: str) -> HttpResponse:
    case = ap.viewable_case(request.user, number)
    receipt = case.notices.filter(kind="receipt").first()
    rating_link = request.build_absolute_uri(rating_selectors.rating_url(case, RatingStage.FINISHED))
    context = STEPS.context(
        False,
        case=case,
        receipt=receipt,
        rating_qr=rating_selectors.qr_data_uri(rating_link),
        rating_link=rating_link,
    )
    return render(request, "portal/cases/receipt.html", context)


def _applicant_corrects(case: Case, user, data: dict[str, str]) -> None:
    ApplicantCorrects(case, user, data=data).run()


@login_required
@require_http_methods(["GET", "POST"])
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    return ap.my_case_page(
        request,
        ap.viewable_case(request.user, number),
        template="portal/cases/my_case.html",
        ns=NS,
        correct=_applicant_corrects,
        corrected_message=_("补正已提交，办件回到受理环节。"),
        extra=lambda detail: {"ratings": rating_selectors.case_ratings(request.user, detail.case)},
    )


def _file_response(f, content_type: str, filename: str) -> FileResponse:
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        f.open("rb"),
        content_type=content_type or "application/octet-stream",
        as_attachment=not inline,
        filename=filename,
    )
    if inline:
        response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline")
    response["X-Content-Type-Options"] = "nosniff"
    # The workbench shows materials in an iframe of its own pages; nobody else may frame them.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "private, no-store"
    return response


def material_response(material: CaseMaterial) -> FileResponse:
    if not material.file:
        raise Http404
    return _file_response(material.file, material.content_type, material.original_name or material.file.name)


def notice_response(notice: Notice) -> FileResponse:
    return _file_response(notice.file, "application/pdf", f"{notice.number}.pdf")


@login_required
def my_case_material(request: HttpRequest, number: str, material_id: int) -> HttpResponse:
    case = ap.viewable_case(request.user, number)
    return material_response(get_object_or_404(CaseMaterial, pk=material_id, case=case))


@login_required
def my_case_notice(request: HttpRequest, number: str, notice_id: int) -> HttpResponse:
    case = ap.viewable_case(request.user, number)
    return notice_response(get_object_or_404(Notice, pk=notice_id, case=case))


# --- public lookup ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
def lookup(request: HttpRequest) -> HttpResponse:
    return ap.lookup_page(request, template="portal/cases/lookup.html", ns=NS)


@require_http_methods(["GET", "POST"])
def verify_notice(request: HttpRequest, number: str = "") -> HttpResponse:
    """/verify/<notice number>/?code=<check code>: what a notice's QR code opens. Says whether a
    notice of that number was issued for a case with that check code and shows its record (the
    applicant's name masked); a PDF posted with it is compared with the stored file's SHA-256."""
    return ap.verify_page(request, number or request.GET.get("number", ""), ns=NS)
