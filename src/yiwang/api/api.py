"""The REST API (django-ninja): one router per app, OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="yiwang API",
    version="1",
    description="一网 yiwang: 政务服务目录、办事指南与检索接口 (read-only catalogue API).",
    urls_namespace="api",
)


@api.get("/health", tags=["platform"], summary="Liveness check")
def health(request):
    return {"status": "ok"}
