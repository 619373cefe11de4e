"""Where implementations differ from their standard item (同标准受理 report).

The province wants every region to accept an item "to the same standard": same name, type,
legal basis, conditions and materials. This report lists, per implementation, each element
where the region deviates, so the catalogue office can follow up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .elements import ELEMENT_LABELS, MATERIAL_LABELS, display_value, split_aliases
from .models import ServiceItemVersion, StandardItem


@dataclass(frozen=True)
class Deviation:
    code: str
    name: str
    region: str
    department: str
    element: str
    label: str
    kind: str  # changed, added, removed, stricter
    standard_value: str
    item_value: str


def _standard_elements(std: StandardItem) -> dict:
    return {
        "name": std.name,
        "item_type": std.item_type,
        "audience": std.audience,
        "legal_basis": std.legal_basis,
        "acceptance_conditions": std.acceptance_conditions,
        "statutory_limit_days": std.statutory_limit_days,
        "aliases": split_aliases(std.aliases),
        "materials": [m.as_element() for m in std.materials.all()],
    }


def deviations_of(elements: dict, std_elements: dict) -> Iterator[tuple[str, str, str, str, str]]:
    """(element, label, kind, standard value, item value) for each deviation."""
    for key in (
        "name",
        "item_type",
        "audience",
        "legal_basis",
        "acceptance_conditions",
        "statutory_limit_days",
    ):
        if elements.get(key) != std_elements.get(key):
            yield (
                key,
                str(ELEMENT_LABELS[key]),
                "changed",
                display_value(key, std_elements.get(key)),
                display_value(key, elements.get(key)),
            )
    if (elements.get("extra_conditions") or "").strip():
        yield (
            "extra_conditions",
            str(ELEMENT_LABELS["extra_conditions"]),
            "added",
            "—",
            elements["extra_conditions"],
        )
    std_mats = {m["name"]: m for m in std_elements["materials"]}
    item_mats = {m["name"]: m for m in elements.get("materials", [])}
    mlabel = str(ELEMENT_LABELS["materials"])
    for name, m in item_mats.items():
        if name not in std_mats:
            kind = "added" if m.get("requirement") == "required" else "added_conditional"
            yield "materials", mlabel, kind, "—", name
            continue
        for k in ("form", "copies", "requirement", "source"):
            if m.get(k) != std_mats[name].get(k):
                yield (
                    f"materials.{k}",
                    f"{mlabel}「{name}」{MATERIAL_LABELS[k]}",
                    "changed",
                    display_value(k, std_mats[name].get(k)),
                    display_value(k, m.get(k)),
                )
    for name in std_mats:
        if name not in item_mats:
            yield "materials", mlabel, "removed", name, "—"


def deviation_report(versions: QuerySet[ServiceItemVersion] | None = None) -> Iterator[Deviation]:
    """Deviations of the published (current) implementations in ``versions`` (default: all)."""
    qs = versions if versions is not None else ServiceItemVersion.objects.filter(is_current=True)
    qs = qs.select_related("item__standard").order_by("code")
    std_cache: dict[int, dict] = {}
    for v in qs.iterator(chunk_size=2000):
        std = v.item.standard
        if std.pk not in std_cache:
            std_cache[std.pk] = _standard_elements(std)
        e = v.elements
        for element, label, kind, sv, iv in deviations_of(e, std_cache[std.pk]):
            yield Deviation(
                e["code"],
                e["name"],
                e["region"]["name"],
                e["department"]["name"],
                element,
                label,
                kind,
                sv,
                iv,
            )


KIND_LABELS = {
    "changed": _("与基本目录不一致"),
    "added": _("增加必要材料/条件"),
    "added_conditional": _("增加情形材料"),
    "removed": _("减少材料"),
}
