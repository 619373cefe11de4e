"""The sharing catalogue (政务信息资源目录): resources and their fields."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from yiwang.api.pagination import PageOut, PageParams
from yiwang.core.params import MAX_ID
from yiwang.exchange.models import DataType, Registry, Sensitivity, SharingType, UpdateCycle

from .common import DepartmentRef, RegionRef


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value))


class ResourceListParams(PageParams):
    q: str | None = Field(
        None,
        max_length=60,
        description="资源名称、代码或字段名称中的文字 / text in the name, code or a field name",
    )
    department: int | None = Field(None, ge=1, le=MAX_ID, description="提供部门 ID / providing department id")
    registry: Registry | None = Field(None, description="所属基础库 / base registry")
    sharing_type: SharingType | None = Field(None, description="共享类型 / sharing type")


class ResourceDepartmentOut(DepartmentRef):
    region: RegionRef = Field(description="部门所属区划 / the department's region")


class ResourceFieldOut(Schema):
    code: str = Field(description="字段代码 / field code")
    name: str = Field(description="字段名称 / field name")
    data_type: DataType = Field(description="数据类型 / data type")
    sensitivity: Sensitivity = Field(description="敏感级别 / sensitivity")
    sensitivity_label: str = Field(description="敏感级别名称 / sensitivity label")
    description: str = Field(description="说明 / description")

    @staticmethod
    def resolve_sensitivity_label(obj: Any) -> str:
        return _label(Sensitivity.choices, obj.sensitivity)


class ResourceOut(Schema):
    code: str = Field(description="资源代码（区划代码+部门代码-顺序号）/ resource code")
    name: str = Field(description="资源名称 / name")
    department: ResourceDepartmentOut = Field(description="提供部门 / providing department")
    registry: Registry = Field(description="所属基础库 / base registry")
    registry_label: str = Field(description="所属基础库名称 / base registry label")
    sharing_type: SharingType = Field(description="共享类型 / sharing type")
    sharing_type_label: str = Field(description="共享类型名称 / sharing type label")
    update_cycle: UpdateCycle = Field(description="更新周期 / update cycle")
    open_data: bool = Field(description="是否向社会开放 / open data")

    @staticmethod
    def resolve_registry_label(obj: Any) -> str:
        return _label(Registry.choices, obj.registry)

    @staticmethod
    def resolve_sharing_type_label(obj: Any) -> str:
        return _label(SharingType.choices, obj.sharing_type)


class ResourceDetailOut(ResourceOut):
    description: str = Field(description="资源摘要 / summary")
    legal_basis: str = Field(description="法律依据 / legal basis")
    sharing_reason: str = Field(description="共享条件或不予共享理由 / condition or reason")
    fields: list[ResourceFieldOut] = Field(description="信息项 / fields")

    @staticmethod
    def resolve_fields(obj: Any) -> list[Any]:
        return list(obj.fields.all())


class ResourcePage(PageOut):
    items: list[ResourceOut] = Field(description="本页资源 / resources on this page")
