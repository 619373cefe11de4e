"""/api/exchange/: the exchange API for department systems (issue 18, docs/exchange.md).

Thin: authentication (an access token from ``/o/token/`` by client credentials, scope
``exchange``, of a department system that is not revoked), the per-client rate limit and the
request id happen before the body is read; ``exchange.answering`` checks the grant, reads, logs
and keeps the answer. The answer is sent exactly as kept, so a replay is the same bytes.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Query, Router
from oauth2_provider.oauth2_backends import get_oauthlib_core

from yiwang.api.errors import ApiRefusal, ErrorOut
from yiwang.api.openapi import EXCHANGE_SECURITY
from yiwang.api.schemas.exchange_api import (
    REQUEST_ID,
    BulkLookupIn,
    BulkLookupOut,
    FeedOut,
    FeedParams,
    FiguresOut,
    FiguresParams,
    LookupIn,
    LookupOut,
    RefusalOut,
)
from yiwang.core import security
from yiwang.exchange import answering, clients, figure_selectors
from yiwang.exchange.models import ExchangeClient

SCOPE = "exchange"


def _bearer(request: HttpRequest) -> str:
    kind, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


def _client_of(request: HttpRequest) -> ExchangeClient:
    """The department system behind the bearer token, rate limit counted; else an ApiRefusal.
    A token already checked is answered from ``clients.cached_client`` (revocation forgets it)."""
    raw = _bearer(request)
    client = clients.cached_client(raw)
    if client is None:
        client = _checked_client(request, raw)
    count, seconds = security.parse_rate(client.rate_limit or settings.YIWANG_EXCHANGE_RATE)
    wait = security.hit(f"exchange:{client.application.client_id}", count, seconds)
    if wait:
        raise ApiRefusal(
            429,
            "rate_limited",
            ngettext("调用过于频繁，请 %(n)s 秒后再试。", "调用过于频繁，请 %(n)s 秒后再试。", wait)
            % {"n": wait},
            {"Retry-After": str(wait)},
        )
    return client


def _checked_client(request: HttpRequest, raw: str) -> ExchangeClient:
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        raise ApiRefusal(
            401,
            "invalid_token",
            _("缺少或无效的访问令牌，请以客户端凭据方式重新获取。"),
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    token = oauth_request.access_token
    client = (
        ExchangeClient.objects.select_related("application", "department")
        .filter(application_id=token.application_id, revoked_at__isnull=True)
        .first()
    )
    if client is None or not token.allow_scopes([SCOPE]):
        raise ApiRefusal(
            403,
            "insufficient_scope",
            _("访问令牌不是部门系统以“exchange”权限范围获取的令牌。"),
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{SCOPE}"'},
        )
    clients.remember_client(raw, client, token.expires)
    return client


def exchange_auth(request: HttpRequest) -> ExchangeClient:
    """ninja ``auth`` callable: runs before the body is parsed (a request without a token is a
    401 whatever its body). Declares no security scheme of its own (``EXCHANGE_SECURITY``)."""
    return _client_of(request)


exchange_router = Router(tags=["exchange 数据共享交换"], auth=exchange_auth)
figures_router = Router(tags=["exchange 数据共享交换"])

_ERRORS = {401: RefusalOut, 403: RefusalOut, 409: RefusalOut, 429: RefusalOut, 503: RefusalOut}


def _request_id(request: HttpRequest, in_body: str | None) -> str:
    header = request.headers.get("X-Request-Id", "").strip()
    value = in_body or header
    if not value or not re.fullmatch(REQUEST_ID, value):
        raise ApiRefusal(
            422,
            "request_id_missing",
            _("请提供请求编号（request_id 或 X-Request-Id，1–64 位字母、数字或 ._:-）。"),
        )
    return value


def _respond(answer: answering.Answer) -> HttpResponse:
    response = JsonResponse(answer.body, status=answer.status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    if answer.replayed:
        response["X-Request-Replayed"] = "true"
    return response


def _call(
    request: HttpRequest, payload: LookupIn | BulkLookupIn | FeedParams, fields: list[str]
) -> answering.Call:
    return answering.Call(
        client=request.auth,  # type: ignore[attr-defined]
        request_id=_request_id(request, payload.request_id),
        resource_code=payload.resource.strip(),
        fields=list(dict.fromkeys(f.strip() for f in fields if f.strip())),
        purpose=payload.purpose.strip(),
        case_number=payload.case_number.strip(),
    )


_DOC = (
    "部门系统以客户端凭据（client_credentials，scope=exchange）在 /o/token/ 获取访问令牌。"
    "须本部门对该资源有在有效期内、用途一致且包含全部所请求字段的授权，否则 403 并给出代码，不返回任何数据。"
    "每次调用（答复、拒绝、失败）都记入交换日志。"
    " / A department system's token (client credentials, scope exchange). Needs a live grant for the "
    "purpose covering every field asked; otherwise 403 with a code and nothing returned. Every call is logged."
)


@exchange_router.post(
    "/lookup",
    response={200: LookupOut, **_ERRORS},
    summary="单个查询 / single lookup",
    description=_DOC,
    openapi_extra={"security": EXCHANGE_SECURITY},
)
def lookup(request: HttpRequest, payload: LookupIn):
    call = _call(request, payload, payload.fields)
    return _respond(answering.lookup(call, [payload.subject]))


@exchange_router.post(
    "/lookup/bulk",
    response={200: BulkLookupOut, **_ERRORS},
    summary="批量查询（最多 1000 个对象）/ bulk lookup, up to 1,000 subjects",
    description=_DOC + " 一次调用一条日志 / one log entry per call.",
    openapi_extra={"security": EXCHANGE_SECURITY},
)
def bulk_lookup(request: HttpRequest, payload: BulkLookupIn):
    call = _call(request, payload, payload.fields)
    return _respond(answering.lookup(call, payload.subjects, bulk=True))


@exchange_router.get(
    "/changes",
    response={200: FeedOut, **_ERRORS},
    summary="变更订阅（按游标）/ change feed since a cursor",
    description=(
        _DOC + " 保存同步副本的部门按 next_cursor 逐页读取；case_number 可选：副本不为单一案件服务。"
        " / For departments keeping a copy; case_number optional: a copy serves no single case."
    ),
    openapi_extra={"security": EXCHANGE_SECURITY},
)
def changes(request: HttpRequest, params: Query[FeedParams]):
    call = _call(request, params, params.fields.split(","))
    return _respond(answering.feed(call, since=params.since, limit=params.limit))


@figures_router.get(
    "",
    response={200: FiguresOut, 422: ErrorOut},
    summary="交换统计 / exchange figures",
    description=(
        "按日、基础库、使用部门：交换记录数、已答复、已拒绝、失败请求数；按基础库合计及现存记录数。"
        "由交换日志封存时汇总（有数秒延迟）。默认最近 30 天，最多一年。"
        " / Per day, registry and consuming department; totals and records stored per registry. "
        "Folded when the log is sealed. Last 30 days by default, at most a year."
    ),
)
def figures(request: HttpRequest, params: Query[FiguresParams]):
    return figure_selectors.daily_figures(
        since=params.since,
        until=params.until,
        registry=params.registry or "",
        department_id=params.department,
    )
