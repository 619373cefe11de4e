"""The download formats of a dataset, written row by row so that 70,000 items never sit in memory."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .datasets import Dataset


@dataclass(frozen=True)
class Format:
    name: str  # CKAN resource format
    extension: str
    mimetype: str


CSV = Format("CSV", "csv", "text/csv")
JSON = Format("JSON", "json", "application/json")
XLSX = Format("XLSX", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FORMATS: dict[str, Format] = {f.extension: f for f in (CSV, JSON, XLSX)}

# A cell starting with one of these is a formula to Excel: a published "=..." or "@..." must stay
# text when a person opens the CSV (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like that hands back what csv.writer writes, one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(dataset: Dataset) -> Iterator[str]:
    """UTF-8 CSV with a byte-order mark, so that Excel reads the Chinese correctly."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(dataset.column_keys())
    for row in dataset.typed_rows():
        yield writer.writerow([_csv_cell(v) for v in row.values()])


def json_chunks(dataset: Dataset) -> Iterator[str]:
    """A JSON array of row objects, one object per line."""
    yield "[\n"
    first = True
    for row in dataset.typed_rows():
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False, cls=DjangoJSONEncoder)
        first = False
    yield "\n]\n"


def xlsx_file(dataset: Dataset) -> IO[bytes]:
    """The workbook in a temporary file (a zip cannot be streamed as it is written); openpyxl's
    write-only mode keeps one row in memory at a time."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(dataset.name[:31])
    ws.append(dataset.column_keys())
    for row in dataset.typed_rows():
        cells: list[Any] = []
        for value in row.values():
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith("="):
                    # openpyxl would write it as a formula: keep it text.
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"
                    cells.append(cell)
                    continue
                value = value or None
            cells.append(value)
        ws.append(cells)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    return out
