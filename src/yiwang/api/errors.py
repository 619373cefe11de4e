"""Error answers of the API, in the request's language (Chinese by default).

Every error body has a ``detail`` string a person can read; parameter errors (422) also list
``errors``, one per bad field, so a client can show each message next to its field.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, NinjaAPI, Schema
from ninja.errors import Throttled, ValidationError

from yiwang.core.errors import DomainError, NotPermitted


class ErrorOut(Schema):
    detail: str = Field(description="错误说明（按请求语言）/ what went wrong, in the request's language")


class FieldErrorOut(Schema):
    field: str = Field(description="出错的参数名 / the parameter at fault")
    location: str = Field(description="参数位置：query 或 path / where the parameter was sent")
    message: str = Field(description="错误说明 / what is wrong with it")
    type: str = Field(description="错误类型代码（机器可读）/ machine-readable error type")


class ValidationErrorOut(Schema):
    detail: str = Field(description="错误摘要 / summary")
    errors: list[FieldErrorOut] = Field(description="逐项错误 / one entry per bad parameter")


class ApiRefusal(Exception):
    """An answer decided before the operation ran (authentication, rate limit, a missing request
    id): ``{"code", "detail"}`` with ``status`` and extra headers (WWW-Authenticate, Retry-After)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


class NotFound(Http404):
    """A 404 whose message is safe to show (Django's own Http404 texts are not shown)."""


def _message(error: dict[str, Any]) -> str:
    """Pydantic's English message for an error type, said again in the request's language."""
    if "yiwang_message" in error:
        return error["yiwang_message"]
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind == "missing":
        return _("此参数为必填项。")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("应为整数。")
    if kind in {"bool_parsing", "bool_type"}:
        return _("应为 true 或 false。")
    if kind == "greater_than_equal":
        return _("应大于或等于 %(limit)s。") % {"limit": ctx.get("ge")}
    if kind == "greater_than":
        return _("应大于 %(limit)s。") % {"limit": ctx.get("gt")}
    if kind == "less_than_equal":
        return _("应小于或等于 %(limit)s。") % {"limit": ctx.get("le")}
    if kind == "less_than":
        return _("应小于 %(limit)s。") % {"limit": ctx.get("lt")}
    if kind == "string_too_short":
        n = ctx.get("min_length") or 0
        return ngettext("至少需要 %(n)s 个字符。", "至少需要 %(n)s 个字符。", n) % {"n": n}
    if kind == "string_too_long":
        n = ctx.get("max_length") or 0
        return ngettext("最多允许 %(n)s 个字符。", "最多允许 %(n)s 个字符。", n) % {"n": n}
    if kind == "string_pattern_mismatch":
        return _("格式不正确。")
    if kind in {"enum", "literal_error"}:
        return _("取值无效，可选值：%(expected)s。") % {"expected": ctx.get("expected", "")}
    return _("取值无效。")


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else ""
        field = ".".join(loc[1:]) or location
        out.append(
            {"field": field, "location": location, "message": _message(error), "type": error.get("type", "")}
        )
    return out


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _field_errors(exc)
        # Punctuation is translated too: "page：应大于…；…" in Chinese, "page: Must be…; …" in English.
        summary = _("；").join(_("%(field)s：%(message)s") % e for e in errors)
        detail = _("请求参数有误：%(errors)s") % {"errors": summary}
        return api.create_response(request, {"detail": detail, "errors": errors}, status=422)

    @api.exception_handler(ApiRefusal)
    def refusal(request: HttpRequest, exc: ApiRefusal) -> HttpResponse:
        response = api.create_response(request, {"code": exc.code, "detail": exc.detail}, status=exc.status)
        for name, value in exc.headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return response

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        message = str(exc) if isinstance(exc, NotFound) and str(exc) else _("未找到请求的资源。")
        return api.create_response(request, {"detail": message}, status=404)

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = max(1, int(exc.wait or 1))
        response = api.create_response(
            request,
            {
                "detail": ngettext(
                    "请求过于频繁，请 %(n)s 秒后再试。", "请求过于频繁，请 %(n)s 秒后再试。", wait
                )
                % {"n": wait}
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        # A service refused: a broken rule is the caller's input (422), a permission is 403.
        if isinstance(exc, NotPermitted):
            return api.create_response(request, {"detail": "；".join(exc.messages)}, status=403)
        errors = [
            {"field": e.field, "location": "", "message": e.message, "type": e.code} for e in exc.errors
        ]
        return api.create_response(
            request, {"detail": _("；").join(exc.messages), "errors": errors}, status=422
        )


def bad_parameter(field: str, message: str) -> ValidationError:
    """A 422 for a parameter that is well-formed but names nothing (e.g. an unknown region code)."""
    return ValidationError(
        [{"type": "not_found", "loc": ("query", field), "msg": message, "yiwang_message": message}]
    )
