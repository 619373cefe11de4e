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

from django.contrib import messages
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
from yiwang.cases import personal
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.formschema import SchemaForm, ordered_keys
from yiwang.cases.models import Application, Case, CaseState, DeliveryMethod
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.identity import account_selectors

from . import views_cases

NS = "portal:bundle_"
COUNTER_NS = "workbench:bundle_counter_"


def _ctx(staff: bool = False, **extra: Any) -> dict[str, Any]:
    """The step pages also serve the counter clerk's entry in the workbench (``staff``)."""
    base = "workbench/base.html" if staff else "portal/base.html"
    return {"base_template": base, "ns": COUNTER_NS if staff else NS, "staff": staff, **extra}


def _published(code: str):
    bundle = pages.bundle_by_code(code)
    if bundle is None:
        raise Http404(_("没有这个“一件事”，或它尚未发布。"))
    return bundle


# --- guide, questionnaire -------------------------------------------------------------------------


@require_http_methods(["GET"])
def bundle_list(request: HttpRequest) -> HttpResponse:
    region = request.COOKIES.get("yiwang_region", "")
    from yiwang.catalog import selectors as catalog_selectors

    chosen = catalog_selectors.user_region(region)
    bundles = list(pages.published_bundles_in(chosen.path if chosen else None)[:200])
    return render(request, "bundles/portal/list.html", _ctx(bundles=bundles, region=chosen))


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
    companies = views_cases._actable_companies(person, bundle.item) if person is not None else []
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if missing:
            error = _("请先回答全部问题。")
        else:
            acting_for = None
            choice = request.POST.get("acting_for", "self")
            if choice != "self":
                acting_for = next((c for c in companies if str(c.pk) == choice), None)
                if acting_for is None:
                    error = _("您不能代表所选单位办理此事项。")
            if not error:
                try:
                    app = bundle_services.start_bundle_application(
                        request.user,
                        bundle,
                        answers,
                        acting_for=acting_for,
                        idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                    )
                except DomainError as exc:
                    error = "；".join(exc.messages)
                else:
                    return HttpResponseRedirect(reverse(NS + "form", args=[app.pk]))
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
            error=error,
            idempotency_key=uuid.uuid4().hex,
        ),
        status=400 if error else 200,
    )


# --- the combined application ----------------------------------------------------------------------


def _draft(request: HttpRequest, application_id: int) -> tuple[Application, Any]:
    app = views_cases.draft_for(request.user, application_id)
    link = pages.link_of(app)
    if link is None:
        raise Http404
    return app, link


def _submitted(app: Application, staff: bool = False) -> HttpResponse | None:
    if app.submitted_at is None:
        return None
    case = case_selectors.case_of_application(app)
    if case is None:
        return None
    if staff:
        return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
    return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))


def _step(name: str, app: Application, staff: bool = False) -> str:
    return reverse((COUNTER_NS if staff else NS) + name, args=[app.pk])


def form_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    """1 the combined form: the union of the applicable items' fields, each asked once."""
    app, link = _draft(request, application_id)
    done = _submitted(app, staff)
    if done:
        return done
    if request.method == "POST":
        form = SchemaForm(request.POST, schema=app.form_schema, layout=app.form_layout)
        raw = {k: request.POST.get(k, "") for k in form.fields if k in request.POST}
        try:
            case_services.save_draft(app, user=request.user, data=raw)
        except DomainError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            if form.is_valid() and request.POST.get("go") == "next":
                return HttpResponseRedirect(_step("materials", app, staff))
            if request.POST.get("go") != "next":
                messages.success(request, _("草稿已保存。"))
                return HttpResponseRedirect(_step("form", app, staff))
    else:
        initial = personal.open_data(app, reader=request.user)  # the applicant's own values
        form = SchemaForm(schema=app.form_schema, layout=app.form_layout, initial=initial)
    return render(
        request,
        "bundles/portal/apply_form.html",
        _ctx(staff, app=app, form=form, step=1, bundle=link.bundle, members=pages.draft_members(app)),
    )


def _material_rows(app: Application, errors: dict[str, str]) -> list[dict[str, Any]]:
    have = case_services.current_materials(app)
    from yiwang.cases import providers

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
                "reusable": providers.reusable(r.element),
                "error": errors.get(r.name) or errors.get(f"material:{r.name}", ""),
            }
        )
    return rows


def materials_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    """2 the materials checklist: a material several departments need is listed (and uploaded)
    once, with the departments it is shared with."""
    app, link = _draft(request, application_id)
    done = _submitted(app, staff)
    if done:
        return done
    errors: dict[str, str] = {}
    if request.method == "POST":
        requirement = request.POST.get("requirement", "")
        try:
            if request.POST.get("go") == "next":
                missing = bundle_services.missing_materials(app)
                if not missing:
                    return HttpResponseRedirect(_step("delivery", app, staff))
                for name in missing:
                    errors[name] = _("请提供申请材料“%(n)s”。") % {"n": name}
            elif requirement not in {r.name for r in pages.draft_materials(app)}:
                errors[""] = _("该材料不在本次申请的材料清单内。")
            elif request.POST.get("use_source"):
                case_services.provide_from_source(app, requirement=requirement, user=request.user)
                messages.success(request, _("已从账户/共享库取得“%(n)s”。") % {"n": requirement})
                return HttpResponseRedirect(_step("materials", app, staff))
            else:
                uploaded = request.FILES.get("file")
                if uploaded is None:
                    errors[requirement] = _("请选择要上传的文件。")
                else:
                    case_services.upload_material(
                        app, requirement=requirement, uploaded=uploaded, user=request.user
                    )
                    messages.success(request, _("已上传“%(n)s”。") % {"n": requirement})
                    return HttpResponseRedirect(_step("materials", app, staff))
        except DomainError as exc:
            errors[requirement or ""] = "；".join(exc.messages)
    return render(
        request,
        "bundles/portal/apply_materials.html",
        _ctx(
            staff,
            app=app,
            bundle=link.bundle,
            rows=_material_rows(app, errors),
            step=2,
            general=errors.get(""),
        ),
        status=400 if errors else 200,
    )


def delivery_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    """3 one delivery for every result."""
    app, link = _draft(request, application_id)
    done = _submitted(app, staff)
    if done:
        return done
    errors: dict[str, str] = {}
    method = app.delivery_method
    address = case_services.delivery_address_of(app)
    if request.method == "POST":
        method = request.POST.get("delivery_method", "")
        address = request.POST.get("delivery_address", "").strip()
        if method not in DeliveryMethod.values:
            errors["delivery_method"] = _("请选择送达方式。")
        elif method == DeliveryMethod.COURIER and not address:
            errors["delivery_address"] = _("选择邮寄送达时请填写收件地址。")
        elif len(address) > 200:
            errors["delivery_address"] = _("地址最多 200 个字。")
        if not errors:
            try:
                case_services.save_draft(
                    app,
                    user=request.user,
                    data=app.data,
                    delivery_method=method,
                    delivery_address=address if method == DeliveryMethod.COURIER else "",
                )
            except DomainError as exc:
                errors.update(
                    views_cases._errors_by_field(exc)[0] or {"delivery_method": "；".join(exc.messages)}
                )
            else:
                return HttpResponseRedirect(_step("review", app, staff))
    return render(
        request,
        "portal/cases/apply_delivery.html",
        _ctx(
            staff,
            app=app,
            step=3,
            errors=errors,
            method=method,
            address=address,
            methods=DeliveryMethod.choices,
        ),
        status=400 if errors else 200,
    )


def review_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    """4 everything once more, then one submission (idempotent by the draft's key)."""
    app, link = _draft(request, application_id)
    done = _submitted(app, staff)
    if done:
        return done
    field_errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        if request.POST.get("idempotency_key", "") != app.idempotency_key:
            general.append(_("页面已过期，请重新核对后提交。"))
        else:
            try:
                case = bundle_services.submit_bundle(app, user=request.user)
            except ValidationFailed as exc:
                field_errors, general = views_cases._errors_by_field(exc)
            except DomainError as exc:
                general = exc.messages
            else:
                if staff:
                    messages.success(request, _("已代为提交，办件编号 %(n)s。") % {"n": case.number})
                    return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
                return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))
    schema = app.form_schema
    values = [
        {
            "key": k,
            "label": schema["properties"][k].get("title") or k,
            "value": app.data.get(k, ""),
            "error": field_errors.get(k, ""),
        }
        for k in ordered_keys(schema, app.form_layout)
    ]
    material_errors = {
        k.removeprefix("material:"): v for k, v in field_errors.items() if k.startswith("material:")
    }
    return render(
        request,
        "bundles/portal/apply_review.html",
        _ctx(
            staff,
            app=app,
            step=4,
            bundle=link.bundle,
            members=pages.draft_members(app),
            values=values,
            rows=_material_rows(app, material_errors),
            address=case_services.delivery_address_of(app),
            delivery_error=field_errors.get("delivery_address", ""),
            general=general,
            has_errors=bool(field_errors or general),
        ),
        status=400 if (field_errors or general) else 200,
    )


bundle_form = login_required(require_http_methods(["GET", "POST"])(form_step))
bundle_materials = login_required(require_http_methods(["GET", "POST"])(materials_step))
bundle_delivery = login_required(require_http_methods(["GET", "POST"])(delivery_step))
bundle_review = login_required(require_http_methods(["GET", "POST"])(review_step))


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
    page = max(1, views_cases._int(request.GET.get("page"), 1))
    per_page = 20
    rows = list(pages.applicant_cases(request.user)[(page - 1) * per_page : page * per_page + 1])
    return render(
        request,
        "portal/cases/my_cases.html",
        views_cases._ctx(request, False, cases=rows[:per_page], page=page, more=len(rows) > per_page),
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


def _my_bundle_case(request: HttpRequest, case: Case) -> HttpResponse:
    errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        what = request.POST.get("what")
        try:
            if what == "upload":
                requirement = request.POST.get("requirement", "")
                uploaded = request.FILES.get("file")
                if uploaded is None:
                    errors[f"material:{requirement}"] = _("请选择要上传的文件。")
                else:
                    views_cases._check_correction_material(case, requirement)
                    case_services.upload_material(
                        case.application,
                        requirement=requirement,
                        uploaded=uploaded,
                        user=request.user,
                        case=case,
                    )
                    messages.success(request, _("已上传“%(n)s”。") % {"n": requirement})
                    return HttpResponseRedirect(reverse("portal:my_case", args=[case.number]))
            elif what == "correct":
                data = {
                    k.removeprefix("field:"): v for k, v in request.POST.items() if k.startswith("field:")
                }
                bundle_services.correct_bundle(case, user=request.user, data=data)
                messages.success(request, _("补正已提交，相关部门将继续办理。"))
                return HttpResponseRedirect(reverse("portal:my_case", args=[case.number]))
        except DomainError as exc:
            fe, general = views_cases._errors_by_field(exc)
            if what == "upload" and not fe:
                fe = {f"material:{request.POST.get('requirement', '')}": "；".join(exc.messages)}
                general = []
            errors.update(fe)
    detail = case_selectors.case_detail(case.pk, for_applicant=True)
    overview = bundle_selectors.bundle_overview(case)
    correction_items = []
    if detail.correction is not None:
        props = case.application.form_schema.get("properties", {})
        opened = personal.open_data(case.application, reader=request.user)
        for item in detail.correction.items:
            row = dict(item)
            if item.get("material"):
                row["error"] = errors.get(f"material:{item['material']}", "")
                row["new"] = [
                    m
                    for m in detail.materials
                    if m.requirement == item["material"] and m.created_at > detail.correction.requested_at
                ]
            if item.get("field"):
                row["spec"] = props.get(item["field"], {})
                row["value"] = request.POST.get(f"field:{item['field']}", opened.get(item["field"], ""))
                row["error"] = errors.get(item["field"], "")
            correction_items.append(row)
    shown = {f"material:{i.get('material')}" for i in correction_items} | {
        i.get("field") for i in correction_items
    }
    general = list(general) + [m for k, m in errors.items() if k not in shown]
    return render(
        request,
        "bundles/portal/my_case.html",
        _ctx(
            case=case,
            d=detail,
            o=overview,
            results_out=case.state in RESULTS_OUT,
            correction_items=correction_items,
            general=general,
            expected=views_cases._expected_of_applicant(case, detail),
        ),
        status=400 if (errors or general) else 200,
    )


RESULTS_OUT = {CaseState.DELIVERED, CaseState.CLOSED}


@login_required
def my_branch_notice(request: HttpRequest, number: str, branch_case_id: int, notice_id: int) -> HttpResponse:
    """A department's decision document of my bundle case. Results go out together: the
    branches' documents are the applicant's once the umbrella is delivered."""
    case = views_cases._my_case(request.user, number)
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
    number = (request.GET.get("number") or "").strip()[:24]
    code = (request.GET.get("code") or "").strip()[:8]
    case = None
    error = ""
    status = 200
    if number or code:
        if views_cases._rate_limited(request):
            error = _("查询过于频繁，请一分钟后再试。")
            status = 429
        else:
            case = case_selectors.lookup(number, code)
            if case is None:
                error = _("办件编号或查询码不正确。")
                status = 404
    return render(
        request,
        "bundles/portal/lookup.html",
        views_cases._ctx(
            request,
            False,
            number=number,
            code=code,
            case=case,
            error=error,
            applicant_masked=views_cases.mask_name(case.applicant_name) if case else "",
            timeline=case_selectors.public_timeline(case) if case else [],
            time=case_selectors.time_left(case) if case else None,
            branches=pages.public_branches(case) if case else [],
        ),
        status=status,
    )
