"""/api/search: full-text search over published items (the search package does the work)."""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from yiwang.api.errors import ValidationErrorOut, bad_parameter
from yiwang.api.pagination import page_envelope
from yiwang.api.params import department_param, region_param
from yiwang.api.schemas.catalog import SearchPage, SearchParams
from yiwang.catalog.search import search_items

search_router = Router(tags=["search 检索"])


@search_router.get(
    "",
    response={200: SearchPage, 422: ValidationErrorOut},
    summary="检索已发布事项 / search published items",
    description=(
        "按相关度排序；支持中文词、单字、拼音及同义词，可与区划、部门、服务对象、事项类型、层级筛选组合。"
        "region 包含该区划及所有下级区划的事项；near（办事人所在区划）的事项排在前面，其次是上级、下辖区划。"
        " / Ranked by relevance; Chinese words, single characters, pinyin and synonyms; combines with filters."
        " region covers that region and every region below it."
        " near (the reader's region) ranks its items first, then its ancestors', then those below it."
    ),
)
def search(request: HttpRequest, params: Query[SearchParams]):
    q = params.q.strip()
    if not q:
        raise bad_parameter("q", _("检索词不能为空。"))
    region_param(params.region)
    region_param(params.near, "near")
    department_param(params.department)
    result = search_items(
        q,
        region_code=params.region,
        department_id=params.department,
        audience=getattr(params.audience, "value", None),
        item_type=getattr(params.item_type, "value", None),
        level=params.level,
        page=params.page,
        per_page=params.page_size,
        prefer_region=params.near,
    )
    items = list(result.items)
    # The search package may or may not join these; either way this is at most two queries.
    prefetch_related_objects(items, "region", "department")
    envelope = page_envelope(items, total=result.total, page=result.page, page_size=result.per_page)
    return {**envelope, "total_capped": result.total_capped}
