"""Back-office pages: upload an implementation list, follow the run and read its row-by-row
report, download the report, an export of one's own items, or an empty template. Thin: the work
is in ``importing`` and ``exporting``, which also enforce the department scope."""

from __future__ import annotations

import logging
import tempfile
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.backends.django import Template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.catalog.models import ImportRun
from yiwang.core.middleware import client_ip
from yiwang.core.params import int_param
from yiwang.regions.models import Department, Region

from .exporting import export_items, write_template
from .progress import import_progress
from .reading import max_bytes
from .report import write_report
from .tasks import run_import

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = 500
TEMPLATES = Path(__file__).with_name("templates")


@cache
def _template(name: str) -> Template:
    # The page lives in this package rather than an app's templates/ folder; it still extends the
    # admin's base template through the project's normal loaders.
    return engines["django"].from_string((TEMPLATES / name).read_text(encoding="utf-8"))


def _page(request: HttpRequest, *, run: ImportRun | None = None, error: str = "") -> HttpResponse:
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("实施清单导入导出"),
        "error": error,
        "run": run,
        "runs": ImportRun.objects.filter(user=request.user).defer("errors").order_by("-started_at")[:10],
        "max_mb": max_bytes() / 1024 / 1024,
    }
    if run is not None:
        errors = run.errors or []
        done, total = import_progress(run)
        context.update(
            {
                "progress_done": done,
                "progress_total": total,
                "summary": run_summary(run),
                "rejected": bool(
                    run.finished_at and run.total_rows == 0 and errors and errors[0].get("row") is None
                ),
                "errors": errors[:SHOWN_ERRORS],
                "notices": (run.notices or [])[:SHOWN_ERRORS],
                "more_errors": max(len(errors) - SHOWN_ERRORS, 0),
            }
        )
    return HttpResponse(_template("import.html").render(context, request))


def run_summary(run: ImportRun) -> str:
    errors = run.errors or []
    if run.finished_at is None:
        done, total = import_progress(run)
        if total:
            return _("正在导入“%(name)s”：已处理 %(done)s / %(total)s 行，请稍候……") % {
                "name": run.file_name,
                "done": done,
                "total": total,
            }
        return _("正在导入“%(name)s”，请稍候……") % {"name": run.file_name}
    if run.total_rows == 0 and errors and errors[0].get("row") is None:
        return _("文件未导入：%(msg)s") % {"msg": errors[0]["message"]}
    seconds = (run.finished_at - run.started_at).total_seconds()
    return _("共 %(total)s 行：成功 %(ok)s 行，失败 %(failed)s 行；用时 %(s).1f 秒。") % {
        "total": run.total_rows,
        "ok": run.imported_rows,
        "failed": run.failed_rows,
        "s": seconds,
    }


def _spool():
    return tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending


def _xlsx_response(tmp, filename: str) -> FileResponse:
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX)


@staff_member_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, error=_("请选择要导入的 .xlsx 文件。"))
    if upload.size > max_bytes():
        return _page(
            request,
            error=_("文件大小为 %(size).1f MB，超过了导入上限 %(limit).1f MB；请按区划或部门拆分后分批导入。")
            % {"size": upload.size / 1024 / 1024, "limit": max_bytes() / 1024 / 1024},
        )
    run = ImportRun.objects.create(file_name=upload.name[:255], user=request.user)
    try:
        # Stored where a Celery worker on another machine can read it (S3 in production).
        stored = default_storage.save(f"imports/{run.pk}-{uuid.uuid4().hex}.xlsx", upload)
        run_import.delay(run.pk, stored, publish=bool(request.POST.get("publish")), ip=client_ip(request))
    except Exception:  # storage or broker down: say so instead of a 500
        log.exception("could not start import run %s", run.pk)
        message = _("导入任务未能启动（文件存储或任务队列不可用），请稍后重试或联系平台管理员。")
        ImportRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            errors=[{"row": None, "column": "", "header": "", "code": "", "message": message}],
        )
        return _page(request, error=message)
    return redirect("spreadsheets:run", run.pk)


def _own_run(request: HttpRequest, run_id: int) -> ImportRun:
    run = get_object_or_404(ImportRun.objects.select_related("user"), pk=run_id)
    if run.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return run


@staff_member_required
def run_view(request: HttpRequest, run_id: int) -> HttpResponse:
    return _page(request, run=_own_run(request, run_id))


@staff_member_required
def report_view(request: HttpRequest, run_id: int) -> FileResponse:
    run = _own_run(request, run_id)
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
        department = Department.objects.filter(pk=pk).first() if (pk := int_param(dept_id)) else None
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
