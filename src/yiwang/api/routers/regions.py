"""/api/regions/ and /api/departments/."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from yiwang.api import selectors
from yiwang.api.errors import ErrorOut, NotFound, ValidationErrorOut
from yiwang.api.pagination import paginate
from yiwang.api.params import region_param
from yiwang.api.schemas.regions import (
    DepartmentDetailOut,
    DepartmentListParams,
    DepartmentPage,
    RegionDetailOut,
    RegionListParams,
    RegionPage,
)
from yiwang.core.params import MAX_ID

regions_router = Router(tags=["regions 行政区划"])
departments_router = Router(tags=["departments 部门"])


@regions_router.get(
    "/",
    response={200: RegionPage, 422: ValidationErrorOut},
    summary="行政区划列表 / list regions",
    description="按代码排序；可按层级、上级区划筛选。/ Ordered by code; filter by level or parent.",
)
def list_regions(request: HttpRequest, params: Query[RegionListParams]):
    parent = region_param(params.parent, "parent")
    return paginate(selectors.regions(level=params.level, parent=parent), params)


@regions_router.get(
    "/{code}",
    response={200: RegionDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="区划详情 / one region",
    description="含直接下级数、部门数及从省级起的上级路径。/ With children count, departments count and ancestors.",
)
def get_region(
    request: HttpRequest, code: str = Path(..., max_length=12, description="区划代码 / region code")
):
    region = selectors.region_detail(code)
    if region is None:
        raise NotFound(_("区划代码 %(code)s 不存在。") % {"code": code})
    region.ancestors = selectors.ancestors(region)
    region.department_count = region.departments.count()
    return region


@departments_router.get(
    "/",
    response={200: DepartmentPage, 422: ValidationErrorOut},
    summary="部门列表 / list departments",
    description=(
        "按区划代码、部门代码排序。region 只列该区划的部门；加 subtree=true 列出该区划及所有下级区划的部门。"
        " / Ordered by region and department code. region alone: that region only; with subtree=true: "
        "every region below it too."
    ),
)
def list_departments(request: HttpRequest, params: Query[DepartmentListParams]):
    region = region_param(params.region)
    qs = selectors.departments(region=region, subtree=params.subtree, kind=params.kind)
    return paginate(qs, params)


@departments_router.get(
    "/{department_id}",
    response={200: DepartmentDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="部门详情 / one department",
)
def get_department(
    request: HttpRequest,
    department_id: int = Path(..., ge=1, le=MAX_ID, description="部门 ID / department id"),
):
    department = selectors.department_detail(department_id)
    if department is None:
        raise NotFound(_("部门 %(id)s 不存在。") % {"id": department_id})
    department.published_item_count = selectors.published_item_count(department)
    return department
