"""Exporting implementation lists to xlsx, streamed so a whole province (70,000 rows) fits.

The export writes the working copies (what the department edits and what an import writes back),
not the published versions: exporting and re-importing a file changes nothing. A blank inherited
element (name, type, audience, legal basis, acceptance conditions, statutory limit) stays blank,
meaning "as in the standard catalogue".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from yiwang.catalog.models import ItemStatus, ServiceItem
from yiwang.identity.models import Role
from yiwang.identity.selectors import department_scope_q
from yiwang.regions.models import Department, Region

from . import columns as fmt
from .columns import COLUMNS, SHEET_TITLE

LAST_ROW = 1_048_576
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


def items_for_export(
    *, region: Region | None = None, department: Department | None = None, user=None
) -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.select_related("standard", "region", "department").prefetch_related(
        "materials", "steps"
    )
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    if department is not None:
        qs = qs.filter(department=department)
    if user is not None:
        qs = qs.filter(department_scope_q(user, Role.CATALOGUE_ADMIN))
    return qs.order_by("code")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def item_row(item: ServiceItem, status_labels: dict[str, str]) -> list[Any]:
    materials = [m.as_element() for m in item.materials.all()]
    steps = [
        {
            "name": s.name,
            "is_approval": s.is_approval,
            "handler": s.handler,
            "time_limit_days": s.time_limit_days,
            "criteria": s.criteria,
        }
        for s in item.steps.all()
    ]
    values: dict[str, Any] = {
        "code": item.code,
        "standard": item.standard.basic_code,
        "region": item.region.code,
        "department": item.department.code,
        "department_name": item.department.name,
        "item_type": fmt.LABELS["item_type"].get(item.item_type, "") if item.item_type else "",
        "audience": fmt.LABELS["audience"].get(item.audience, "") if item.audience else "",
        "online_depth": fmt.LABELS["online_depth"].get(item.online_depth, ""),
        "result_kind": fmt.LABELS["result_kind"].get(item.result_kind, "") if item.result_kind else "",
        "min_assurance_level": fmt.LABELS["min_assurance_level"].get(item.min_assurance_level, ""),
        "channels": fmt.format_channels(item.channels),
        "materials": fmt.format_materials(materials) or fmt.NONE_MARK,
        "steps": fmt.format_steps(steps) or fmt.NONE_MARK,
        "status": status_labels.get(item.status, item.status),
    }
    out: list[Any] = []
    for col in COLUMNS:
        if col.key in values:
            out.append(values[col.key])
        elif col.kind == fmt.BOOL:
            out.append(fmt.YES if getattr(item, col.key) else fmt.NO)
        else:
            out.append(getattr(item, col.key))
    return out


class _Writer:
    """One write-only sheet in the list format: header, widths, frozen header, drop-downs."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(SHEET_TITLE)
        self.ws.freeze_panes = "B2"
        for i, col in enumerate(COLUMNS, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = col.width
        header = []
        for col in COLUMNS:
            cell = WriteOnlyCell(self.ws, value=col.header)
            cell.font = _HEADER_FONT
            cell.fill = _REQUIRED_FILL if col.required else _HEADER_FILL
            cell.alignment = _HEADER_ALIGN
            header.append(cell)
        self.ws.append(header)
        self._validations()
        self.rows = 0

    def _validations(self) -> None:
        lists: dict[str, list[str]] = {"bool": [fmt.YES, fmt.NO]}
        for key in ("item_type", "audience", "online_depth", "result_kind", "min_assurance_level"):
            lists[key] = fmt.choice_options(key)
        for i, col in enumerate(COLUMNS, start=1):
            options = lists.get("bool" if col.kind == fmt.BOOL else col.key)
            if options is None:
                continue
            # A warning, not a stop: the import also accepts short forms such as 四级.
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(options) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=col.header,
                error="请从下拉列表中选择：" + "、".join(options),
            )
            letter = get_column_letter(i)
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            self.ws.data_validations.dataValidation.append(dv)

    def append(self, values: list[Any]) -> None:
        row: list[Any] = []
        for v in values:
            v = _clean(v)
            if v == "":
                row.append(None)  # an empty cell is not written at all: smaller file, faster export
            elif isinstance(v, str) and v.startswith("="):
                # Text such as "=依据…" must stay text: openpyxl would write it as a formula.
                cell = WriteOnlyCell(self.ws, value=v)
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(v)
        self.ws.append(row)
        self.rows += 1

    def save(self, out: str | Path | IO[bytes]) -> None:
        if self.rows:
            self.ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{self.rows + 1}"
        self.wb.save(out)


def write_items(
    items: Iterable[ServiceItem],
    out: str | Path | IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    with translation.override("zh-hans"):
        status_labels = {k: str(v) for k, v in ItemStatus.choices}
    writer = _Writer()
    for item in items:
        writer.append(item_row(item, status_labels))
        if progress and writer.rows % 1000 == 0:
            progress(writer.rows)
    writer.save(out)
    if progress:
        progress(writer.rows)
    return writer.rows


def export_items(
    out: str | Path | IO[bytes],
    *,
    region: Region | None = None,
    department: Department | None = None,
    user=None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the implementation list (working copies) to ``out``; returns the number of rows.

    ``user`` limits the export to the departments the user administers; None (the command line)
    exports everything matching the filters.
    """
    qs = items_for_export(region=region, department=department, user=user)
    return write_items(qs.iterator(chunk_size=1000), out, progress=progress)


def write_template(out: str | Path | IO[bytes]) -> None:
    """An empty list with the header and drop-downs, for departments adding new items."""
    _Writer().save(out)
