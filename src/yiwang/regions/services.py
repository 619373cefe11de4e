"""Writes for regions: loading GB/T 2260 codes and importing townships from CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import FieldError

from .models import Region, RegionLevel

GBT2260_FILE = Path(__file__).with_name("data") / "gbt2260.csv"


@dataclass(frozen=True)
class CodeListEntry:
    code: str
    name: str
    standard: bool  # False: not a GB/T 2260 code (development zone, statistical or placeholder code)
    note: str = ""


def read_code_list() -> list[CodeListEntry]:
    """The bundled code list (data/gbt2260.csv, described in data/README.md)."""
    with GBT2260_FILE.open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return [
        CodeListEntry(r["code"], r["name"], r["standard"].strip() != "0", (r.get("note") or "").strip())
        for r in csv.DictReader(lines)
    ]


def _read_gbt2260() -> list[tuple[str, str]]:
    return [(e.code, e.name) for e in read_code_list()]


def level_of(code: str) -> int:
    """Level of a GB/T 2260 code: xx0000 province, xxxx00 prefecture, otherwise county; 9 digits township."""
    if len(code) == 9:
        return RegionLevel.TOWNSHIP
    if code[2:] == "0000":
        return RegionLevel.PROVINCE
    if code[4:] == "00":
        return RegionLevel.CITY
    return RegionLevel.COUNTY


@transaction.atomic
def load_gbt2260(province_code: str) -> int:
    """Create or update the province, its prefectures and counties from the bundled code list.

    Returns how many regions were created. Counties whose prefecture code is absent (the
    province-administered counties of some provinces) hang directly under the province.
    """
    rows = [e for e in read_code_list() if e.code[:2] == province_code[:2]]
    if not rows:
        raise ValueError(_("区划代码 %(code)s 不在 GB/T 2260 代码表中") % {"code": province_code})
    rows.sort(key=lambda e: (level_of(e.code), e.code))
    by_code: dict[str, Region] = {
        r.code: r for r in Region.objects.filter(code__startswith=province_code[:2])
    }
    created = 0
    for entry in rows:
        code, name = entry.code, entry.name
        level = level_of(code)
        parent = None
        if level == RegionLevel.CITY:
            parent = by_code.get(code[:2] + "0000")
        elif level == RegionLevel.COUNTY:
            parent = by_code.get(code[:4] + "00") or by_code.get(code[:2] + "0000")
        region = by_code.get(code)
        if region is None:
            region = Region(
                code=code, name=name, level=level, parent=parent, standard=entry.standard, note=entry.note
            )
            region.save()
            by_code[code] = region
            created += 1
        elif (region.name, region.parent_id, region.standard, region.note) != (
            name,
            parent.pk if parent else None,
            entry.standard,
            entry.note,
        ):
            region.name, region.parent = name, parent
            region.standard, region.note = entry.standard, entry.note
            region.save()
    audit.record(
        "regions.load_gbt2260",
        object_type="regions.region",
        object_id=province_code,
        summary=f"GB/T 2260 {province_code}: {created} created",
        detail={"created": created},
    )
    return created


@dataclass
class TownshipImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, FieldError]] = field(default_factory=list)  # (line number, error)


def import_townships_csv(source: str | Path | Iterable[str]) -> TownshipImportReport:
    """Import townships from CSV with columns ``code,name,parent_code`` (UTF-8, header row).

    ``code`` is the 9-digit statistical code (county code + 3 digits). Good rows are written,
    bad rows are reported by line number and column and write nothing.
    """
    if isinstance(source, str | Path) and not (isinstance(source, str) and "\n" in source):
        text = Path(source).read_text(encoding="utf-8-sig")
    elif isinstance(source, str):
        text = source
    else:
        text = "".join(source)
    reader = csv.DictReader(io.StringIO(text))
    report = TownshipImportReport()
    missing = {"code", "name", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        report.errors.append(
            (
                1,
                FieldError(
                    ",".join(sorted(missing)), _("缺少列：%(cols)s") % {"cols": "、".join(sorted(missing))}
                ),
            )
        )
        return report
    counties = {r.code: r for r in Region.objects.filter(level=RegionLevel.COUNTY)}
    existing = {r.code: r for r in Region.objects.filter(level=RegionLevel.TOWNSHIP)}
    seen: set[str] = set()
    with transaction.atomic():
        for line_no, row in enumerate(reader, start=2):
            code = (row.get("code") or "").strip()
            name = (row.get("name") or "").strip()
            parent_code = (row.get("parent_code") or "").strip()
            error = None
            if not (len(code) == 9 and code.isdigit()):
                error = FieldError(
                    "code", _("乡镇（街道）代码须为9位数字：%(v)s") % {"v": code or _("（空）")}
                )
            elif not name or len(name) > 64:
                error = FieldError("name", _("名称不能为空且不超过64个字"))
            elif parent_code not in counties:
                error = FieldError(
                    "parent_code", _("上级区县代码 %(v)s 不存在") % {"v": parent_code or _("（空）")}
                )
            elif code[:6] != parent_code:
                error = FieldError(
                    "code",
                    _("代码 %(code)s 的前6位应与上级区县代码 %(parent)s 一致")
                    % {"code": code, "parent": parent_code},
                )
            elif code in seen:
                error = FieldError("code", _("代码 %(code)s 在文件中重复") % {"code": code})
            if error:
                report.errors.append((line_no, error))
                continue
            seen.add(code)
            region = existing.get(code)
            if region is None:
                region = Region(
                    code=code, name=name, level=RegionLevel.TOWNSHIP, parent=counties[parent_code]
                )
                region.save()
                existing[code] = region
                report.created += 1
            elif region.name != name:
                region.name = name
                region.save(update_fields=["name"])
                report.updated += 1
        audit.record(
            "regions.import_townships",
            object_type="regions.region",
            summary=f"townships: {report.created} created, {report.updated} updated, {len(report.errors)} errors",
            detail={"created": report.created, "updated": report.updated, "errors": len(report.errors)},
        )
    return report
