"""The exchange API's requests and answers (department systems reading base registries)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator

REQUEST_ID = r"^[A-Za-z0-9._:\-]{1,64}$"
_REQUEST_ID_DOC = (
    "请求编号（也可用 X-Request-Id 请求头）：同一编号再次请求返回首次应答，不再读取、不再记日志 / "
    "request id (or the X-Request-Id header): sent again, the first answer comes back, "
    "with no second read and no second log entry"
)


def _iso_date_only(value: object) -> object:
    """A date parameter is written YYYY-MM-DD: pydantic would also read a number ("0") as a
    Unix time, which the OpenAPI schema (format: date) does not allow."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class _Call(Schema):
    resource: str = Field(..., min_length=1, max_length=40, description="共享资源代码 / resource code")
    fields: list[str] = Field(
        ...,
        min_length=1,
        max_length=100,
        description="请求的字段代码，须全部在授权范围内 / field codes, all granted",
    )
    purpose: str = Field(
        ..., min_length=1, max_length=200, description="使用用途，须与授权用途一致 / purpose, as granted"
    )
    request_id: str | None = Field(None, pattern=REQUEST_ID, description=_REQUEST_ID_DOC)


class LookupIn(_Call):
    subject: str = Field(
        ..., min_length=1, max_length=40, description="身份证号或统一社会信用代码 / ID number or credit code"
    )
    case_number: str = Field(
        ..., min_length=1, max_length=24, description="所办案件编号 / the case it serves"
    )


class BulkLookupIn(_Call):
    subjects: list[str] = Field(
        ...,
        min_length=1,
        max_length=10000,
        description="查询对象，最多 1000 个（超过则拒绝：too_many_subjects）/ up to 1,000 subjects",
    )
    case_number: str = Field(
        ..., min_length=1, max_length=24, description="所办案件编号 / the case it serves"
    )


class FeedParams(Schema):
    resource: str = Field(..., min_length=1, max_length=40, description="共享资源代码 / resource code")
    fields: str = Field(
        ...,
        min_length=1,
        max_length=2000,
        description="字段代码，以逗号分隔，须全部在授权范围内 / comma-separated field codes, all granted",
    )
    purpose: str = Field(..., min_length=1, max_length=200, description="使用用途 / purpose, as granted")
    case_number: str = Field(
        "",
        max_length=24,
        description="可选：同步副本不为单一案件服务 / optional: a synchronised copy serves no single case",
    )
    since: int = Field(0, ge=0, le=2**63 - 1, description="游标：上一页的 next_cursor / cursor")
    limit: int = Field(1000, ge=1, le=5000, description="每页条数 / rows per page")
    request_id: str | None = Field(None, pattern=REQUEST_ID, description=_REQUEST_ID_DOC)


class _Answer(Schema):
    request_id: str = Field(description="请求编号 / request id")
    resource: str = Field(description="共享资源代码 / resource code")
    registry: str = Field(description="基础库代码 / registry code")
    fields: list[str] = Field(description="返回的字段 / fields returned")


class LookupOut(_Answer):
    subject: str = Field(description="查询对象 / the subject asked for")
    records: list[dict[str, Any]] = Field(
        description="现行记录：仅授权字段及 _version、_valid_from / current records: granted fields only"
    )


class SubjectRecordsOut(Schema):
    subject: str
    records: list[dict[str, Any]]


class BulkLookupOut(_Answer):
    found: int = Field(description="有记录的对象数 / subjects with records")
    results: list[SubjectRecordsOut] = Field(description="按请求顺序 / in request order")


class FeedOut(_Answer):
    since: int
    next_cursor: int = Field(description="下一页的 since / the next page's since")
    has_more: bool
    changes: list[dict[str, Any]] = Field(description="_seq、_subject_hash、_op 及授权字段 / rows")


class RefusalOut(Schema):
    code: str = Field(
        description=(
            "机器可读代码 / machine code: invalid_token, insufficient_scope, no_grant, expired, revoked, "
            "field_not_granted, wrong_purpose, unknown_resource, too_many_subjects, rate_limited, "
            "request_id_reused, registry_unavailable, request_id_missing"
        )
    )
    detail: str = Field(description="说明（按请求语言）/ message in the request's language")
    request_id: str | None = None


class FiguresParams(Schema):
    since: IsoDate | None = Field(None, description="起始日期（含），默认 30 天前 / first day")
    until: IsoDate | None = Field(None, description="截止日期（含），默认今天 / last day")
    registry: str | None = Field(None, max_length=24, description="基础库代码 / registry code")
    department: int | None = Field(None, ge=1, le=2**63 - 1, description="使用部门 ID / consuming department")


class FigureRowOut(Schema):
    day: dt.date
    registry: str
    registry_label: str
    department_id: int
    department: str
    exchanged: int = Field(description="交换记录数 / records exchanged")
    answered: int = Field(description="已答复请求数 / requests answered")
    refused: int = Field(description="已拒绝请求数 / requests refused")
    failed: int = Field(description="提供方无响应 / requests failed")


class RegistryTotalOut(Schema):
    registry: str
    registry_label: str
    exchanged: int
    refused: int
    failed: int
    stored: int | None = Field(description="基础库现存记录数 / records kept by the registry")


class FiguresOut(Schema):
    since: dt.date
    until: dt.date
    rows: list[FigureRowOut]
    totals: list[RegistryTotalOut]
