"""Page-number pagination shared by every list endpoint: ``page`` and ``page_size`` in, one
envelope out (items, total, page, page_size, pages, has_next).

Views pass an ordered queryset; ordering must end on a unique column so that pages do not
overlap or skip rows between requests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema

from yiwang.core.params import MAX_PAGE

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始 / page number, starting at 1")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"每页条数，1–{MAX_PAGE_SIZE} / items per page, 1–{MAX_PAGE_SIZE}",
    )


class PageOut(Schema):
    """The envelope; each list endpoint subclasses it with a typed ``items`` list."""

    total: int = Field(description="符合条件的总条数 / number of matching items")
    page: int = Field(description="当前页码 / this page")
    page_size: int = Field(description="每页条数 / items per page")
    pages: int = Field(description="总页数 / number of pages")
    has_next: bool = Field(description="是否还有下一页 / whether a next page exists")


def page_envelope(items: Sequence[Any], *, total: int, page: int, page_size: int) -> dict[str, Any]:
    return {
        "items": list(items),
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": math.ceil(total / page_size) if total else 0,
        "has_next": page * page_size < total,
    }


def paginate(
    queryset: QuerySet, params: PageParams, *, fetch: Callable[[list[Any]], Sequence[Any]] | None = None
) -> dict[str, Any]:
    """One COUNT and one SELECT of at most ``page_size`` rows; a page past the end is empty.

    With ``fetch``, the page is found as a list of primary keys first and ``fetch(keys)`` loads
    the rows (in any order; they are put back in page order). A deep page then skips rows on
    the narrow filtered query only, instead of joining and extracting JSON for every skipped
    row (page 3,000 of 70,000 items: 1.0 s before, see docs/api.md).
    """
    total = queryset.count()
    offset = (params.page - 1) * params.page_size
    if offset >= total:
        return page_envelope([], total=total, page=params.page, page_size=params.page_size)
    window = slice(offset, offset + params.page_size)
    if fetch is None:
        items = list(queryset[window])
    else:
        keys = list(queryset.values_list("pk", flat=True)[window])
        by_key = {obj.pk: obj for obj in fetch(keys)}
        items = [by_key[k] for k in keys if k in by_key]
    return page_envelope(items, total=total, page=params.page, page_size=params.page_size)
