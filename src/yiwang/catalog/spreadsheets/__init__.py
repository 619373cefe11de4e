"""Implementation lists (实施清单) as xlsx: export, import with a row-by-row report, and the
back-office upload page. The column format is in ``columns`` and docs/spreadsheets.md."""

from __future__ import annotations

from .columns import COLUMNS, FORMAT_VERSION
from .exporting import export_items, write_template
from .importing import ImportResult, RowError, import_items
from .reading import FileRejected
from .report import write_report

__all__ = [
    "COLUMNS",
    "FORMAT_VERSION",
    "FileRejected",
    "ImportResult",
    "RowError",
    "export_items",
    "import_items",
    "write_report",
    "write_template",
]
