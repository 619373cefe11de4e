"""/api/exchange/catalogue/: the sharing catalogue (政务信息资源目录) as published.

Metadata only (resources, their fields and sharing terms), never registry data: reading data
takes a grant (``exchange.grant_selectors``) and the exchange API, not this router.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from yiwang.api.errors import ErrorOut, NotFound, ValidationErrorOut
from yiwang.api.pagination import paginate
from yiwang.api.params import department_param
from yiwang.api.schemas.exchange import ResourceDetailOut, ResourceListParams, ResourcePage
from yiwang.exchange import catalogue_selectors
from yiwang.exchange.models import DataResource

catalogue_router = Router(tags=["exchange 数据共享"])


@catalogue_router.get(
    "/",
    response={200: ResourcePage, 422: ValidationErrorOut},
    summary="共享目录 / the sharing catalogue",
    description=(
        "已发布的政务信息资源，按资源代码排序；可按提供部门、所属基础库、共享类型筛选，q 检索名称、代码和字段名称。"
        " / Published resources by code; filter by department, registry, sharing type; q searches the name, "
        "the code and field names."
    ),
)
def list_resources(request: HttpRequest, params: Query[ResourceListParams]):
    filters = catalogue_selectors.CatalogueFilters(
        q=(params.q or "").strip(),
        department_id=department_param(params.department),
        registry=params.registry or "",
        sharing_type=params.sharing_type or "",
    )
    return paginate(catalogue_selectors.catalogue(filters), params)


@catalogue_router.get(
    "/{code}",
    response={200: ResourceDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="共享资源详情 / one resource",
    description="含信息项（字段）及其敏感级别。/ With its fields and their sensitivity.",
)
def get_resource(
    request: HttpRequest, code: str = Path(..., max_length=32, description="资源代码 / resource code")
) -> DataResource:
    resource = catalogue_selectors.resource_by_code(code)
    if resource is None:
        raise NotFound(_("共享资源 %(code)s 不存在。") % {"code": code})
    return resource
