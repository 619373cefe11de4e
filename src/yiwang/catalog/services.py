"""Writes to the catalogue. Every public function here checks permission (when given a user),
does its work in one transaction, and writes the audit log.

Item codes (docs/catalogue.md): basic code of the standard item (11 digits: type 2 + department
kind 3 + serial 4 + sub-item 2) + region code (9 digits: GB/T 2260 county code + township
digits, 000 above township) + department code (3 digits within the region) = 23 digits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.context import current_actor
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.identity.selectors import can_manage_department
from yiwang.regions.models import Department, DepartmentKind

from .elements import MergedItem, diff_elements, effective_elements, merge_items
from .models import (
    ItemMaterial,
    ItemStatus,
    ProcessStep,
    ServiceItem,
    ServiceItemVersion,
    StandardItem,
)
from .rules import process_disagreements, publication_errors

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


def default_steps(*, is_instant: bool) -> list[dict[str, Any]]:
    """Step notes for a new item, one per step of the template it will run (受理 → 审查 →
    现场核查/专家评审 → 决定 → 送达, or 受理 → 决定 → 送达 for an instant item). Who does a step
    and whether it counts as an approval step come from the process (``elements.guide_steps``)."""
    from yiwang.workflow.selectors import shipped_template_steps

    steps = shipped_template_steps(is_instant)
    limits = {} if is_instant else {"accept": 1, "decide": 1}
    return [
        {
            "name": s.name,
            "is_approval": s.is_approval,
            "handler": s.handler,
            "time_limit_days": limits.get(s.step),
        }
        for s in steps
    ]


def check_can_edit(user: User | AnonymousUser | None, department: Department) -> None:
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
    *,
    standard: StandardItem,
    department: Department,
    user: User | AnonymousUser | None = None,
    **elements: Any,
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


def mark_changed(
    item: ServiceItem, *, user: User | AnonymousUser | None = None, changed_fields: Iterable[str] = ()
) -> None:
    """Record that the working copy was edited (back office, import): a published item now
    has unpublished changes, which the guide does not show until the next publication."""
    check_can_edit(user, item.department)
    if item.status == ItemStatus.PUBLISHED:
        item.status = ItemStatus.CHANGED
        ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.CHANGED)
    audit.record("catalog.item.edit", item, summary=item.code, detail={"fields": sorted(set(changed_fields))})


# --- publication --------------------------------------------------------------------------------


def _index(versions: list[ServiceItemVersion]) -> None:
    from . import search

    search.index_versions(versions)


def _unindex(item_ids: list[int]) -> None:
    from . import search

    search.remove_items(item_ids)


def _new_version(m: MergedItem, number: int, by: str, now: dt.datetime) -> ServiceItemVersion:
    e = m.elements
    return ServiceItemVersion(
        item_id=m.item_id,
        number=number,
        elements=e,
        published_at=now,
        published_by=by,
        is_current=True,
        code=e["code"],
        name=e["name"],
        region_id=m.region_id,
        region_level=m.region_level,
        region_path=m.region_path,
        department_id=m.department_id,
        department_kind=m.department_kind,
        item_type=e["item_type"],
        for_person=e["audience"] in ("person", "both"),
        for_company=e["audience"] in ("company", "both"),
        online_depth=e["online_depth"],
    )


def _latest_versions(item_ids: list[int]) -> dict[int, tuple[int, dict | None]]:
    """item id -> (highest version number, elements of the current version or None)."""
    out: dict[int, tuple[int, dict | None]] = {}
    rows = (
        ServiceItemVersion.objects.filter(item_id__in=item_ids)
        .values_list("item_id", "number")
        .order_by("number")
    )
    for item_id, number in rows:
        out[item_id] = (number, None)
    current = ServiceItemVersion.objects.filter(item_id__in=item_ids, is_current=True).values_list(
        "item_id", "elements"
    )
    for item_id, elements in current:
        out[item_id] = (out[item_id][0], elements)
    return out


def _write_versions(merged: list[MergedItem], by: str) -> list[ServiceItemVersion]:
    """Write version N+1 of each item (with its change list against N), make it current, point
    the item at it, index it. The caller holds the transaction (and, for one item, the lock)."""
    ids = [m.item_id for m in merged]
    latest = _latest_versions(ids)
    now = timezone.now()
    versions = []
    for m in merged:
        number, previous = latest.get(m.item_id, (0, None))
        v = _new_version(m, number + 1, by, now)
        v.changes = diff_elements(previous, m.elements)
        versions.append(v)
    ServiceItemVersion.objects.filter(item_id__in=ids, is_current=True).update(is_current=False)
    # bulk_create fills the primary keys in (RETURNING on PostgreSQL and SQLite >= 3.35).
    ServiceItemVersion.objects.bulk_create(versions)
    through = ServiceItemVersion.themes.through
    through.objects.bulk_create(
        through(serviceitemversion_id=v.pk, theme_id=t)
        for v, m in zip(versions, merged, strict=True)
        for t in m.theme_ids
    )
    ServiceItem.objects.filter(pk__in=ids).update(
        status=ItemStatus.PUBLISHED,
        current_version=Subquery(
            ServiceItemVersion.objects.filter(item_id=OuterRef("pk"), is_current=True).values("pk")[:1]
        ),
    )
    _index(versions)
    return versions


def _unchanged(m: MergedItem, current_elements: dict[str, Any] | None) -> bool:
    return (
        current_elements is not None and current_elements == m.elements and m.status != ItemStatus.WITHDRAWN
    )


def publish(
    item: ServiceItem, *, user: User | AnonymousUser | None = None, actor_label: str | None = None
) -> ServiceItemVersion:
    """Publish the working copy as a new version, or refuse with one message per broken rule.

    Publishing an unchanged item returns the current version (a double click publishes once).
    """
    check_can_edit(user, item.department)
    errors: list[FieldError] = []
    with transaction.atomic():
        # Lock the item so two publishers cannot both create version N+1.
        ServiceItem.objects.select_for_update().filter(pk=item.pk).values_list("pk").get()
        m = merge_items([item.pk])[item.pk]
        errors = publication_errors(m.elements) + process_disagreements(m)
        current = ServiceItemVersion.objects.filter(item_id=item.pk, is_current=True).first()
        version = current
        unchanged = current is not None and _unchanged(m, current.elements)
        if not errors and unchanged and m.status != ItemStatus.PUBLISHED:
            ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.PUBLISHED)
        elif not errors and not unchanged:
            (version,) = _write_versions([m], actor_label or current_actor().label)
            audit.record(
                "catalog.item.publish",
                item,
                summary=f"{item.code} v{version.number}",
                detail={"version": version.number, "changes": version.changes},
            )
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
    items: Iterable[ServiceItem | int],
    *,
    progress: Callable[[int], None] | None = None,
    actor_label: str | None = None,
) -> int:
    """Publish many items at once (province generator, mass import): the same rules and
    versions as ``publish``, batched, with one audit entry per batch instead of per item.

    Items that break a rule are skipped and named in the batch's audit entry. Returns how many
    versions were created.
    """
    ids = [i if isinstance(i, int) else i.pk for i in items]
    by = actor_label or current_actor().label
    created = 0
    for start in range(0, len(ids), BULK_BATCH):
        chunk = ids[start : start + BULK_BATCH]
        with transaction.atomic():
            merged = merge_items(chunk)
            current = dict(
                ServiceItemVersion.objects.filter(item_id__in=chunk, is_current=True).values_list(
                    "item_id", "elements"
                )
            )
            to_write: list[MergedItem] = []
            refused: dict[str, list[str]] = {}
            for m in merged.values():
                if errors := publication_errors(m.elements) + process_disagreements(m):
                    refused[m.elements["code"]] = [e.message for e in errors]
                elif not _unchanged(m, current.get(m.item_id)):
                    to_write.append(m)
            if to_write:
                _write_versions(to_write, by)
                created += len(to_write)
            audit.record(
                "catalog.item.bulk_publish",
                object_type="catalog.serviceitem",
                summary=f"{len(to_write)} published, {len(refused)} refused",
                detail={"published": len(to_write), "refused": refused},
            )
        if progress:
            progress(len(chunk))
    return created


@transaction.atomic
def withdraw(item: ServiceItem, *, user: User | AnonymousUser | None = None, reason: str = "") -> None:
    """Take an item off the portal (停用); its versions stay for the record."""
    check_can_edit(user, item.department)
    if not reason.strip():
        raise DomainError(_("停用事项须说明原因。"), field="reason")
    ServiceItemVersion.objects.filter(item=item, is_current=True).update(is_current=False)
    ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN, current_version=None)
    item.status, item.current_version = ItemStatus.WITHDRAWN, None
    audit.record("catalog.item.withdraw", item, summary=item.code, detail={"reason": reason})
    _unindex([item.pk])
