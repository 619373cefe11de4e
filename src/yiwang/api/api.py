"""The REST API (django-ninja): one router per app, OpenAPI at /api/openapi.json, docs at /api/docs.

Read-only and public: the catalogue as published (regions, departments, published items and
their guides, the standard catalogue, themes, life events, search). See docs/api.md.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, NinjaAPI, Schema

from yiwang.api import errors, openapi
from yiwang.api.caching import public_cache
from yiwang.api.routers.account import account_router
from yiwang.api.routers.catalog import items_router, life_events_router, standard_router, themes_router
from yiwang.api.routers.exchange import catalogue_router
from yiwang.api.routers.exchange_api import exchange_router, figures_router
from yiwang.api.routers.regions import departments_router, regions_router
from yiwang.api.routers.search import search_router
from yiwang.api.throttling import ConfigurableAnonRateThrottle


class YiwangAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None):
        # Security schemes and the API-wide error answers (api/openapi.py).
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return openapi.complete(schema)


class HealthOut(Schema):
    status: str = Field(description="固定为 ok / always ok", examples=["ok"])


api = YiwangAPI(
    title="yiwang API",
    version="1",
    description=(
        "一网 yiwang：政务服务目录、办事指南与检索接口（只读、公开数据）。\n\n"
        "Read-only catalogue API: regions, departments, published service items and their guides, "
        "the standard catalogue, themes, life-event bundles and search.\n\n"
        "列表接口统一分页：`page`（从 1 开始）、`page_size`（1–100，默认 20），返回 total、pages、has_next。"
        '错误返回 JSON：`{"detail": "..."}`（按 Accept-Language，默认简体中文）；参数错误为 422，并在 '
        "`errors` 中逐项列出出错的参数。\n\n"
        "Lists share page/page_size pagination. Errors are JSON with a `detail` message in the "
        "request's language; bad parameters answer 422 with one `errors` entry per field."
    ),
    urls_namespace="api",
    throttle=[ConfigurableAnonRateThrottle()],
)
errors.install(api)

# The public catalogue: the same answer for everyone, so proxies may cache it briefly.
for prefix, router in (
    ("/regions/", regions_router),
    ("/departments/", departments_router),
    ("/items/", items_router),
    ("/standard-items/", standard_router),
    ("/themes/", themes_router),
    ("/life-events/", life_events_router),
    ("/search", search_router),
    ("/exchange/catalogue/", catalogue_router),
    ("/exchange/figures", figures_router),
):
    router.add_decorator(public_cache, mode="view")
    api.add_router(prefix, router)
api.add_router("/account/", account_router)
api.add_router("/exchange/", exchange_router)


@api.get("/health", response=HealthOut, tags=["platform 平台"], summary="存活检查 / liveness check")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}
