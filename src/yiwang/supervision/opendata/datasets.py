"""The open datasets: a registry of small definitions, each with its columns and a row iterator
built on other apps' selectors.

Only public data enters a dataset: what a published guide shows, and the public details of
regions, departments and service halls. Nothing here reads cases, applications or people, and a
test (tests/supervision/test_opendata_privacy.py) fetches every dataset in every format to prove
that no personal data leaves. A new dataset (rating aggregates next) is one more
``register(Dataset(...))`` whose rows come from its own app's selectors.

Every dataset reads through ``core.replica`` (the streaming replica when one is configured and
fit, else the primary): open data is published "continuously" or less often, and a download a
few seconds behind the primary is what a harvester expects, so the primary keeps its capacity
for the pages that must see their own writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.catalog import selectors as catalog
from yiwang.catalog.models import Audience, ItemType, MaterialForm, MaterialRequirementKind, MaterialSource
from yiwang.core.replica import on_replica, read
from yiwang.regions import selectors as regions
from yiwang.regions.models import DepartmentKind, RegionLevel

# One licence for every dataset: attribution only, readable by people and machines, and the
# licence CKAN ships as ``cc-by``.
LICENSE_ID = "cc-by"
LICENSE_TITLE = "Creative Commons Attribution 4.0 (CC BY 4.0)"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"

_NS = uuid.UUID("5b0c2f4e-7a51-4c56-9a4b-1f0e8d3c2a19")


def stable_id(*parts: str) -> str:
    """A UUID that stays the same for the same name, as CKAN ids are UUIDs."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


@dataclass(frozen=True)
class Frequency:
    code: str  # CKAN's ``frequency`` extra and the EU frequency authority code
    label: Any

    @property
    def uri(self) -> str:
        return f"http://publications.europa.eu/resource/authority/frequency/{self.code}"


CONTINUOUS = Frequency("UPDATE_CONT", _("实时更新"))
DAILY = Frequency("DAILY", _("每日"))
IRREGULAR = Frequency("IRREG", _("不定期"))


@dataclass(frozen=True)
class Organization:
    name: str
    title: Any
    description: Any = ""

    @property
    def id(self) -> str:
        return stable_id("organization", self.name)


PLATFORM = Organization(
    "yiwang-platform",
    settings.YIWANG_PLATFORM_NAME,
    _("全省政务服务事项目录、办事指南和服务大厅的管理方。"),
)


@dataclass(frozen=True)
class Column:
    key: str
    title: Any
    type: str = "string"  # string, integer, boolean, number, datetime


@dataclass(frozen=True)
class Dataset:
    name: str  # the URL slug and CKAN name
    title: Any
    description: Any
    columns: tuple[Column, ...]
    rows: Callable[[], Iterator[dict[str, Any]]]
    frequency: Frequency
    modified: Callable[[], datetime | None] = lambda: None
    organization: Organization = PLATFORM
    keywords: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return stable_id("dataset", self.name)

    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def typed_rows(self) -> Iterator[dict[str, Any]]:
        """Rows with exactly the declared columns, each value of its column's type."""
        for row in self.rows():
            yield {c.key: _typed(row.get(c.key), c.type) for c in self.columns}


def _typed(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None if kind != "string" else ""
    if isinstance(value, Promise):
        value = str(value)
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if kind == "boolean":
        return str(value).lower() in {"1", "true"}
    if kind == "number":
        return float(value) if isinstance(value, Decimal | int | float | str) else None
    if kind == "datetime":
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return str(value)


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    REGISTRY[dataset.name] = dataset
    return dataset


def all_datasets() -> list[Dataset]:
    return list(REGISTRY.values())


def dataset(name: str) -> Dataset | None:
    """By name or by id, as CKAN's ``package_show`` accepts either."""
    found = REGISTRY.get(name)
    if found is None:
        found = next((d for d in REGISTRY.values() if d.id == name), None)
    return found


def organizations() -> list[Organization]:
    seen: dict[str, Organization] = {}
    for d in REGISTRY.values():
        seen.setdefault(d.organization.name, d.organization)
    return list(seen.values())


# --- the datasets that have data today -------------------------------------------------------

_CHUNK = 2000
_ITEM_ELEMENTS = (
    "audience",
    "statutory_limit_days",
    "promised_limit_days",
    "is_instant",
    "fee_required",
    "onsite_visits",
    "where_to_apply",
    "office_hours",
    "consult_phone",
    "complaint_phone",
    "result_name",
    "legal_basis",
)


def _last_published() -> datetime | None:
    """``catalog.last_published_at``, read on the replica when fit."""
    return read(
        lambda alias: catalog.published_versions().using(alias).aggregate(last=Max("published_at"))["last"]
    )


def _item_rows() -> Iterator[dict[str, Any]]:
    types = dict(ItemType.choices)
    audiences = dict(Audience.choices)
    qs = on_replica(
        catalog.published_guide_rows(
            (
                "code",
                "name",
                "number",
                "item_type",
                "online_depth",
                "published_at",
                "region__code",
                "region__name",
                "department__name",
            ),
            _ITEM_ELEMENTS,
        )
    )
    for row in qs.iterator(chunk_size=_CHUNK):
        row["item_type_label"] = types.get(row["item_type"], row["item_type"])
        row["audience_label"] = audiences.get(row["audience"], row["audience"])
        row["region_code"] = row.pop("region__code")
        row["region_name"] = row.pop("region__name")
        row["department_name"] = row.pop("department__name")
        yield row


def _material_rows() -> Iterator[dict[str, Any]]:
    forms = dict(MaterialForm.choices)
    requirements = dict(MaterialRequirementKind.choices)
    sources = dict(MaterialSource.choices)
    for item in on_replica(catalog.published_materials_rows()).iterator(chunk_size=_CHUNK):
        materials = item["materials"] or []
        for n, m in enumerate(materials if isinstance(materials, list) else [], start=1):
            yield {
                "item_code": item["code"],
                "item_name": item["name"],
                "sort": n,
                "name": m.get("name"),
                "form": forms.get(m.get("form"), m.get("form")),
                "copies": m.get("copies"),
                "requirement": requirements.get(m.get("requirement"), m.get("requirement")),
                "condition": m.get("condition"),
                "source": sources.get(m.get("source"), m.get("source")),
                "certificate_type": m.get("certificate_type"),
                "notes": m.get("notes"),
            }


def _hall_rows() -> Iterator[dict[str, Any]]:
    yield from on_replica(regions.hall_rows()).iterator(chunk_size=_CHUNK)


def _region_rows() -> Iterator[dict[str, Any]]:
    levels = dict(RegionLevel.choices)
    for row in on_replica(regions.region_rows()).iterator(chunk_size=_CHUNK):
        row["level_label"] = levels.get(row["level"], "")
        yield row


def _department_rows() -> Iterator[dict[str, Any]]:
    kinds = dict(DepartmentKind.choices)
    for row in on_replica(regions.department_rows()).iterator(chunk_size=_CHUNK):
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        yield row


register(
    Dataset(
        name="service-items",
        title=_("政务服务事项目录"),
        description=_(
            "全省已发布的政务服务事项（实施清单）及其办事指南的主要要素：实施编码、事项名称、"
            "类型、服务对象、实施区划与实施主体、法定与承诺时限、收费、网办深度、办理地点、"
            "办理时间和咨询电话。每个事项一行，取现行发布版本。"
        ),
        columns=(
            Column("code", _("实施编码")),
            Column("name", _("事项名称")),
            Column("number", _("版本号"), "integer"),
            Column("item_type", _("事项类型代码")),
            Column("item_type_label", _("事项类型")),
            Column("audience", _("服务对象代码")),
            Column("audience_label", _("服务对象")),
            Column("region_code", _("实施区划代码")),
            Column("region_name", _("实施区划")),
            Column("department_name", _("实施主体")),
            Column("statutory_limit_days", _("法定办结时限（工作日）"), "integer"),
            Column("promised_limit_days", _("承诺办结时限（工作日）"), "integer"),
            Column("is_instant", _("即办件"), "boolean"),
            Column("fee_required", _("是否收费"), "boolean"),
            Column("online_depth", _("网办深度"), "integer"),
            Column("onsite_visits", _("到办事现场次数"), "integer"),
            Column("where_to_apply", _("办理地点")),
            Column("office_hours", _("办理时间")),
            Column("consult_phone", _("咨询电话")),
            Column("complaint_phone", _("监督投诉电话")),
            Column("result_name", _("审批结果名称")),
            Column("legal_basis", _("设定依据")),
            Column("published_at", _("发布时间"), "datetime"),
        ),
        rows=_item_rows,
        frequency=CONTINUOUS,
        modified=_last_published,
        keywords=(_("政务服务"), _("事项目录"), _("办事指南")),
    )
)

register(
    Dataset(
        name="service-item-materials",
        title=_("政务服务事项申请材料"),
        description=_(
            "每个已发布事项办事指南所列的申请材料：材料名称、形式、份数、必要性、适用情形和来源渠道。每份材料一行。"
        ),
        columns=(
            Column("item_code", _("实施编码")),
            Column("item_name", _("事项名称")),
            Column("sort", _("序号"), "integer"),
            Column("name", _("材料名称")),
            Column("form", _("材料形式")),
            Column("copies", _("份数"), "integer"),
            Column("requirement", _("必要性")),
            Column("condition", _("适用情形")),
            Column("source", _("来源渠道")),
            Column("certificate_type", _("电子证照/共享数据类型")),
            Column("notes", _("填报说明")),
        ),
        rows=_material_rows,
        frequency=CONTINUOUS,
        modified=_last_published,
        keywords=(_("政务服务"), _("申请材料")),
    )
)

register(
    Dataset(
        name="service-halls",
        title=_("政务服务大厅"),
        description=_("各级政务服务中心（大厅）的名称、地址、电话、办公时间、所在区划和坐标。"),
        columns=(
            Column("region_code", _("区划代码")),
            Column("region_name", _("区划名称")),
            Column("name", _("大厅名称")),
            Column("address", _("地址")),
            Column("phone", _("电话")),
            Column("opening_hours", _("办公时间")),
            Column("latitude", _("纬度"), "number"),
            Column("longitude", _("经度"), "number"),
        ),
        rows=_hall_rows,
        frequency=IRREGULAR,
        keywords=(_("服务大厅"), _("办公时间")),
    )
)

register(
    Dataset(
        name="regions",
        title=_("行政区划"),
        description=_("平台使用的省、市、县、乡镇（街道）四级行政区划及其代码（GB/T 2260）。"),
        columns=(
            Column("code", _("区划代码")),
            Column("name", _("名称")),
            Column("level", _("层级代码"), "integer"),
            Column("level_label", _("层级")),
            Column("parent_code", _("上级区划代码")),
        ),
        rows=_region_rows,
        frequency=IRREGULAR,
        keywords=(_("行政区划"),),
    )
)

register(
    Dataset(
        name="departments",
        title=_("政务服务实施部门"),
        description=_(
            "实施政务服务事项的各级部门：所在区划、部门代码、名称、类别、统一社会信用代码、咨询电话和地址。"
        ),
        columns=(
            Column("region_code", _("区划代码")),
            Column("region_name", _("区划名称")),
            Column("code", _("部门代码")),
            Column("name", _("部门名称")),
            Column("kind", _("部门类别代码")),
            Column("kind_label", _("部门类别")),
            Column("credit_code", _("统一社会信用代码")),
            Column("phone", _("咨询电话")),
            Column("address", _("地址")),
        ),
        rows=_department_rows,
        frequency=IRREGULAR,
        keywords=(_("部门"),),
    )
)


def _figure_rows() -> Iterator[dict[str, Any]]:
    from yiwang.supervision import figure_selectors

    return figure_selectors.daily_rows()


def _figures_modified() -> datetime | None:
    from yiwang.supervision.models import FigureFold

    return FigureFold.objects.filter(pk=1).values_list("folded_at", flat=True).first()


register(
    Dataset(
        name="daily-figures",
        title=_("政务服务效能日统计"),
        description=_(
            "各部门每日的收件、受理、不予受理、办结决定（准予、不予）、按时与超期办结、实际用时与承诺和法定时限、"
            "全程网办、最多跑一次、补正、电子证照复用和评价满意情况，均为汇总数，不含任何办件或个人信息。"
            "计算规则见平台文档“效能”一节。"
        ),
        columns=(
            Column("day", _("日期")),
            Column("region_code", _("区划代码")),
            Column("region_name", _("区划名称")),
            Column("department_code", _("部门代码")),
            Column("department_name", _("部门名称")),
            Column("received", _("收件"), "integer"),
            Column("accepted", _("受理"), "integer"),
            Column("refused", _("不予受理"), "integer"),
            Column("decided", _("办结决定"), "integer"),
            Column("approved", _("准予"), "integer"),
            Column("denied", _("不予"), "integer"),
            Column("timed", _("计时办件"), "integer"),
            Column("on_time", _("按时办结"), "integer"),
            Column("overdue", _("超期办结"), "integer"),
            Column("days_used", _("实际用时合计（工作日）"), "integer"),
            Column("promised_days", _("承诺时限合计（工作日）"), "integer"),
            Column("statutory_days", _("法定时限合计（工作日）"), "integer"),
            Column("fully_online", _("全程网办"), "integer"),
            Column("one_visit", _("最多跑一次"), "integer"),
            Column("corrections", _("补正次数"), "integer"),
            Column("cert_reuse", _("电子证照复用办件"), "integer"),
            Column("rated", _("评价数"), "integer"),
            Column("satisfied", _("满意数"), "integer"),
        ),
        rows=_figure_rows,
        frequency=DAILY,
        modified=_figures_modified,
        keywords=(_("效能"), _("办件统计"), _("好差评")),
    )
)
