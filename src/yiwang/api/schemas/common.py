"""Small shapes shared by several answers, and the enumerations accepted as filters."""

from __future__ import annotations

from enum import StrEnum

from ninja import Field, Schema


class AudienceFilter(StrEnum):
    """服务对象筛选：自然人 person，法人 company（“两者皆可”的事项两种筛选下都会出现）."""

    PERSON = "person"
    COMPANY = "company"


class RegionRef(Schema):
    code: str = Field(description="区划代码（GB/T 2260，乡镇为 9 位）/ region code")
    name: str = Field(description="区划名称 / region name")
    level: int = Field(description="层级：1 省，2 市，3 县，4 乡镇街道 / level 1 province … 4 township")


class DepartmentRef(Schema):
    id: int = Field(description="部门 ID / department id")
    name: str = Field(description="部门名称 / department name")
    code: str = Field(description="本区划内三位部门代码 / 3-digit department code within its region")
    kind: str = Field(description="部门类别代码（如 scjgj 市场监督管理）/ department kind code")


class CodeName(Schema):
    code: str = Field(description="代码 / code")
    name: str = Field(description="名称 / name")
