"""Published items (实施清单), their guides and versions, the standard catalogue, themes and
life events.

``GuideElements`` documents every element of a published guide, the same keys as
``ServiceItemVersion.elements``. Coded values (item type, audience, online depth, channels,
material form/requirement/source) are given as codes; ``*_label`` fields and ``labels`` carry
their names in the request's language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from yiwang.api.pagination import PageOut, PageParams
from yiwang.catalog.models import (
    Audience,
    Channel,
    ItemType,
    MaterialForm,
    MaterialRequirementKind,
    MaterialSource,
    OnlineDepth,
    ServiceItem,
)
from yiwang.core.params import MAX_ID
from yiwang.regions.models import DepartmentKind

from .common import AudienceFilter, CodeName, DepartmentRef, RegionRef
from .regions import REGION_CODE_PATTERN

ASSURANCE_CHOICES = ServiceItem._meta.get_field("min_assurance_level").choices


def label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value))


def version_audience(obj: Any) -> str:
    if obj.for_person and obj.for_company:
        return Audience.BOTH.value
    return Audience.COMPANY.value if obj.for_company else Audience.PERSON.value


# --- published items ---------------------------------------------------------------------------


class ItemListParams(PageParams):
    region: str | None = Field(None, pattern=REGION_CODE_PATTERN, description="实施区划代码 / region code")
    subtree: bool = Field(
        False, description="为 true 时包含所有下级区划的事项 / with true, also items of every region below"
    )
    department: int | None = Field(None, ge=1, le=MAX_ID, description="实施主体（部门）ID / department id")
    department_kind: DepartmentKind | None = Field(None, description="部门类别 / department kind")
    audience: AudienceFilter | None = Field(
        None, description="服务对象：person 自然人，company 法人 / audience"
    )
    item_type: ItemType | None = Field(None, description="事项类型 / item type")
    level: int | None = Field(
        None, ge=1, le=4, description="实施层级：1 省，2 市，3 县，4 乡镇 / region level"
    )
    theme: str | None = Field(None, max_length=16, description="主题代码 / theme code")


class ItemSummaryOut(Schema):
    code: str = Field(description="实施编码（23 位）/ item code (23 digits)")
    name: str = Field(description="事项名称 / name")
    item_type: str = Field(description="事项类型代码 / item type code")
    item_type_label: str = Field(description="事项类型名称 / item type label")
    audience: str = Field(description="服务对象：person、company 或 both / audience")
    audience_label: str = Field(description="服务对象名称 / audience label")
    region: RegionRef = Field(description="实施区划 / region")
    department: DepartmentRef = Field(description="实施主体 / implementing department")
    online_depth: int = Field(description="网办深度 0–4（4 为全程网办）/ online depth 0–4")
    online_depth_label: str = Field(description="网办深度名称 / online depth label")
    promised_limit_days: int | None = Field(
        description="承诺办结时限（工作日），即办件可为 0 或 null / promised limit, working days"
    )
    version: int = Field(description="当前发布版本号 / published version number")
    published_at: datetime = Field(description="发布时间 / publication time")

    @staticmethod
    def resolve_item_type_label(obj: Any) -> str:
        return label(ItemType.choices, obj.item_type)

    @staticmethod
    def resolve_audience(obj: Any) -> str:
        return version_audience(obj)

    @staticmethod
    def resolve_audience_label(obj: Any) -> str:
        return label(Audience.choices, version_audience(obj))

    @staticmethod
    def resolve_online_depth_label(obj: Any) -> str:
        return label(OnlineDepth.choices, obj.online_depth)

    @staticmethod
    def resolve_promised_limit_days(obj: Any) -> int | None:
        # List queries extract the value in SQL and leave the guide JSON unloaded; search
        # results come with their elements.
        if hasattr(obj, "promised_days"):
            return obj.promised_days
        return (obj.elements or {}).get("promised_limit_days")

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return obj.number


class ItemPage(PageOut):
    items: list[ItemSummaryOut] = Field(description="本页事项 / items on this page")


class SearchPage(ItemPage):
    total_capped: bool = Field(
        False,
        description=(
            "为 true 时匹配超过 total 项，计数到此为止，应显示为“1000+” / true: more matches than "
            'total, where counting stopped; show it as "1000+"'
        ),
    )


# --- the guide ---------------------------------------------------------------------------------


class HallOut(Schema):
    id: int = Field(description="大厅 ID / hall id")
    name: str = Field(description="大厅名称 / name")
    address: str = Field("", description="地址 / address")
    phone: str = Field("", description="电话 / phone")
    opening_hours: str = Field("", description="办公时间 / opening hours")


class MaterialOut(Schema):
    name: str = Field(description="材料名称 / material name")
    form: str = Field(description=f"材料形式 / form: {', '.join(MaterialForm.values)}")
    copies: int = Field(1, description="份数 / copies")
    requirement: str = Field(description=f"必要性 / requirement: {', '.join(MaterialRequirementKind.values)}")
    condition: str = Field("", description="适用情形（情形必要时）/ when the material is needed")
    source: str = Field(description=f"来源渠道 / source: {', '.join(MaterialSource.values)}")
    certificate_type: str = Field(
        "", description="电子证照或共享数据类型 / e-certificate or shared-data type"
    )
    notes: str = Field("", description="填报说明 / notes")


class StepOut(Schema):
    name: str = Field(description="环节名称 / step name")
    is_approval: bool = Field(description="是否审批环节（计入审批环节数）/ counts as an approval step")
    handler: str = Field("", description="办理人员 / handled by")
    time_limit_days: int | None = Field(None, description="环节时限（工作日）/ step limit, working days")
    criteria: str = Field("", description="审查标准 / review criteria")
    optional: bool = Field(
        False,
        description="如需：案件可能不经过此环节（如现场核查）/ a case may skip this step (an inspection)",
    )


class StandardRef(Schema):
    basic_code: str = Field(description="基本编码（11 位）/ basic code (11 digits)")
    name: str = Field(description="基本目录事项名称 / standard item name")


class GuideElements(Schema):
    """办事指南的全部要素（即已发布版本的 elements）/ every element of the published guide."""

    code: str = Field(description="实施编码（23 位）/ item code")
    name: str = Field(description="事项名称 / name")
    aliases: list[str] = Field(default_factory=list, description="别名 / aliases")
    item_type: str = Field(description=f"事项类型 / item type: {', '.join(ItemType.values)}")
    audience: str = Field(description="服务对象：person、company、both / audience")
    legal_basis: str = Field("", description="设定依据 / legal basis")
    acceptance_conditions: str = Field("", description="受理条件 / acceptance conditions")
    extra_conditions: str = Field("", description="本地补充受理条件 / local extra conditions")
    statutory_limit_days: int | None = Field(
        None, description="法定办结时限（工作日）/ statutory limit, working days"
    )
    promised_limit_days: int | None = Field(
        None, description="承诺办结时限（工作日）/ promised limit, working days"
    )
    is_instant: bool = Field(False, description="是否即办件（否则为承诺件）/ done on the spot")
    fee_required: bool = Field(False, description="是否收费 / fee charged")
    fee_standard: str = Field("", description="收费标准 / fee schedule")
    fee_basis: str = Field("", description="收费依据 / legal basis of the fee")
    online_payment: bool = Field(False, description="支持网上支付 / fee payable online")
    where_to_apply: str = Field("", description="办理地点 / where to apply")
    office_hours: str = Field("", description="办理时间 / office hours")
    halls: list[HallOut] = Field(default_factory=list, description="办理大厅 / service halls")
    onsite_visits: int = Field(0, description="到办事现场次数 / on-site visits needed")
    onsite_reason: str = Field("", description="必须现场办理的原因 / why a visit is needed")
    online_depth: int = Field(0, description="网办深度 0–4 / online depth 0–4")
    channels: list[str] = Field(
        default_factory=list, description=f"办理渠道 / channels: {', '.join(Channel.values)}"
    )
    delivery_methods: str = Field("", description="结果送达方式 / delivery of the result")
    consult_phone: str = Field("", description="咨询电话 / enquiries phone")
    complaint_phone: str = Field("", description="监督投诉电话 / complaints phone")
    result_name: str = Field("", description="审批结果名称 / name of the result")
    result_kind: str = Field(
        "decision",
        description="审批结果类型 / what approval produces: certificate, decision, revocation, none",
    )
    result_certificate_type: str = Field(
        "", description="结果证照类型 / certificate type issued or revoked (certificate, revocation)"
    )
    min_assurance_level: int = Field(
        1,
        description=(
            "申请所需最低账户认证等级：1 已注册，2 已实名核验，3 实名并通过第二因素认证"
            " / lowest account assurance level allowed to apply: 1 registered, 2 verified, 3 verified + second factor"
        ),
    )
    materials: list[MaterialOut] = Field(default_factory=list, description="申请材料 / required materials")
    steps: list[StepOut] = Field(default_factory=list, description="办理流程 / process steps")
    approval_steps: int = Field(0, description="审批环节数 / number of approval steps")
    themes: list[CodeName] = Field(default_factory=list, description="主题 / themes")
    life_events: list[CodeName] = Field(default_factory=list, description="所属一件事 / life-event bundles")
    region: RegionRef = Field(description="实施区划 / region")
    department: DepartmentRef = Field(description="实施主体 / implementing department")
    standard: StandardRef = Field(description="对应的基本目录事项 / standard item")


class GuideLabels(Schema):
    item_type: str = Field(description="事项类型名称 / item type label")
    audience: str = Field(description="服务对象名称 / audience label")
    online_depth: str = Field(description="网办深度名称 / online depth label")
    channels: list[str] = Field(description="办理渠道名称（与 elements.channels 一一对应）/ channel labels")
    min_assurance_level: str = Field(description="最低认证等级名称 / assurance level label")


class GuideOut(Schema):
    code: str = Field(description="实施编码 / item code")
    version: int = Field(description="版本号 / version number")
    published_at: datetime = Field(description="发布时间 / publication time")
    labels: GuideLabels = Field(description="编码值的名称（按请求语言）/ names of coded values")
    elements: GuideElements = Field(description="办事指南全部要素 / every element of the guide")

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return obj.number

    @staticmethod
    def resolve_labels(obj: Any) -> dict[str, Any]:
        e = obj.elements or {}
        return {
            "item_type": label(ItemType.choices, e.get("item_type")),
            "audience": label(Audience.choices, e.get("audience")),
            "online_depth": label(OnlineDepth.choices, e.get("online_depth")),
            "channels": [label(Channel.choices, c) for c in e.get("channels") or []],
            "min_assurance_level": label(ASSURANCE_CHOICES, e.get("min_assurance_level", 1)),
        }


class ChangeOut(Schema):
    field: str = Field("", description="变更的要素（材料为 materials.<字段>，首次发布为 *）/ changed element")
    label: str = Field("", description="要素名称 / element label")
    old: str = Field("", description="原值 / previous value")
    new: str = Field("", description="新值 / new value")


class VersionOut(Schema):
    version: int = Field(description="版本号 / version number")
    name: str = Field(description="该版本的事项名称 / item name in this version")
    published_at: datetime = Field(description="发布时间 / publication time")
    is_current: bool = Field(description="是否当前生效版本 / the live version")
    changes: list[ChangeOut] = Field(description="与上一版本相比的变更 / changes from the previous version")

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return obj.number

    @staticmethod
    def resolve_changes(obj: Any) -> list[dict[str, Any]]:
        return [c for c in obj.changes or [] if isinstance(c, dict)]


class VersionListOut(Schema):
    code: str = Field(description="实施编码 / item code")
    versions: list[VersionOut] = Field(
        description="全部发布版本，新版本在前 / every published version, newest first"
    )


# --- search ---------------------------------------------------------------------------------------


MAX_SEARCH_PAGE = 500


class SearchParams(PageParams):
    page: int = Field(
        1,
        ge=1,
        le=MAX_SEARCH_PAGE,
        description=f"页码，1–{MAX_SEARCH_PAGE} / page number, 1–{MAX_SEARCH_PAGE}",
    )
    q: str = Field(
        min_length=1,
        max_length=100,
        description="检索词（1–100 字，支持拼音）/ search words, 1–100 characters",
    )
    region: str | None = Field(
        None,
        pattern=REGION_CODE_PATTERN,
        description="实施区划代码，含所有下级区划 / region code, with every region below it",
    )
    department: int | None = Field(None, ge=1, le=MAX_ID, description="实施主体（部门）ID / department id")
    audience: AudienceFilter | None = Field(None, description="服务对象 / audience")
    item_type: ItemType | None = Field(None, description="事项类型 / item type")
    level: int | None = Field(None, ge=1, le=4, description="实施层级 / region level")
    near: str | None = Field(
        None,
        pattern=REGION_CODE_PATTERN,
        description=(
            "办事人所在区划代码：该区划的事项排在前面，其次是上级、下辖区划 / the reader's region: "
            "its items rank first, then its ancestors', then those below it"
        ),
    )


# --- standard catalogue, themes, life events ----------------------------------------------------


class StandardItemListParams(PageParams):
    item_type: ItemType | None = Field(None, description="事项类型 / item type")
    department_kind: DepartmentKind | None = Field(None, description="部门类别 / department kind")
    audience: AudienceFilter | None = Field(None, description="服务对象 / audience")
    theme: str | None = Field(None, max_length=16, description="主题代码 / theme code")


class StandardItemOut(Schema):
    basic_code: str = Field(description="基本编码（11 位）/ basic code")
    name: str = Field(description="事项名称 / name")
    aliases: list[str] = Field(description="别名 / aliases")
    item_type: str = Field(description="事项类型代码 / item type code")
    item_type_label: str = Field(description="事项类型名称 / item type label")
    department_kind: str = Field(description="部门类别代码 / department kind")
    department_kind_label: str = Field(description="部门类别名称 / department kind label")
    audience: str = Field(description="服务对象 / audience")
    audience_label: str = Field(description="服务对象名称 / audience label")
    statutory_limit_days: int | None = Field(description="法定办结时限（工作日）/ statutory limit")
    is_instant: bool = Field(description="是否即办件 / done on the spot")
    levels: list[int] = Field(description="可实施的区划层级 / region levels that may implement it")

    @staticmethod
    def resolve_aliases(obj: Any) -> list[str]:
        from yiwang.catalog.elements import split_aliases

        return split_aliases(obj.aliases)

    @staticmethod
    def resolve_item_type_label(obj: Any) -> str:
        return label(ItemType.choices, obj.item_type)

    @staticmethod
    def resolve_department_kind_label(obj: Any) -> str:
        return label(DepartmentKind.choices, obj.department_kind)

    @staticmethod
    def resolve_audience_label(obj: Any) -> str:
        return label(Audience.choices, obj.audience)

    @staticmethod
    def resolve_levels(obj: Any) -> list[int]:
        return sorted({int(c) for c in obj.levels if c.isdigit()})


class StandardMaterialOut(MaterialOut):
    pass


class StandardItemDetailOut(StandardItemOut):
    legal_basis: str = Field(description="设定依据 / legal basis")
    acceptance_conditions: str = Field(description="受理条件 / acceptance conditions")
    fee_required: bool = Field(description="是否收费 / fee charged")
    fee_basis: str = Field(description="收费依据 / legal basis of the fee")
    result_name: str = Field(description="审批结果名称 / name of the result")
    result_kind: str = Field(description="审批结果类型 / result kind (blank: decision letter)")
    result_certificate_type: str = Field(description="结果证照类型 / certificate type issued or revoked")
    materials: list[StandardMaterialOut] = Field(description="申请材料 / required materials")
    themes: list[CodeName] = Field(description="主题 / themes")
    life_events: list[CodeName] = Field(description="所属一件事 / life-event bundles")
    implementation_count: int = Field(
        description="已发布的实施清单事项数 / number of published implementations"
    )
    updated_at: datetime = Field(description="更新时间 / last change")


class StandardItemPage(PageOut):
    items: list[StandardItemOut] = Field(description="本页基本目录事项 / standard items on this page")


class AudienceParams(PageParams):
    audience: AudienceFilter | None = Field(None, description="服务对象 / audience")


class ThemeOut(Schema):
    code: str = Field(description="主题代码 / theme code")
    name: str = Field(description="主题名称 / name")
    audience: str = Field(description="服务对象：person 或 company / audience")
    icon: str = Field(description="图标名 / icon name")


class ThemePage(PageOut):
    items: list[ThemeOut] = Field(description="本页主题 / themes on this page")


class LifeEventOut(Schema):
    code: str = Field(description="一件事代码 / life-event code")
    name: str = Field(description="一件事名称 / name")
    audience: str = Field(description="服务对象 / audience")
    description: str = Field(description="说明 / description")
    standard_items: list[StandardRef] = Field(description="包含的基本目录事项 / standard items it bundles")

    @staticmethod
    def resolve_standard_items(obj: Any) -> list[Any]:
        return list(obj.standard_items.all())


class LifeEventPage(PageOut):
    items: list[LifeEventOut] = Field(description="本页一件事 / life events on this page")
