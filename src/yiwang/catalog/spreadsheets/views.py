"""Back-office pages: upload an implementation list, see the row-by-row report, download the
report, an export of one's own items, or an empty template. Thin: the work is in ``importing``
and ``exporting``, which also enforce the department scope."""

from __future__ import annotations

import logging
import tempfile
from functools import cache
from pathlib import Path

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.template.backends.django import Template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.catalog.models import ImportRun
from yiwang.regions.models import Department, Region

from .exporting import export_items, write_template
from .importing import ImportResult, RowError, import_items
from .reading import max_bytes
from .report import write_report

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = 500
TEMPLATES = Path(__file__).with_name("templates")


@cache
def _template(name: str) -> Template:
    # The page lives in this package rather than an app's templates/ folder; it still extends the
    # admin's base template through the project's normal loaders.
    return engines["django"].from_string((TEMPLATES / name).read_text(encoding="utf-8"))


def _render(request: HttpRequest, context: dict) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": _("实施清单导入导出"), **context}
    return HttpResponse(_template("import.html").render(context, request))


def _spool():
    return tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending


def _xlsx_response(tmp, filename: str) -> FileResponse:
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX)


@staff_member_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    result: ImportResult | None = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要导入的 .xlsx 文件。")
        elif upload.size > max_bytes():
            error = _(
                "文件大小为 %(size).1f MB，超过了导入上限 %(limit).1f MB；请按区划或部门拆分后分批导入。"
            ) % {
                "size": upload.size / 1024 / 1024,
                "limit": max_bytes() / 1024 / 1024,
            }
        else:
            try:
                result = import_items(
                    upload,
                    user=request.user,
                    publish=bool(request.POST.get("publish")),
                    file_name=upload.name,
                )
            except Exception:  # the import reports bad content itself; this is the last line of defence
                log.exception("import of %s failed", upload.name)
                error = _("导入时发生内部错误，文件未能处理；请联系平台管理员。")
    return _page(request, result=result, error=error)


def _page(request: HttpRequest, *, result: ImportResult | None = None, error: str = "") -> HttpResponse:
    runs = ImportRun.objects.filter(user=request.user).order_by("-started_at")[:10]
    errors: list[RowError] = result.errors[:SHOWN_ERRORS] if result else []
    return _render(
        request,
        {
            "result": result,
            "error": error,
            "errors": errors,
            "more_errors": (len(result.errors) - len(errors)) if result else 0,
            "runs": runs,
            "max_mb": max_bytes() / 1024 / 1024,
        },
    )


@staff_member_required
def report_view(request: HttpRequest, run_id: int) -> FileResponse:
    run = get_object_or_404(ImportRun, pk=run_id)
    if run.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    tmp = _spool()
    write_report(run, tmp)
    return _xlsx_response(tmp, f"导入报告-{run.pk}.xlsx")


@staff_member_required
def export_view(request: HttpRequest) -> HttpResponse:
    region = department = None
    if code := request.GET.get("region", "").strip():
        region = Region.objects.filter(code=code).first()
        if region is None:
            return _page(request, error=_("区划代码“%(code)s”不存在。") % {"code": code[:20]})
    if dept_id := request.GET.get("department", "").strip():
        department = Department.objects.filter(pk=dept_id).first() if dept_id.isdigit() else None
        if department is None:
            return _page(request, error=_("部门 ID“%(id)s”不存在。") % {"id": dept_id[:20]})
    tmp = _spool()
    export_items(tmp, region=region, department=department, user=request.user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx_response(tmp, f"实施清单-{stamp}.xlsx")


@staff_member_required
def template_view(request: HttpRequest) -> FileResponse:
    tmp = _spool()
    write_template(tmp)
    return _xlsx_response(tmp, "实施清单模板.xlsx")
