"""Ratings (好差评) on the workbench: /workbench/ratings/. The follow-ups (整改) and latest
ratings on the cases of the reader's scope; a follow-up's page where the department records the
call back and the rectification report; the supervisors' ranking of departments and regions by
bad-rating rate; the counter screen showing the rating QR code of the case just handled. The
rules are checked by ``supervision.ratings``; a refusal shows the form again with the message
next to the field."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.core.errors import DomainError, NotPermitted
from yiwang.identity.models import Role, StaffRole
from yiwang.supervision import rating_selectors, ratings
from yiwang.supervision.models import FollowUpStatus, RatingStage
from yiwang.supervision.orders import scope_q as supervisor_scope_q

from . import selectors
from .views import role_required

RATING_ROLES = (Role.SUPERVISOR, *selectors.WORK_ROLES)


def may_see_ratings(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or any(r.role in (*RATING_ROLES, Role.PLATFORM_ADMIN) for r in roles))
    )


def may_rank(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or any(r.role in (Role.SUPERVISOR, Role.PLATFORM_ADMIN) for r in roles))
    )


def may_use_counter(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or any(r.role == Role.COUNTER_CLERK for r in roles))
    )


def _scope(request: HttpRequest) -> Q:
    roles = request.work_roles  # type: ignore[attr-defined]  # set by role_required
    return selectors.case_scope_q(request.user, roles, RATING_ROLES)


@role_required(may_see_ratings)
def ratings_page(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    return render(
        request,
        "workbench/ratings.html",
        {
            "follow_ups": rating_selectors.follow_ups(scope),
            "recent": rating_selectors.recent_ratings(scope),
            "today": timezone.localdate(),
            "may_rank": may_rank(request.work_roles, request.user),  # type: ignore[attr-defined]
        },
    )


def _parse_when(value: str) -> dt.datetime | None:
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive


@role_required(may_see_ratings)
@require_http_methods(["GET", "POST"])
def follow_up_page(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """A follow-up; a POST records the call (``what=call``: when, note) or the report."""
    f = rating_selectors.follow_up_in_scope(_scope(request), follow_up_id)
    if f is None:
        raise Http404
    errors: dict[str, str] = {}
    values = {
        k: request.POST.get(k, "")[: ratings.NOTE_MAX + 1] for k in ("called_at", "call_note", "report")
    }
    status = 200
    if request.method == "POST":
        what = request.POST.get("what")
        try:
            if what == "call":
                when = _parse_when(values["called_at"]) if values["called_at"] else timezone.now()
                if when is None:
                    errors["called_at"] = _("请按“年-月-日 时:分”填写回访时间。")
                else:
                    ratings.record_call(request.user, f.pk, note=values["call_note"], called_at=when)
                    return redirect("workbench:rating_follow_up", f.pk)
            elif what == "report":
                ratings.report(request.user, f.pk, text=values["report"])
                return redirect("workbench:rating_follow_up", f.pk)
        except DomainError as exc:
            for e in exc.errors:
                errors.setdefault(e.field or ("call_note" if what == "call" else "report"), e.message)
            status = 403 if isinstance(exc, NotPermitted) else 400
        if errors and status == 200:
            status = 400
        f = rating_selectors.follow_up_in_scope(_scope(request), follow_up_id) or f
    return render(
        request,
        "workbench/rating_follow_up.html",
        {
            "f": f,
            "errors": errors,
            "values": values,
            "may_act": ratings.may_follow_up(request.user, f),
            "open": f.status == FollowUpStatus.OPEN,
            "called": f.status == FollowUpStatus.CALLED,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
        status=status,
    )


@role_required(may_rank)
def ranking_page(request: HttpRequest) -> HttpResponse:
    roles = request.work_roles  # type: ignore[attr-defined]  # set by role_required
    # A platform administrator watches the whole province; a supervisor their role's scope.
    everywhere = any(r.role == Role.PLATFORM_ADMIN for r in roles)
    departments, regions = rating_selectors.ranking(
        Q() if everywhere else supervisor_scope_q(request.user, "department__")
    )
    return render(request, "workbench/rating_ranking.html", {"departments": departments, "regions": regions})


@role_required(may_use_counter)
def counter_screen(request: HttpRequest) -> HttpResponse:
    """The screen facing the applicant at the counter: the rating QR code of the case this clerk
    just handled (or the one named by ``?case=``), at its latest unrated stage."""
    case = rating_selectors.counter_case(request.user, request.GET.get("case", "").strip())
    stage = rating_selectors.counter_stage(case) if case is not None else None
    link = qr = ""
    if case is not None and stage is not None:
        link = request.build_absolute_uri(rating_selectors.rating_url(case, stage))
        qr = rating_selectors.qr_data_uri(link)
    return render(
        request,
        "workbench/rating_counter.html",
        {"case": case, "stage_label": RatingStage(stage).label if stage else "", "qr": qr, "link": link},
    )
