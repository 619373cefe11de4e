"""What the applicant pages of an ordinary application (``views_cases``) and of a bundle's
combined application (``views_bundles``) have in common, written once.

- ``ApplicationSteps``: the four steps of a draft (form, materials, delivery, review). Each kind
  of application describes what differs (its URL names, templates, how a draft is found, what is
  missing, how it is submitted); the steps themselves are the same code. They also serve the
  counter clerk's entry in the workbench (``staff=True``).
- ``my_case_page``: the applicant's case page with the one-time correction (upload a material,
  correct fields), whatever the kind of case.
- ``lookup_page``: the public progress lookup (rate-limited per client address).
- ``verify_page``: the verification page a notice's QR code opens (rate-limited per client address).
- the small helpers the pages share (who the person may act for, errors by field, paging).

The writes go through the cases (and bundles) services; this module only shapes requests and
pages.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files import File
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases import personal
from yiwang.cases import selectors as case_selectors
from yiwang.cases import services as case_services
from yiwang.cases.formschema import SchemaForm, ordered_keys
from yiwang.cases.models import Application, Case, DeliveryMethod, Outcome
from yiwang.catalog import decision_words
from yiwang.catalog.models import ServiceItem
from yiwang.core import security
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.links import url_with_last
from yiwang.core.middleware import client_ip
from yiwang.core.params import page_param
from yiwang.exchange import selectors as exchange_selectors
from yiwang.identity import acting as identity_acting
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.services import acting_scope

LOOKUP_LIMIT = 10  # lookups per client address per LOOKUP_WINDOW seconds
LOOKUP_WINDOW = 60
PER_PAGE = 20  # cases per page of "my cases"


# --- small helpers ---------------------------------------------------------------------------------


def page_context(staff: bool, ns: str, **extra: Any) -> dict[str, Any]:
    """The context every applicant page starts from: the base template (the workbench's for a
    counter clerk) and the URL-name prefix its templates build links with."""
    base = "workbench/base.html" if staff else "portal/base.html"
    return {"base_template": base, "ns": ns, "staff": staff, **extra}


def errors_by_field(exc: DomainError) -> tuple[dict[str, str], list[str]]:
    """The first message of each field, and the messages of no field."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for e in exc.errors:
        if e.field:
            fields.setdefault(e.field, e.message)
        else:
            general.append(e.message)
    return fields, general


def mask_name(name: str) -> str:
    """张三丰 → 张**: the public lookup shows only the first character of a name."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def draft_for(user, application_id: int) -> Application:
    """The draft the user may edit (``cases.selectors.draft_for``); anyone else's is a 404."""
    app = case_selectors.draft_for(user, application_id)
    if app is None:
        raise Http404
    return app


def viewable_case(user, number: str) -> Case:
    """The case if the user may see it (applicant, or the company's representative or agent:
    ``cases.selectors.can_view_case``); 404 otherwise, so a number reveals nothing."""
    case = case_selectors.viewable_case(user, number)
    if case is None:
        raise Http404
    return case


def actable_companies(person, item: ServiceItem) -> list:
    """The companies ``person`` may apply for ``item`` for: represented, or by a mandate in
    force (``identity.selectors.companies_acting_for``) whose scope covers the item."""
    if person is None:
        return []
    companies = identity_selectors.companies_acting_for(person)
    return [c for c in companies if acting_scope(person, c, item).allowed]


def default_applicant(request: HttpRequest, companies: list, item: ServiceItem) -> str:
    """What the start form preselects: the company the person acts for in this session
    (切换身份) when the item is for companies and the company is among ``companies`` (those
    they may apply for the item for); else "self". A re-shown form keeps what was posted."""
    posted = request.POST.get("acting_for")
    if posted:
        return posted
    current = identity_acting.current(request)
    version = item.current_version
    if current is None or version is None or not version.for_company:
        return "self"
    return next((str(c.pk) for c in companies if c.pk == current.company_id), "self")


def acting_for_choice(request: HttpRequest, companies: list) -> tuple[Any, str]:
    """The company the start form's ``acting_for`` names (None for "self"), or an error when
    it names one the person may not act for."""
    choice = request.POST.get("acting_for", "self")
    if choice == "self":
        return None, ""
    company = next((c for c in companies if str(c.pk) == choice), None)
    if company is None:
        return None, _("您不能代表所选单位办理此事项。")
    return company, ""


def idempotency_key_of(request: HttpRequest) -> str | None:
    return (request.POST.get("idempotency_key") or "")[:64] or None


def cases_page(request: HttpRequest, cases: QuerySet) -> dict[str, Any]:
    """One page of "my cases" (``?page=``), one row more fetched to know whether there is more.
    ``cases`` pairs each case with its page's link (one ``reverse`` for the list: case numbers
    are made by the platform)."""
    page = page_param(request.GET.get("page"))
    rows = list(cases[(page - 1) * PER_PAGE : page * PER_PAGE + 1])
    href = url_with_last("portal:my_case")
    return {
        "cases": [(c, href(c.number)) for c in rows[:PER_PAGE]],
        "page": page,
        "more": len(rows) > PER_PAGE,
    }


def my_cases_page(request: HttpRequest, cases_for: Callable[[int | None], QuerySet]) -> HttpResponse:
    """ "My cases": ``cases_for(company_id)`` lists the applicant's cases, those filed for
    ``company_id`` when given. While the person acts for a company (切换身份) the page lists
    that company's, unless ``?scope=all`` asks for all of them."""
    current = identity_acting.current(request)
    show_all = current is None or request.GET.get("scope") == "all"
    page = cases_page(request, cases_for(None if show_all or current is None else current.company_id))
    context = page_context(False, "portal:apply_", acting=current, show_all=show_all, **page)
    return render(request, "portal/cases/my_cases.html", context)


# --- the four steps of a draft ---------------------------------------------------------------------


def _no_extra(app: Application, link: Any, step: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ApplicationSteps:
    """What one kind of application changes in the four steps.

    ``draft`` finds the user's draft (404 otherwise) and returns it with whatever the kind
    needs to know about it (a bundle's link; None for an ordinary application), which
    ``extra`` gets back to add to each step's page.
    """

    ns: str  # URL-name prefix of the applicant's steps, e.g. "portal:apply_"
    counter_ns: str  # the same steps in the workbench's counter entry
    templates: Mapping[str, str]  # step name -> template
    draft: Callable[[Any, int], tuple[Application, Any]]
    missing_materials: Callable[[Application], list[str]]
    material_rows: Callable[[Application, dict[str, str]], list[dict[str, Any]]]
    submit: Callable[[Application, Any, str], Case]  # (draft, user, idempotency key)
    # A requirement this kind does not list for the draft (None: the services decide).
    unlisted_requirement: Callable[[Application, str], bool] | None = None
    # More for a step's page: (draft, link, step name) -> context.
    extra: Callable[[Application, Any, str], dict[str, Any]] = field(default=_no_extra)

    def context(self, staff: bool, **extra: Any) -> dict[str, Any]:
        return page_context(staff, self.counter_ns if staff else self.ns, **extra)

    def url(self, staff: bool, step: str, app: Application) -> str:
        return reverse((self.counter_ns if staff else self.ns) + step, args=[app.pk])

    def _step(self, page, request: HttpRequest, application_id: int, staff: bool) -> HttpResponse:
        """Find the draft (404 if not the user's); a draft already submitted leads to its case."""
        app, link = self.draft(request.user, application_id)
        return _submitted_redirect(app, staff) or page(request, app, link, staff)

    def applicant_views(self) -> tuple[Callable[..., HttpResponse], ...]:
        """The four steps as the applicant's views (login required; GET and POST)."""
        steps = (self.form_step, self.materials_step, self.delivery_step, self.review_step)
        return tuple(login_required(require_http_methods(["GET", "POST"])(step)) for step in steps)

    def _render(
        self,
        request: HttpRequest,
        page: str,
        app: Application,
        link: Any,
        staff: bool,
        status: int,
        /,
        **ctx: Any,
    ) -> HttpResponse:
        context = self.context(staff, app=app, **ctx, **self.extra(app, link, page))
        return render(request, self.templates[page], context, status=status)

    def form_step(self, request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
        """1 the form (a bundle's: the union of its items' fields, each asked once)."""
        return self._step(self._form, request, application_id, staff)

    def _form(self, request: HttpRequest, app: Application, link: Any, staff: bool) -> HttpResponse:
        if request.method == "POST":
            form = SchemaForm(request.POST, schema=app.form_schema, layout=app.form_layout)
            raw = {k: request.POST.get(k, "") for k in form.fields if k in request.POST}
            try:
                case_services.save_draft(app, user=request.user, data=raw)
            except DomainError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                if form.is_valid() and request.POST.get("go") == "next":
                    return HttpResponseRedirect(self.url(staff, "materials", app))
                if request.POST.get("go") != "next":
                    messages.success(request, _("草稿已保存。"))
                    return HttpResponseRedirect(self.url(staff, "form", app))
        else:
            initial = personal.open_data(app, reader=request.user)  # the applicant's own values
            form = SchemaForm(schema=app.form_schema, layout=app.form_layout, initial=initial)
        return self._render(request, "form", app, link, staff, 200, form=form, step=1)

    def materials_step(
        self, request: HttpRequest, application_id: int, *, staff: bool = False
    ) -> HttpResponse:
        """2 the materials checklist: upload, or take from the account or a shared registry."""
        return self._step(self._materials, request, application_id, staff)

    def _materials(self, request: HttpRequest, app: Application, link: Any, staff: bool) -> HttpResponse:
        errors: dict[str, str] = {}
        if request.method == "POST":
            listed = {str(r["index"]): r["name"] for r in self.material_rows(app, {})}
            done = self._post_materials(request, app, listed, errors)
            stray = [m for k, m in errors.items() if k and k not in listed.values()]
            if stray:  # a material this page does not list: said above the list
                errors[""] = "；".join(filter(None, [errors.get(""), *stray]))
            if not errors:
                if request.POST.get("go") == "next":
                    missing = self.missing_materials(app)
                    if not missing:
                        return HttpResponseRedirect(self.url(staff, "delivery", app))
                    for name in missing:
                        errors[name] = _("请提供申请材料“%(n)s”。") % {"n": name}
                elif done:
                    return HttpResponseRedirect(self.url(staff, "materials", app))
        return self._render(
            request,
            "materials",
            app,
            link,
            staff,
            400 if errors else 200,
            rows=self.material_rows(app, errors),
            step=2,
            general=errors.get(""),
        )

    def _post_materials(
        self, request: HttpRequest, app: Application, rows: dict[str, str], errors: dict[str, str]
    ) -> bool:
        """Whatever the button pressed (上传 of one row, 免提交 of one row, or 下一步), every file
        chosen on the page is uploaded first; then the row's reuse is taken. Errors go into
        ``errors`` by material name ("" for none); True when something was stored. ``rows``
        maps each row's index on the page to its material's name."""
        # A row's file input is ``file<index>``; a page of one form per row sent
        # ``requirement`` with ``file`` (and ``use_source`` for the reuse button).
        files: dict[str, File] = {}
        for i, name in rows.items():
            if chosen := request.FILES.get(f"file{i}"):
                files[name] = chosen
        single = request.POST.get("requirement", "")
        if single and (chosen := request.FILES.get("file")):
            files[single] = chosen
        upload = rows.get(request.POST.get("upload", ""), "")
        if not upload and single and not request.POST.get("use_source") and request.POST.get("go") != "next":
            upload = single
        reuse = rows.get(request.POST.get("reuse", ""), "") or (
            single if request.POST.get("use_source") else ""
        )
        if upload and upload not in files:
            errors[upload] = _("请选择要上传的文件。")
        done = False
        try:
            for name in [*files, reuse]:
                if name and self.unlisted_requirement is not None and self.unlisted_requirement(app, name):
                    errors[""] = _("该材料不在本次申请的材料清单内。")
                    return False
            if files:
                result = case_services.upload_materials(app, files=files, user=request.user)
                errors.update(result.errors)
                for m in result.materials:
                    messages.success(request, _("已上传“%(n)s”。") % {"n": m.requirement})
                done = bool(result.materials)
            if reuse:
                try:
                    case_services.provide_from_source(app, requirement=reuse, user=request.user)
                except DomainError as exc:
                    errors[reuse] = "；".join(exc.messages)
                else:
                    messages.success(request, _("已从账户/共享库取得“%(n)s”。") % {"n": reuse})
                    done = True
        except DomainError as exc:
            errors[""] = "；".join(exc.messages)
        return done

    def delivery_step(
        self, request: HttpRequest, application_id: int, *, staff: bool = False
    ) -> HttpResponse:
        """3 how the result is delivered (a bundle: one delivery for every result)."""
        return self._step(self._delivery, request, application_id, staff)

    def _delivery(self, request: HttpRequest, app: Application, link: Any, staff: bool) -> HttpResponse:
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
                    errors.update(errors_by_field(exc)[0] or {"delivery_method": "；".join(exc.messages)})
                else:
                    return HttpResponseRedirect(self.url(staff, "review", app))
        return self._render(
            request,
            "delivery",
            app,
            link,
            staff,
            400 if errors else 200,
            step=3,
            errors=errors,
            method=method,
            address=address,
            methods=DeliveryMethod.choices,
        )

    def review_step(self, request: HttpRequest, application_id: int, *, staff: bool = False) -> HttpResponse:
        """4 everything once more, then one submission."""
        return self._step(self._review, request, application_id, staff)

    def _review(self, request: HttpRequest, app: Application, link: Any, staff: bool) -> HttpResponse:
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
                    case = self.submit(app, request.user, key)
                except ValidationFailed as exc:
                    field_errors, general = errors_by_field(exc)
                except DomainError as exc:
                    general = exc.messages
                else:
                    if staff:
                        messages.success(request, _("已代为提交，办件编号 %(n)s。") % {"n": case.number})
                        return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
                    return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))
        schema = app.form_schema
        # The applicant checks what they typed in full; a clerk's counter entry shows the masks.
        shown = personal.shown_data(app, reader=request.user)
        values = [
            {
                "key": k,
                "label": schema["properties"][k].get("title") or k,
                "value": shown.get(k, ""),
                "error": field_errors.get(k, ""),
            }
            for k in ordered_keys(schema, app.form_layout)
        ]
        material_errors = {
            k.removeprefix("material:"): v for k, v in field_errors.items() if k.startswith("material:")
        }
        return self._render(
            request,
            "review",
            app,
            link,
            staff,
            400 if (field_errors or general) else 200,
            step=4,
            values=values,
            rows=self.material_rows(app, material_errors),
            address=personal.shown_address(app, case_services.delivery_address_of(app), reader=request.user),
            delivery_error=field_errors.get("delivery_address", ""),
            general=general,
            has_errors=bool(field_errors or general),
        )


def _submitted_redirect(app: Application, staff: bool) -> HttpResponse | None:
    """A draft already submitted leads to its case (the receipt, or the clerk's case page)."""
    if app.submitted_at is None:
        return None
    case = case_selectors.case_of_application(app)
    if case is None:
        return None
    if staff:
        return HttpResponseRedirect(reverse("workbench:case", args=[case.pk]))
    return HttpResponseRedirect(reverse("portal:case_receipt", args=[case.number]))


# --- my case: the one-time correction ----------------------------------------------------------


def check_correction_material(case: Case, requirement: str) -> None:
    """Under correction, only a material the open correction request lists may be uploaded."""
    request_ = case.corrections.filter(resolved_at__isnull=True).order_by("-pk").first()
    if request_ is None or requirement not in {i.get("material") for i in request_.items}:
        raise DomainError(_("该材料不在补正通知所列范围内。"), field=f"material:{requirement}")


def expected_of_applicant(case: Case, detail) -> str:
    """What the applicant is expected to do now, in one sentence (empty: nothing)."""
    if detail.correction is not None:
        return _("请按一次性告知补正下列全部内容后提交，补正期间不计入办理时限。")
    if case.state in ("approved", "denied") and case.delivery_method == DeliveryMethod.COUNTER:
        return _("办理结果将在窗口领取，届时请携带身份证件。")
    return ""


def outcome_context(case: Case) -> dict[str, Any]:
    """The decision in the item type's words (予以确认, 办结, ...) and what it did to certificates
    (one issued, or the holder's revoked by a deregistration)."""
    if case.outcome not in (Outcome.APPROVED, Outcome.DENIED):
        return {}
    words = decision_words.words_of_elements(case.item_version.elements)
    result = exchange_selectors.case_result(case.pk) if case.outcome == Outcome.APPROVED else None
    return {"outcome_text": words.outcome(case.outcome == Outcome.APPROVED), "case_result": result}


def my_case_page(
    request: HttpRequest,
    case: Case,
    *,
    template: str,
    ns: str,
    correct: Callable[[Case, Any, dict[str, str]], Any],
    corrected_message: str,
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> HttpResponse:
    """The applicant's case page. A POST uploads a material the correction request lists
    (``what=upload``) or submits the corrected fields (``what=correct``, through ``correct``);
    errors stand next to the correction item at fault, the rest above."""
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
                    check_correction_material(case, requirement)
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
                correct(case, request.user, data)
                messages.success(request, corrected_message)
                return HttpResponseRedirect(reverse("portal:my_case", args=[case.number]))
        except DomainError as exc:
            fe, general = errors_by_field(exc)
            if what == "upload" and not fe:
                fe = {f"material:{request.POST.get('requirement', '')}": "；".join(exc.messages)}
                general = []
            errors.update(fe)
    # The case as read for the permission check, unless a refused POST may have changed it.
    detail = case_selectors.case_detail(
        case.pk, for_applicant=True, case=case if request.method != "POST" else None
    )
    detail.set_links("portal:my_case_material", "portal:my_case_notice", case.number)
    correction_items = _correction_items(request, case, detail, errors)
    shown = {f"material:{i.get('material')}" for i in correction_items} | {
        i.get("field") for i in correction_items
    }
    general = list(general) + [m for k, m in errors.items() if k not in shown]
    return render(
        request,
        template,
        page_context(
            False,
            ns,
            case=case,
            d=detail,
            correction_items=correction_items,
            general=general,
            expected=expected_of_applicant(case, detail),
            **outcome_context(detail.case),
            **(extra(detail) if extra is not None else {}),
        ),
        status=400 if (errors or general) else 200,
    )


def _correction_items(request: HttpRequest, case: Case, detail, errors: dict[str, str]) -> list[dict]:
    """The open correction request's items, each with its error, what was sent since, and for a
    field the value to show (the one just posted, else the applicant's own)."""
    if detail.correction is None:
        return []
    props = case.application.form_schema.get("properties", {})
    opened: dict[str, Any] | None = None  # decrypted once, and only if a field is asked for
    rows = []
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
            if opened is None:
                opened = personal.open_data(case.application, reader=request.user)
            row["spec"] = props.get(item["field"], {})
            row["value"] = request.POST.get(f"field:{item['field']}", opened.get(item["field"], ""))
            row["error"] = errors.get(item["field"], "")
        rows.append(row)
    return rows


# --- public lookup ---------------------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    # The person's address (X-Forwarded-For behind YIWANG_TRUST_PROXY), not the load balancer's:
    # with REMOTE_ADDR every lookup of the province would share one limit of 10 a minute.
    return client_ip(request) or "unknown"


def rate_limited(request: HttpRequest) -> bool:
    """Count this lookup; True once the client has used up LOOKUP_LIMIT in the window (counted in
    the store all web processes share, core.ratelimit)."""
    return bool(security.hit(f"case-lookup:{_client_address(request)}", LOOKUP_LIMIT, LOOKUP_WINDOW))


def lookup_page(
    request: HttpRequest,
    *,
    template: str,
    ns: str,
    extra: Callable[[Case | None], dict[str, Any]] | None = None,
) -> HttpResponse:
    """The public progress lookup by case number and query code: state, timeline and time
    left, the applicant's name masked; ``extra`` adds to the page (its case may be None)."""
    number = (request.GET.get("number") or "").strip()[:24]
    code = (request.GET.get("code") or "").strip()[:8]
    case = None
    error = ""
    status = 200
    if number or code:
        if rate_limited(request):
            error = _("查询过于频繁，请一分钟后再试。")
            status = 429
        else:
            case = case_selectors.lookup(number, code)
            if case is None:
                error = _("办件编号或查询码不正确。")
                status = 404
    return render(
        request,
        template,
        page_context(
            False,
            ns,
            number=number,
            code=code,
            case=case,
            error=error,
            applicant_masked=mask_name(case.applicant_name) if case else "",
            timeline=case_selectors.public_timeline(case) if case else [],
            time=case_selectors.time_left(case) if case else None,
            **(extra(case) if extra is not None else {}),
        ),
        status=status,
    )


# --- document verification -------------------------------------------------------------------------

VERIFY_MAX_BYTES = 20 * 1024 * 1024  # a notice is tens of kilobytes; anything this big is not one
# Verifications per client address per LOOKUP_WINDOW: a counter checking a pile of papers scans
# more than a person looks up progress, and the check code still bars guessing numbers.
VERIFY_LIMIT = 30


def _sha256_of(upload) -> str | None:
    """The SHA-256 of an uploaded file, None when it is larger than VERIFY_MAX_BYTES."""
    if upload.size > VERIFY_MAX_BYTES:
        return None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def verify_page(request: HttpRequest, number: str, *, ns: str) -> HttpResponse:
    """The verification page of a notice (``verify_notice``): its record when the number and the
    check code match, 未找到 otherwise; with a posted file, whether it is the stored one."""
    from yiwang.cases.notices import title_of

    number = number.strip()[:40]
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()[:8]
    notice = None
    error = file_error = ""
    file_matches: bool | None = None
    status = 200
    if number or code:
        if security.hit(f"document-verify:{_client_address(request)}", VERIFY_LIMIT, LOOKUP_WINDOW):
            error = _("查询过于频繁，请一分钟后再试。")
            status = 429
        else:
            notice = case_selectors.verify_notice(number, code)
            if notice is None:
                error = _("未找到该文书，或文书编号与查询码不一致。无法核验的文书请勿作为办理依据。")
                status = 404
    if notice is not None and request.method == "POST":
        upload = request.FILES.get("document")
        if upload is None:
            file_error = _("请选择要比对的文书文件（PDF）。")
        else:
            digest = _sha256_of(upload)
            if digest is None:
                file_error = _("文件过大，不是本平台出具的文书。")
            else:
                file_matches = hmac.compare_digest(digest, notice.sha256)
    case = notice.case if notice else None
    return render(
        request,
        "portal/cases/verify.html",
        page_context(
            False,
            ns,
            number=number,
            code=code,
            notice=notice,
            title=title_of(case, notice.kind) if notice and case else "",
            applicant_masked=mask_name(case.applicant_name) if case else "",
            issued_on=timezone.localdate(notice.issued_at) if notice else None,
            error=error,
            file_error=file_error,
            file_matches=file_matches,
        ),
        status=status,
    )
