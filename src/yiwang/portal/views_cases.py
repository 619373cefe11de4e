"""Applicant pages for online applications (全程网办): apply, my cases, public progress lookup.

Plain server-rendered forms; the JSON Schema form carries its rules as HTML attributes so the
browser refuses what the server would, and every rule is checked again by the cases services.
The step views (form, materials, delivery, review) also serve the counter clerk's entry in the
workbench: ``staff=True`` switches the base template and the URL names (``workbench:``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases import personal, providers
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.actions import ApplicantCorrects
from yiwang.cases.formschema import SchemaForm
from yiwang.cases.models import Application, Case, CaseMaterial, DeliveryMethod, Notice
from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.middleware import client_ip
from yiwang.identity import account_selectors
from yiwang.identity.services import acting_scope
from yiwang.identity.stepup import required_acr_for_item, stepup_url

INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg"}
LOOKUP_LIMIT = 10  # lookups per client address per LOOKUP_WINDOW seconds
LOOKUP_WINDOW = 60


# --- helpers shared with the workbench's counter entry -------------------------------------------


def _ctx(request: HttpRequest, staff: bool, **extra: Any) -> dict[str, Any]:
    base = "workbench/base.html" if staff else "portal/base.html"
    ns = "workbench:counter_" if staff else "portal:apply_"
    return {"base_template": base, "ns": ns, "staff": staff, **extra}


def _step_url(staff: bool, step: str, app: Application) -> str:
    return reverse(("workbench:counter_" if staff else "portal:apply_") + step, args=[app.pk])


def draft_for(user, application_id: int) -> Application:
    """The draft the user may edit (``cases.selectors.draft_for``); anyone else's is a 404."""
    app = case_selectors.draft_for(user, application_id)
    if app is None:
        raise Http404
    return app


def _submitted_redirect(app: Application, staff: bool) -> HttpResponse | None:
    if app.submitted_at is None:
        return None
    case = case_selectors.case_of_application(app)
    if case is None:
        return None
    if staff:
        return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
    return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))


def _errors_by_field(exc: DomainError) -> tuple[dict[str, str], list[str]]:
    fields: dict[str, str] = {}
    general: list[str] = []
    for e in exc.errors:
        if e.field:
            fields.setdefault(e.field, e.message)
        else:
            general.append(e.message)
    return fields, general


# --- apply: start ---------------------------------------------------------------------------------


def _actable_companies(person, item: ServiceItem) -> list:
    if person is None:
        return []
    companies = list(account_selectors.companies_represented(person))
    seen = {c.pk for c in companies}
    for m in account_selectors.mandates_received(person):
        if m.company_id not in seen:
            seen.add(m.company_id)
            companies.append(m.company)
    return [c for c in companies if acting_scope(person, c, item).allowed]


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
    companies = _actable_companies(person, item)
    error = ""
    if request.method == "POST":
        acting_for = None
        choice = request.POST.get("acting_for", "self")
        if choice != "self":
            acting_for = next((c for c in companies if str(c.pk) == choice), None)
            if acting_for is None:
                error = _("您不能代表所选单位办理此事项。")
        if not error:
            try:
                app = case_services.start_application(
                    request.user,
                    item,
                    acting_for=acting_for,
                    idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                )
            except DomainError as exc:
                error = "；".join(exc.messages)
            else:
                return HttpResponseRedirect(_step_url(False, "form", app))
    return render(
        request,
        "portal/cases/apply_start.html",
        _ctx(
            request,
            False,
            item=item,
            version=item.current_version,
            person=person,
            companies=companies,
            error=error,
            idempotency_key=uuid.uuid4().hex,
        ),
    )


# --- apply: the steps (shared with the counter entry) ---------------------------------------------


def form_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    app = draft_for(request.user, application_id)
    done = _submitted_redirect(app, staff)
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
                return HttpResponseRedirect(_step_url(staff, "materials", app))
            if request.POST.get("go") != "next":
                messages.success(request, _("草稿已保存。"))
                return HttpResponseRedirect(_step_url(staff, "form", app))
    else:
        initial = personal.open_data(app, reader=request.user)  # the applicant's own values
        form = SchemaForm(schema=app.form_schema, layout=app.form_layout, initial=initial)
    return render(
        request,
        "portal/cases/apply_form.html",
        _ctx(request, staff, app=app, form=form, step=1),
    )


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
                "reusable": providers.reusable(req),
                "error": errors.get(req["name"]) or errors.get(f"material:{req['name']}", ""),
            }
        )
    return rows


def materials_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    app = draft_for(request.user, application_id)
    done = _submitted_redirect(app, staff)
    if done:
        return done
    errors: dict[str, str] = {}
    if request.method == "POST":
        requirement = request.POST.get("requirement", "")
        try:
            if request.POST.get("go") == "next":
                missing = case_services.missing_materials(app)
                if not missing:
                    return HttpResponseRedirect(_step_url(staff, "delivery", app))
                for name in missing:
                    errors[name] = _("请提供申请材料“%(n)s”。") % {"n": name}
            elif request.POST.get("use_source"):
                case_services.provide_from_source(app, requirement=requirement, user=request.user)
                messages.success(request, _("已从账户/共享库取得“%(n)s”。") % {"n": requirement})
                return HttpResponseRedirect(_step_url(staff, "materials", app))
            else:
                uploaded = request.FILES.get("file")
                if uploaded is None:
                    errors[requirement] = _("请选择要上传的文件。")
                else:
                    case_services.upload_material(
                        app, requirement=requirement, uploaded=uploaded, user=request.user
                    )
                    messages.success(request, _("已上传“%(n)s”。") % {"n": requirement})
                    return HttpResponseRedirect(_step_url(staff, "materials", app))
        except DomainError as exc:
            errors[requirement or ""] = "；".join(exc.messages)
    return render(
        request,
        "portal/cases/apply_materials.html",
        _ctx(request, staff, app=app, rows=_material_rows(app, errors), step=2, general=errors.get("")),
        status=400 if errors else 200,
    )


def delivery_step(request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
    app = draft_for(request.user, application_id)
    done = _submitted_redirect(app, staff)
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
                errors.update(_errors_by_field(exc)[0] or {"delivery_method": "；".join(exc.messages)})
            else:
                return HttpResponseRedirect(_step_url(staff, "review", app))
    return render(
        request,
        "portal/cases/apply_delivery.html",
        _ctx(
            request,
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
    app = draft_for(request.user, application_id)
    done = _submitted_redirect(app, staff)
    if done:
        return done
    field_errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        # The key, not the URL's id, names what is submitted: a second click of the same page
        # (or a retried request) carries the same key and gets the same case.
        key = request.POST.get("idempotency_key", "")
        if key != app.idempotency_key:
            general.append(_("页面已过期，请重新核对后提交。"))
        else:
            try:
                case = case_services.submit_by_key(key, user=request.user)
            except ValidationFailed as exc:
                field_errors, general = _errors_by_field(exc)
            except DomainError as exc:
                general = exc.messages
            else:
                if staff:
                    messages.success(request, _("已代为提交，办件编号 %(n)s。") % {"n": case.number})
                    return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
                return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))
    schema = app.form_schema
    from yiwang.cases.formschema import ordered_keys

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
        "portal/cases/apply_review.html",
        _ctx(
            request,
            staff,
            app=app,
            step=4,
            values=values,
            rows=_material_rows(app, material_errors),
            address=case_services.delivery_address_of(app),
            delivery_error=field_errors.get("delivery_address", ""),
            general=general,
            has_errors=bool(field_errors or general),
        ),
        status=400 if (field_errors or general) else 200,
    )


apply_form = login_required(require_http_methods(["GET", "POST"])(form_step))
apply_materials = login_required(require_http_methods(["GET", "POST"])(materials_step))
apply_delivery = login_required(require_http_methods(["GET", "POST"])(delivery_step))
apply_review = login_required(require_http_methods(["GET", "POST"])(review_step))


# --- my cases -------------------------------------------------------------------------------------


def _my_case(user, number: str) -> Case:
    """The case if the user may see it (applicant, or the company's representative or agent:
    ``cases.selectors.can_view_case``); 404 otherwise, so a number reveals nothing."""
    case = case_selectors.viewable_case(user, number)
    if case is None:
        raise Http404
    return case


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    page = max(1, _int(request.GET.get("page"), 1))
    per_page = 20
    rows = list(case_selectors.cases_of(request.user)[(page - 1) * per_page : page * per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    return render(
        request,
        "portal/cases/my_cases.html",
        _ctx(request, False, cases=rows, page=page, more=more),
    )


@login_required
def case_receipt(request: HttpRequest, number: str) -> HttpResponse:
    case = _my_case(request.user, number)
    receipt = case.notices.filter(kind="receipt").first()
    return render(request, "portal/cases/receipt.html", _ctx(request, False, case=case, receipt=receipt))


@login_required
@require_http_methods(["GET", "POST"])
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    case = _my_case(request.user, number)
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
                    _check_correction_material(case, requirement)
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
                ApplicantCorrects(case, request.user, data=data).run()
                messages.success(request, _("补正已提交，办件回到受理环节。"))
                return HttpResponseRedirect(reverse("portal:my_case", args=[case.number]))
        except DomainError as exc:
            fe, general = _errors_by_field(exc)
            if what == "upload" and not fe:
                fe = {f"material:{request.POST.get('requirement', '')}": "；".join(exc.messages)}
                general = []
            errors.update(fe)
    detail = case_selectors.case_detail(case.pk, for_applicant=True)
    correction_items = []
    if detail.correction is not None:
        props = case.application.form_schema.get("properties", {})
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
                row["value"] = request.POST.get(
                    f"field:{item['field']}",
                    personal.open_data(case.application, reader=request.user).get(item["field"], ""),
                )
                row["error"] = errors.get(item["field"], "")
            correction_items.append(row)
    shown = {f"material:{i.get('material')}" for i in correction_items} | {
        i.get("field") for i in correction_items
    }
    general = list(general) + [m for k, m in errors.items() if k not in shown]
    return render(
        request,
        "portal/cases/my_case.html",
        _ctx(
            request,
            False,
            case=case,
            d=detail,
            correction_items=correction_items,
            general=general,
            expected=_expected_of_applicant(case, detail),
        ),
        status=400 if (errors or general) else 200,
    )


def _check_correction_material(case: Case, requirement: str) -> None:
    request_ = case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    if request_ is None or requirement not in {i.get("material") for i in request_.items}:
        raise DomainError(_("该材料不在补正通知所列范围内。"), field=f"material:{requirement}")


def _expected_of_applicant(case: Case, detail) -> str:
    if detail.correction is not None:
        return _("请按一次性告知补正下列全部内容后提交，补正期间不计入办理时限。")
    if case.state in ("approved", "denied") and case.delivery_method == DeliveryMethod.COUNTER:
        return _("办理结果将在窗口领取，届时请携带身份证件。")
    return ""


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
    case = _my_case(request.user, number)
    return material_response(get_object_or_404(CaseMaterial, pk=material_id, case=case))


@login_required
def my_case_notice(request: HttpRequest, number: str, notice_id: int) -> HttpResponse:
    case = _my_case(request.user, number)
    return notice_response(get_object_or_404(Notice, pk=notice_id, case=case))


# --- public lookup ---------------------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    # The person's address (X-Forwarded-For behind YIWANG_TRUST_PROXY), not the load balancer's:
    # with REMOTE_ADDR every lookup of the province would share one limit of 10 a minute.
    return client_ip(request) or "unknown"


def _rate_limited(request: HttpRequest) -> bool:
    key = f"portal:case-lookup:{_client_address(request)}"
    if cache.add(key, 1, LOOKUP_WINDOW):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, LOOKUP_WINDOW)
        return False
    return count > LOOKUP_LIMIT


@require_http_methods(["GET"])
def lookup(request: HttpRequest) -> HttpResponse:
    number = (request.GET.get("number") or "").strip()[:24]
    code = (request.GET.get("code") or "").strip()[:8]
    case = None
    error = ""
    status = 200
    if number or code:
        if _rate_limited(request):
            error = _("查询过于频繁，请一分钟后再试。")
            status = 429
        else:
            case = case_selectors.lookup(number, code)
            if case is None:
                error = _("办件编号或查询码不正确。")
                status = 404
    return render(
        request,
        "portal/cases/lookup.html",
        _ctx(
            request,
            False,
            number=number,
            code=code,
            case=case,
            error=error,
            applicant_masked=mask_name(case.applicant_name) if case else "",
            timeline=case_selectors.public_timeline(case) if case else [],
            time=case_selectors.time_left(case) if case else None,
        ),
        status=status,
    )


def mask_name(name: str) -> str:
    """张三丰 → 张**: the public lookup shows only the first character of a name."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
