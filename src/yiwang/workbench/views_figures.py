"""The supervisor's figures (效能): /workbench/figures/. Sums of the day rollups over a date
range per department, region or item within the reader's scope (the warning roles' scopes:
supervisor, department head, platform administrator), sortable, with totals and an xlsx export
(``?format=xlsx``). Bad parameters show the page with the message next to the field (400)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from yiwang.supervision import figure_selectors, figures

from . import selectors
from .views import role_required

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(raw: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        errors[field] = _("请输入有效日期，如 2026-01-31。")
        return None


def _params(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    by = request.GET.get("by", "department")
    if by not in figure_selectors.GROUPS:
        errors["by"] = _("请选择按部门、区划或事项统计。")
        by = "department"
    end = _date(request.GET.get("to", ""), "to", errors) or today
    start = _date(request.GET.get("from", ""), "from", errors) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors["from"] = _("开始日期不能晚于结束日期。")
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    elif (end - start).days >= MAX_DAYS:
        errors["from"] = _("统计区间最长三年。")
        start = end - dt.timedelta(days=MAX_DAYS - 1)
    sort = request.GET.get("sort", "received")
    if sort not in figure_selectors.SORTABLE:
        sort = "received"
    descending = request.GET.get("dir", "desc") != "asc"
    return {"by": by, "start": start, "end": end, "sort": sort, "descending": descending}, errors


@role_required(selectors.may_watch_warnings)
def figures_page(request: HttpRequest) -> HttpResponse:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default has no beat: the deltas are folded when the figures are read.
        figures.fold()
    params, errors = _params(request)
    scope = selectors.case_scope_q(request.user, request.work_roles, selectors.WARNING_ROLES)  # type: ignore[attr-defined]  # set by role_required
    table = figure_selectors.figure_table(scope, **params)
    if request.GET.get("format") == "xlsx" and not errors:
        return _xlsx(table)
    columns = figure_selectors.SHOWN
    base = {"by": params["by"], "from": params["start"].isoformat(), "to": params["end"].isoformat()}
    headers = []
    for key, title in (("name", _("名称")), *((c.key, c.title) for c in columns)):
        active = key == params["sort"]
        flip = "asc" if active and params["descending"] else "desc"
        headers.append(
            {
                "key": key,
                "title": title,
                "query": urlencode({**base, "sort": key, "dir": flip}),
                "sort": ("descending" if params["descending"] else "ascending") if active else "",
            }
        )
    context = {
        "table": table,
        "headers": headers,
        "export": urlencode({**base, "sort": params["sort"], "format": "xlsx"}),
        "rows": [(r, [(c, r.value(c.key)) for c in columns]) for r in table.rows],
        "total": [(c, table.total.value(c.key)) for c in columns],
        "params": params,
        "errors": errors,
        "groups": (("department", _("按部门")), ("region", _("按区划")), ("item", _("按事项"))),
        "lag": figures.lag(),
    }
    return render(request, "workbench/figures.html", context, status=400 if errors else 200)


def _xlsx(table: figure_selectors.FigureTable) -> HttpResponse:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(_("效能统计")))
    columns = figure_selectors.SHOWN
    name_title = {"department": _("部门"), "region": _("区划"), "item": _("事项")}[table.by]
    ws.append([f"{table.start:%Y-%m-%d} — {table.end:%Y-%m-%d}"])
    ws.append([str(name_title), "", *[str(c.title) for c in columns]])
    for row in table.rows:
        ws.append([_text(row.name), _text(row.sub), *[row.value(c.key) for c in columns]])
    ws.append([str(_("合计")), "", *[table.total.value(c.key) for c in columns]])
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    name = f"figures-{table.by}-{table.start:%Y%m%d}-{table.end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _text(value: str) -> str:
    """A name a spreadsheet would take for a formula kept as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value
