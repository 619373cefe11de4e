"""Writes to the catalogue. Every public function here checks permission (when given a user),
does its work in one transaction, and writes the audit log.

Item codes (docs/catalogue.md): basic code of the standard item (11 digits: type 2 + department
kind 3 + serial 4 + sub-item 2) + region code (9 digits: GB/T 2260 county code + township
digits, 000 above township) + department code (3 digits within the region) = 23 digits.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.context import current_actor
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.identity.selectors import can_manage_department
from yiwang.regions.models import Department, DepartmentKind

from .elements import diff_elements, effective_elements
from .models import (
    ItemMaterial,
    ItemStatus,
    ProcessStep,
    ServiceItem,
    ServiceItemVersion,
    StandardItem,
)
from .rules import publication_errors

__all__ = [
    "bulk_publish",
    "check_can_edit",
    "check_claim",
    "copy_standard_materials",
    "create_default_steps",
    "create_implementation",
    "default_steps",
    "effective_elements",
    "implementation_code",
    "mark_changed",
    "publication_errors",
    "publish",
    "withdraw",
]

BULK_BATCH = 500


# --- codes and defaults -------------------------------------------------------------------------


def implementation_code(standard: StandardItem, department: Department) -> str:
    return f"{standard.basic_code}{department.region.code9}{department.code}"


def default_steps(*, is_instant: bool, statutory_limit_days: int | None = None) -> list[dict[str, Any]]:
    """The usual steps: 受理 → 审查 → 决定 → 送达 (delivery does not count as an approval step)."""
    if is_instant:
        return [
            {"name": _("受理"), "is_approval": True, "handler": _("窗口受理人员"), "time_limit_days": None},
            {"name": _("办结"), "is_approval": True, "handler": _("窗口受理人员"), "time_limit_days": None},
        ]
    return [
        {"name": _("受理"), "is_approval": True, "handler": _("窗口受理人员"), "time_limit_days": 1},
        {"name": _("审查"), "is_approval": True, "handler": _("审批人员"), "time_limit_days": None},
        {"name": _("决定"), "is_approval": True, "handler": _("部门负责人"), "time_limit_days": 1},
        {"name": _("送达"), "is_approval": False, "handler": _("窗口受理人员"), "time_limit_days": None},
    ]


def check_can_edit(user, department: Department) -> None:
    """Raise NotPermitted unless ``user`` (None: the system) may edit this department's items."""
    if user is not None and not can_manage_department(user, department):
        raise NotPermitted(
            _("您只能管理本部门的实施清单（%(dept)s 不在您的管理范围内）。") % {"dept": department.name}
        )


def check_claim(standard: StandardItem, department: Department) -> list[FieldError]:
    """Can this department implement this standard item? (kind and region level)."""
    errors = []
    if department.kind != standard.department_kind and department.kind != DepartmentKind.TOWNSHIP_OFFICE:
        errors.append(
            FieldError(
                "department",
                _("事项“%(item)s”属于%(kind)s部门，不能由%(dept)s实施。")
                % {
                    "item": standard.name,
                    "kind": standard.get_department_kind_display(),
                    "dept": department.name,
                },
            )
        )
    if str(department.region.level) not in (standard.levels or ""):
        errors.append(
            FieldError(
                "region",
                _("事项“%(item)s”不在%(level)s实施。")
                % {"item": standard.name, "level": department.region.get_level_display()},
            )
        )
    return errors


def copy_standard_materials(item: ServiceItem) -> None:
    """Inherit the standard item's materials (each row keeps a link to the one it came from)."""
    ItemMaterial.objects.bulk_create(
        ItemMaterial(item=item, standard_material=m, sort=m.sort, **m.as_element())
        for m in item.standard.materials.all()
    )


def create_default_steps(item: ServiceItem) -> None:
    ProcessStep.objects.bulk_create(
        ProcessStep(item=item, sort=i, **s) for i, s in enumerate(default_steps(is_instant=item.is_instant))
    )


# --- create and edit ----------------------------------------------------------------------------


@transaction.atomic
def create_implementation(
    *, standard: StandardItem, department: Department, user=None, **elements: Any
) -> ServiceItem:
    """Claim a standard item for a department (认领): the new draft inherits the standard's
    elements and materials; ``elements`` sets the department's own ones (ServiceItem fields)."""
    check_can_edit(user, department)
    if errors := check_claim(standard, department):
        raise ValidationFailed(errors)
    code = implementation_code(standard, department)
    if ServiceItem.objects.filter(code=code).exists():
        raise DomainError(
            _("实施编码 %(code)s 已存在：该部门已认领此事项。") % {"code": code},
            field="code",
            code="duplicate",
        )
    themes = elements.pop("themes", None)
    halls = elements.pop("halls", None)
    steps = elements.pop("steps", None)
    materials = elements.pop("materials", None)
    item = ServiceItem(
        standard=standard, region=department.region, department=department, code=code, **elements
    )
    if item.consult_phone == "" and department.phone:
        item.consult_phone = department.phone
    item.full_clean(exclude=["standard", "region", "department", "code", "current_version"])
    item.save()
    if materials is None:
        ItemMaterial.objects.bulk_create(
            ItemMaterial(item=item, standard_material=m, sort=m.sort, **m.as_element())
            for m in standard.materials.all()
        )
    else:
        ItemMaterial.objects.bulk_create(
            ItemMaterial(item=item, sort=i, **m) for i, m in enumerate(materials)
        )
    steps = steps if steps is not None else default_steps(is_instant=item.is_instant)
    ProcessStep.objects.bulk_create(ProcessStep(item=item, sort=i, **s) for i, s in enumerate(steps))
    if themes:
        item.themes.set(themes)
    if halls:
        item.halls.set(halls)
    audit.record("catalog.item.create", item, summary=f"{code} {item.name or standard.name}")
    return item


def mark_changed(item: ServiceItem, *, user=None, changed_fields: Iterable[str] = ()) -> None:
    """Record that the working copy was edited (back office, import): a published item now
    has unpublished changes, which the guide does not show until the next publication."""
    check_can_edit(user, item.department)
    if item.status == ItemStatus.PUBLISHED:
        item.status = ItemStatus.CHANGED
        ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.CHANGED)
    audit.record("catalog.item.edit", item, summary=item.code, detail={"fields": sorted(set(changed_fields))})


# --- publication --------------------------------------------------------------------------------


def _index(versions: list[ServiceItemVersion]) -> None:
    try:
        search = importlib.import_module("yiwang.catalog.search")
    except ModuleNotFoundError:
        return
    search.index_versions(versions)


def _unindex(item_ids: list[int]) -> None:
    try:
        search = importlib.import_module("yiwang.catalog.search")
    except ModuleNotFoundError:
        return
    search.remove_items(item_ids)


def _prefetched(qs):
    return qs.select_related("standard", "region", "department").prefetch_related(
        "materials", "steps", "themes", "halls", "standard__themes", "standard__life_events"
    )


def _new_version(
    item: ServiceItem, elements: dict[str, Any], previous: ServiceItemVersion | None, by: str, now
) -> ServiceItemVersion:
    return ServiceItemVersion(
        item=item,
        number=(previous.number + 1) if previous else 1,
        elements=elements,
        changes=diff_elements(previous.elements if previous else None, elements),
        published_at=now,
        published_by=by,
        is_current=True,
        code=item.code,
        name=elements["name"],
        region=item.region,
        region_level=item.region.level,
        region_path=item.region.path,
        department=item.department,
        department_kind=item.department.kind,
        item_type=elements["item_type"],
        for_person=elements["audience"] in ("person", "both"),
        for_company=elements["audience"] in ("company", "both"),
        online_depth=elements["online_depth"],
    )


def publish(item: ServiceItem, *, user=None, actor_label: str | None = None) -> ServiceItemVersion:
    """Publish the working copy as a new version, or refuse with one message per broken rule.

    Publishing an unchanged item returns the current version (a double click publishes once).
    """
    check_can_edit(user, item.department)
    errors: list[FieldError] = []
    with transaction.atomic():
        # Lock the item so two publishers cannot both create version N+1.
        locked = _prefetched(ServiceItem.objects.select_for_update(of=("self",))).get(pk=item.pk)
        elements = effective_elements(locked)
        errors = publication_errors(elements)
        previous = locked.current_version
        version = previous
        if errors:
            pass
        elif previous is not None and previous.elements == elements and locked.status != ItemStatus.WITHDRAWN:
            if locked.status != ItemStatus.PUBLISHED:
                ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.PUBLISHED)
        else:
            if previous is None:
                previous = locked.versions.order_by("-number").first()
            by = actor_label or current_actor().label
            version = _new_version(locked, elements, previous, by, timezone.now())
            ServiceItemVersion.objects.filter(item=locked, is_current=True).update(is_current=False)
            version.save()
            version.themes.set(locked.themes.all() or locked.standard.themes.all())
            ServiceItem.objects.filter(pk=item.pk).update(
                current_version=version, status=ItemStatus.PUBLISHED
            )
            audit.record(
                "catalog.item.publish",
                locked,
                summary=f"{locked.code} v{version.number}",
                detail={"version": version.number, "changes": version.changes},
            )
            _index([version])
    if errors:
        # The refusal is worth auditing too, in its own transaction: nothing else was written.
        audit.record(
            "catalog.item.publish_refused",
            item,
            summary=item.code,
            detail={"errors": [e.message for e in errors]},
        )
        raise ValidationFailed(errors)
    assert version is not None
    item.current_version, item.status = version, ItemStatus.PUBLISHED
    return version


def bulk_publish(
    items: Iterable[ServiceItem],
    *,
    progress: Callable[[int], None] | None = None,
    actor_label: str | None = None,
) -> int:
    """Publish many items at once (province generator, mass import): the same rules and
    versions as ``publish``, batched, with one audit entry per batch instead of per item.

    Items that break a rule are skipped and reported in the batch's audit entry. Returns how
    many versions were created.
    """
    ids = [i.pk for i in items]
    by = actor_label or current_actor().label
    created = 0
    for start in range(0, len(ids), BULK_BATCH):
        chunk = ids[start : start + BULK_BATCH]
        with transaction.atomic():
            batch = list(
                _prefetched(ServiceItem.objects.filter(pk__in=chunk).select_related("current_version"))
            )
            now = timezone.now()
            versions: list[ServiceItemVersion] = []
            refused: dict[str, list[str]] = {}
            for item in batch:
                elements = effective_elements(item)
                if errors := publication_errors(elements):
                    refused[item.code] = [e.message for e in errors]
                    continue
                previous = item.current_version
                if previous is not None and previous.elements == elements:
                    continue
                versions.append(_new_version(item, elements, previous, by, now))
            if versions:
                ServiceItemVersion.objects.filter(
                    item_id__in=[v.item_id for v in versions], is_current=True
                ).update(is_current=False)
                ServiceItemVersion.objects.bulk_create(versions)
                saved = {
                    v.item_id: v
                    for v in ServiceItemVersion.objects.filter(
                        item_id__in=[v.item_id for v in versions], is_current=True
                    )
                }
                by_item = {i.pk: i for i in batch}
                through = ServiceItemVersion.themes.through
                through.objects.bulk_create(
                    through(serviceitemversion_id=v.pk, theme_id=t.pk)
                    for item_id, v in saved.items()
                    for t in (
                        list(by_item[item_id].themes.all()) or list(by_item[item_id].standard.themes.all())
                    )
                )
                for item_id, v in saved.items():
                    by_item[item_id].current_version = v
                    by_item[item_id].status = ItemStatus.PUBLISHED
                ServiceItem.objects.bulk_update([by_item[i] for i in saved], ["current_version", "status"])
                _index(list(saved.values()))
                created += len(saved)
            audit.record(
                "catalog.item.bulk_publish",
                object_type="catalog.serviceitem",
                summary=f"{len(versions)} published, {len(refused)} refused",
                detail={"published": len(versions), "refused": refused},
            )
        if progress:
            progress(len(chunk))
    return created


@transaction.atomic
def withdraw(item: ServiceItem, *, user=None, reason: str = "") -> None:
    """Take an item off the portal (停用); its versions stay for the record."""
    check_can_edit(user, item.department)
    if not reason.strip():
        raise DomainError(_("停用事项须说明原因。"), field="reason")
    ServiceItemVersion.objects.filter(item=item, is_current=True).update(is_current=False)
    ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN, current_version=None)
    item.status, item.current_version = ItemStatus.WITHDRAWN, None
    audit.record("catalog.item.withdraw", item, summary=item.code, detail={"reason": reason})
    _unindex([item.pk])
