"""Base registries on the workbench (/workbench/exchange/registries/): the list of registries with
their owners, record counts and last update, and for the owner department's data
administrators the xlsx update (template, upload, errors per row; nothing written while any row
is bad). The rules are checked by ``exchange.registries.upsert``; the views pick parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.core.crypto import mask_text
from yiwang.core.errors import NotPermitted
from yiwang.exchange import registries, registry_import, selectors
from yiwang.identity.mfa import has_confirmed_device
from yiwang.identity.models import AssuranceLevel, StaffRole
from yiwang.identity.sessions import current_acr

from .views import role_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def may_see_registries(roles: list[StaffRole], user: User | AnonymousUser) -> bool:
    """Any staff role (the page shows counts and owners, no record)."""
    return bool(user.is_authenticated and (user.is_superuser or roles))


def _registry(code: str) -> registries.Registry:
    try:
        return registries.get_registry(code)
    except ValueError:
        raise Http404 from None


@role_required(may_see_registries)
def registry_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workbench/registries.html", {"rows": selectors.registry_overview(request.user)})


def _second_factor(request: HttpRequest) -> HttpResponse | None:
    """Writing a registry is an administrator's act: a session with a second factor (acr 3), as
    for the back office; else to the code (or enrolment) and back."""
    if current_acr(request) >= AssuranceLevel.TWO_FACTOR:
        return None
    user = request.user  # signed in: role_required
    target = "auth:mfa_verify" if has_confirmed_device(user) else "auth:mfa"  # type: ignore[arg-type]
    return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def _import_page(request: HttpRequest, reg: registries.Registry, **context: Any) -> HttpResponse:
    status = context.pop("status", 200)
    return render(
        request,
        "workbench/registry_import.html",
        {"registry": reg, "owner": registries.owner_department(reg), "fields": reg.fields, **context},
        status=status,
    )


@role_required(may_see_registries)
def registry_template(request: HttpRequest, code: str) -> HttpResponse:
    reg = _registry(code)
    if not registries.may_write(request.user, reg):
        return render(request, "workbench/forbidden.html", status=403)
    if (mfa := _second_factor(request)) is not None:
        return mfa
    response = HttpResponse(registry_import.template(reg.code), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="registry-{reg.code}-template.xlsx"'
    return response


@role_required(may_see_registries)
@require_http_methods(["GET", "POST"])
def registry_upload(request: HttpRequest, code: str) -> HttpResponse:
    reg = _registry(code)
    if not registries.may_write(request.user, reg):
        return render(request, "workbench/forbidden.html", status=403)
    if (mfa := _second_factor(request)) is not None:
        return mfa
    if request.method == "GET":
        return _import_page(request, reg)
    upload = request.FILES.get("file")
    if upload is None:
        return _import_page(request, reg, file_error=_("请选择要上传的 .xlsx 文件。"), status=400)
    owner = registries.owner_department(reg)
    assert owner is not None  # may_write found it
    try:
        outcome = registry_import.import_xlsx(
            reg.code, upload, upload.size or 0, department=owner, actor=request.user
        )
    except NotPermitted as exc:
        return _import_page(request, reg, file_error=exc.messages[0], status=403)
    if outcome.file_error:
        return _import_page(request, reg, file_error=outcome.file_error, status=400)
    result = outcome.result
    assert result is not None
    if not result.ok:
        bad_rows = []
        for number in sorted(outcome.row_values):
            values = outcome.row_values[number]
            # What the page repeats of the row: its subject (masked) and the messages.
            subject = mask_text(str(values.get(reg.subject_field) or ""))
            bad_rows.append(
                {
                    "row": number,
                    "subject": subject,
                    "errors": [e.message for e in result.errors if e.row == number],
                }
            )
        return _import_page(request, reg, bad_rows=bad_rows, rows=outcome.rows, status=400)
    return _import_page(request, reg, result=result, rows=outcome.rows)
