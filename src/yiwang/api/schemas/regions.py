"""Regions and departments."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from yiwang.api.pagination import PageOut, PageParams
from yiwang.regions.models import DepartmentKind, RegionLevel

from .common import RegionRef

REGION_CODE_PATTERN = r"^\d{6}(\d{3})?$"


def _choice_label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value))


class RegionListParams(PageParams):
    level: int | None = Field(
        None, ge=1, le=4, description="只列出该层级：1 省，2 市，3 县，4 乡镇 / only this level"
    )
    parent: str | None = Field(
        None,
        pattern=REGION_CODE_PATTERN,
        description="只列出该区划的直接下级 / only the direct children of this region code",
    )


class RegionOut(Schema):
    code: str = Field(description="区划代码（GB/T 2260，乡镇为 9 位统计代码）/ region code")
    name: str = Field(description="区划名称 / name")
    level: int = Field(description="层级：1 省，2 市，3 县，4 乡镇街道 / level")
    level_label: str = Field(description="层级名称 / level label")
    parent_code: str | None = Field(description="上级区划代码，省级为 null / parent region code")
    children_count: int = Field(description="直接下级区划数 / number of direct children")

    @staticmethod
    def resolve_level_label(obj: Any) -> str:
        return _choice_label(RegionLevel.choices, obj.level)

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None


class RegionDetailOut(RegionOut):
    ancestors: list[RegionRef] = Field(
        description="从省级到上级区划的路径 / path from the province down to the parent"
    )
    department_count: int = Field(description="本区划的部门数 / departments of this region")


class RegionPage(PageOut):
    items: list[RegionOut] = Field(description="本页区划 / regions on this page")


class DepartmentListParams(PageParams):
    region: str | None = Field(None, pattern=REGION_CODE_PATTERN, description="区划代码 / region code")
    subtree: bool = Field(
        False, description="为 true 时包含该区划所有下级区划的部门 / with true, also every region below it"
    )
    kind: DepartmentKind | None = Field(None, description="部门类别 / department kind")


class DepartmentOut(Schema):
    id: int = Field(description="部门 ID / department id")
    name: str = Field(description="部门名称 / name")
    code: str = Field(description="本区划内三位部门代码（参与事项编码）/ 3-digit code within the region")
    kind: str = Field(description="部门类别代码 / kind code")
    kind_label: str = Field(description="部门类别名称 / kind label")
    region: RegionRef = Field(description="所属区划 / region")
    phone: str = Field(description="咨询电话 / enquiry phone")
    address: str = Field(description="地址 / address")

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return _choice_label(DepartmentKind.choices, obj.kind)


class DepartmentDetailOut(DepartmentOut):
    credit_code: str = Field(description="统一社会信用代码 / unified social credit code")
    published_item_count: int = Field(description="已发布的实施清单事项数 / number of published items")


class DepartmentPage(PageOut):
    items: list[DepartmentOut] = Field(description="本页部门 / departments on this page")
