"""Open-data pages, downloads, DCAT JSON-LD and the CKAN Action API: thin views over
``datasets``, ``formats`` and ``ckan``."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import ckan, formats
from . import datasets as ds


class RequestUrls:
    """Absolute URLs for the request's host."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def dataset_page(self, name: str) -> str:
        return self.request.build_absolute_uri(reverse("opendata:dataset", args=[name]))

    def download(self, name: str, extension: str) -> str:
        return self.request.build_absolute_uri(reverse("opendata:download", args=[name, extension]))

    def catalog_page(self) -> str:
        return self.request.build_absolute_uri(reverse("opendata:index"))

    def help(self, action: str) -> str:
        return self.catalog_page() + "#api"


def _catalog_title() -> str:
    return _("%(platform)s · 数据开放") % {"platform": settings.YIWANG_PLATFORM_NAME}


def _catalog_description() -> str:
    return _(
        "政务服务事项目录、办事指南、服务大厅、行政区划和部门等不含个人信息的公共数据，按 CC BY 4.0 开放。"
    )


def _jsonld(data: dict[str, Any]) -> str:
    # Safe inside <script>: "<", ">" and "&" escaped as JSON unicode escapes.
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _dataset_or_404(name: str) -> ds.Dataset:
    found = ds.REGISTRY.get(name)
    if found is None:
        raise Http404(_("没有这个数据集"))
    return found


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    rows = [{"dataset": d, "modified": d.modified()} for d in ds.all_datasets()]
    urls = RequestUrls(request)
    return render(
        request,
        "supervision/opendata/index.html",
        {
            "rows": rows,
            "license_title": ds.LICENSE_TITLE,
            "license_url": ds.LICENSE_URL,
            "api_base": request.build_absolute_uri(reverse("opendata:index")),
            "jsonld": _jsonld(ckan.dcat_catalog(urls, _catalog_title(), _catalog_description())),
            "catalog_description": _catalog_description(),
        },
    )


@require_GET
def dataset(request: HttpRequest, name: str) -> HttpResponse:
    d = _dataset_or_404(name)
    urls = RequestUrls(request)
    return render(
        request,
        "supervision/opendata/dataset.html",
        {
            "dataset": d,
            "modified": d.modified(),
            "downloads": [
                {"format": f, "url": reverse("opendata:download", args=[d.name, f.extension])}
                for f in formats.FORMATS.values()
            ],
            "license_title": ds.LICENSE_TITLE,
            "license_url": ds.LICENSE_URL,
            "jsonld": _jsonld(ckan.dcat_dataset(d, urls)),
            "jsonld_url": reverse("opendata:dataset_jsonld", args=[d.name]),
            "api_url": reverse("opendata:action", args=["package_show"]) + f"?id={d.name}",
        },
    )


def _jsonld_response(data: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        content_type="application/ld+json; charset=utf-8",
    )


@require_GET
def dataset_jsonld(request: HttpRequest, name: str) -> HttpResponse:
    return _jsonld_response(ckan.dcat_dataset(_dataset_or_404(name), RequestUrls(request)))


@require_GET
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return _jsonld_response(ckan.dcat_catalog(RequestUrls(request), _catalog_title(), _catalog_description()))


@require_GET
def download(request: HttpRequest, name: str, extension: str) -> HttpResponse | StreamingHttpResponse:
    d = _dataset_or_404(name)
    fmt = formats.FORMATS.get(extension)
    if fmt is None:
        raise Http404(_("没有这种下载格式"))
    filename = f"{d.name}.{fmt.extension}"
    response: HttpResponse | StreamingHttpResponse
    if fmt is formats.XLSX:
        response = FileResponse(formats.xlsx_file(d), as_attachment=True, filename=filename)
        response["Content-Type"] = fmt.mimetype
        return response
    if fmt is formats.CSV:
        response = StreamingHttpResponse(formats.csv_lines(d), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = StreamingHttpResponse(
            formats.json_chunks(d), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _error(urls: RequestUrls, action: str, error: ckan.ActionError) -> JsonResponse:
    body = {"help": urls.help(action), "success": False, "error": error.as_dict()}
    return JsonResponse(body, status=error.status, json_dumps_params={"ensure_ascii": False})


def _params(request: HttpRequest) -> dict[str, Any]:
    """GET parameters, or the POSTed JSON object (what CKAN clients send), or a POSTed form."""
    if request.method == "GET":
        return {k: request.GET.get(k) for k in request.GET}
    body = request.body
    if not body.strip():
        return {}
    if (
        request.content_type == "application/x-www-form-urlencoded"
        or request.content_type == "multipart/form-data"
    ):
        return {k: request.POST.get(k) for k in request.POST}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ckan.ActionError("Bad Request", 400, _("请求体不是有效的 JSON")) from None
    if not isinstance(data, dict):
        raise ckan.ActionError("Bad Request", 400, _("请求体必须是 JSON 对象"))
    return data


@csrf_exempt
@require_http_methods(["GET", "POST"])
def action(request: HttpRequest, name: str) -> JsonResponse:
    urls = RequestUrls(request)
    fn = ckan.ACTIONS.get(name)
    try:
        if fn is None:
            raise ckan.ActionError("Bad Request", 400, _("不支持的操作：%(name)s") % {"name": name})
        result = fn(_params(request), urls)
    except ckan.ActionError as error:
        return _error(urls, name, error)
    body = {"help": urls.help(name), "success": True, "result": result}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
