"""The applicant's rating pages (好差评): the rating form of a case's stage, the one re-rating
after a follow-up, and the signed link a QR code on a receipt or a counter screen opens. The
rules are checked by ``supervision.ratings``; a refusal shows the form again with the message
next to the field at fault."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases.models import Case
from yiwang.core.errors import DomainError, NotPermitted
from yiwang.supervision import rating_selectors, ratings
from yiwang.supervision.models import RatingStage, Score

from . import applicant_pages as ap


def _posted(request: HttpRequest, stage: str) -> dict[str, Any]:
    keys = ["score", *(k for k, _l in rating_selectors.indicators_of(stage))]
    return {
        "score": request.POST.get("score", ""),
        "indicators": {k: request.POST.get(k, "") for k in keys[1:]},
        "comment": request.POST.get("comment", "")[: ratings.COMMENT_MAX + 1],
        "publish_comment": request.POST.get("publish_comment") == "1",
    }


def _form(
    request: HttpRequest,
    case: Case,
    stage: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    rerating: Any = None,
    status: int = 200,
) -> HttpResponse:
    values = values or {"score": "", "indicators": {}, "comment": "", "publish_comment": False}
    errors = errors or {}
    questions = [("score", _("整体满意度"), str(values["score"]))] + [
        (k, str(label), str(values["indicators"].get(k, "")))
        for k, label in rating_selectors.indicators_of(stage)
    ]
    context = {
        "case": case,
        "stage": stage,
        "stage_label": RatingStage(stage).label,
        "levels": [(v, label, "★" * v + "☆" * (5 - v)) for v, label in Score.choices],
        "questions": [
            {"key": k, "label": lbl, "value": val, "error": errors.get(k, "")} for k, lbl, val in questions
        ],
        "values": values,
        "errors": errors,
        "general": general or [],
        "rerating": rerating,
    }
    return render(request, "portal/ratings/rate.html", context, status=status)


def _refused(
    request: HttpRequest, case: Case, stage: str, exc: DomainError, values: dict, **kw: Any
) -> HttpResponse:
    fe, general = ap.errors_by_field(exc)
    status = 403 if isinstance(exc, NotPermitted) else 400
    return _form(request, case, stage, values=values, errors=fe, general=general, status=status, **kw)


@login_required
@require_http_methods(["GET", "POST"])
def rate_case(request: HttpRequest, number: str, stage: str) -> HttpResponse:
    case = ap.viewable_case(request.user, number)
    if stage not in RatingStage.values or not ratings.is_rater(request.user, case):
        raise Http404  # only the applicant rates; to anyone else the form does not exist
    if request.method == "GET":
        if stage not in rating_selectors.case_ratings(request.user, case).rateable:
            return _form(request, case, stage, general=[_("本环节暂不能评价：该环节办理后可评价一次。")])
        return _form(request, case, stage)
    values = _posted(request, stage)
    try:
        ratings.rate(request.user, case, stage=stage, **values)
    except DomainError as exc:
        return _refused(request, case, stage, exc, values)
    messages.success(request, _("感谢您的评价！"))
    return redirect("portal:my_case", case.number)


@login_required
@require_http_methods(["GET", "POST"])
def rerate_case(request: HttpRequest, number: str, rating_id: int) -> HttpResponse:
    case = ap.viewable_case(request.user, number)
    original = rating_selectors.rating_for_rerate(request.user, case, rating_id)
    if original is None:
        raise Http404
    if request.method == "GET":
        return _form(request, case, original.stage, rerating=original)
    values = _posted(request, original.stage)
    try:
        ratings.rerate(request.user, original.pk, **values)
    except DomainError as exc:
        return _refused(request, case, original.stage, exc, values, rerating=original)
    messages.success(request, _("感谢您的追评！"))
    return redirect("portal:my_case", case.number)


@login_required
def rate_link(request: HttpRequest, token: str) -> HttpResponse:
    """A QR code's signed link: to the rating form once the reader is signed in (the form
    itself admits the case's applicant only)."""
    found = rating_selectors.unsign(token)
    if found is None:
        raise Http404
    number, stage = found
    return redirect("portal:rate_case", number, stage)
