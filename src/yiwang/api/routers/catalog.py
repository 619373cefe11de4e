"""/api/items/, /api/standard-items/, /api/themes/, /api/life-events/: published data only."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from yiwang.api import selectors
from yiwang.api.errors import ErrorOut, NotFound, ValidationErrorOut
from yiwang.api.pagination import paginate
from yiwang.api.params import department_param, region_param, theme_param
from yiwang.api.schemas.catalog import (
    AudienceParams,
    GuideOut,
    ItemListParams,
    ItemPage,
    LifeEventPage,
    StandardItemDetailOut,
    StandardItemListParams,
    StandardItemPage,
    ThemePage,
    VersionListOut,
)

items_router = Router(tags=["items 实施清单与办事指南"])
standard_router = Router(tags=["standard-items 基本目录"])
themes_router = Router(tags=["themes 主题"])
life_events_router = Router(tags=["life-events 一件事"])

ITEM_CODE = Path(..., max_length=32, description="实施编码（23 位）/ item code")


def _value(choice: object) -> str | None:
    return getattr(choice, "value", choice)  # type: ignore[return-value]


@items_router.get(
    "/",
    response={200: ItemPage, 422: ValidationErrorOut},
    summary="已发布事项列表 / list published items",
    description=(
        "只含当前发布版本，按实施编码排序；所有筛选条件同时生效。region 只列该区划的事项，加 subtree=true "
        "包含所有下级区划。/ Current published versions only, ordered by item code; filters combine. "
        "region alone: that region; with subtree=true: that region and every region below it."
    ),
)
def list_items(request: HttpRequest, params: Query[ItemListParams]):
    f = selectors.ItemFilter(
        region=region_param(params.region),
        subtree=params.subtree,
        department_id=department_param(params.department),
        department_kind=_value(params.department_kind),
        audience=_value(params.audience),
        item_type=_value(params.item_type),
        level=params.level,
        theme=theme_param(params.theme),
    )
    return paginate(selectors.published_items(f), params, fetch=selectors.item_summaries)


@items_router.get(
    "/{code}",
    response={200: GuideOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="办事指南 / the guide of an item",
    description="当前发布版本的全部要素。/ Every element of the current published version.",
)
def get_item(request: HttpRequest, code: str = ITEM_CODE):
    version = selectors.current_version(code)
    if version is None:
        raise NotFound(_("事项 %(code)s 不存在或未发布。") % {"code": code})
    return version


@items_router.get(
    "/{code}/versions",
    response={200: VersionListOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="发布版本历史 / published versions of an item",
    description="新版本在前，每个版本列出与上一版本相比的变更。/ Newest first, each with its changes.",
)
def list_item_versions(request: HttpRequest, code: str = ITEM_CODE):
    versions = selectors.item_versions(code)
    if not versions:
        raise NotFound(_("事项 %(code)s 不存在或未发布。") % {"code": code})
    return {"code": code, "versions": versions}


@standard_router.get(
    "/",
    response={200: StandardItemPage, 422: ValidationErrorOut},
    summary="基本目录事项列表 / list standard items",
    description="按基本编码排序。/ Ordered by basic code.",
)
def list_standard_items(request: HttpRequest, params: Query[StandardItemListParams]):
    qs = selectors.standard_items(
        item_type=_value(params.item_type),
        department_kind=_value(params.department_kind),
        audience=_value(params.audience),
        theme=theme_param(params.theme),
    )
    return paginate(qs, params)


@standard_router.get(
    "/{basic_code}",
    response={200: StandardItemDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="基本目录事项详情（含申请材料）/ one standard item with its materials",
)
def get_standard_item(
    request: HttpRequest,
    basic_code: str = Path(..., max_length=11, description="基本编码（11 位）/ basic code"),
):
    standard = selectors.standard_item_detail(basic_code)
    if standard is None:
        raise NotFound(_("基本目录事项 %(code)s 不存在。") % {"code": basic_code})
    standard.implementation_count = selectors.published_implementation_count(standard)
    return standard


@themes_router.get(
    "/",
    response={200: ThemePage, 422: ValidationErrorOut},
    summary="主题列表 / list themes",
    description="自然人主题与法人主题，可按服务对象筛选。/ Person and company themes.",
)
def list_themes(request: HttpRequest, params: Query[AudienceParams]):
    return paginate(selectors.themes(audience=_value(params.audience)), params)


@life_events_router.get(
    "/",
    response={200: LifeEventPage, 422: ValidationErrorOut},
    summary="一件事列表 / list life-event bundles",
    description="每个一件事列出其包含的基本目录事项。/ Each with the standard items it bundles.",
)
def list_life_events(request: HttpRequest, params: Query[AudienceParams]):
    return paginate(selectors.life_events(audience=_value(params.audience)), params)
