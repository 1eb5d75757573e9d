"""Excel workbooks (.xlsx) read as the CSV text the rest of an import reads: no database.

The first sheet is streamed in openpyxl's read-only mode, so a workbook is never held in memory
as cell objects. Cells become the text a "Save as CSV" would write: dates and times in ISO 8601
(without a zone, read in the importer's zone like any CSV time), whole numbers without ".0".
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time
from typing import Any

# Every .xlsx file is a zip archive, whose first bytes are these.
XLSX_MAGIC = b"PK\x03\x04"


class WorkbookError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_workbook(data: bytes) -> bool:
    return data.startswith(XLSX_MAGIC)


def workbook_text(data: bytes) -> str:
    """The first sheet of a workbook as comma-separated text; raises WorkbookError if unreadable."""
    # openpyxl (and numpy, which it loads) is imported here, not with the module: it takes a
    # third of a second, which every process importing a CSV file would pay for nothing.
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookError("The file is not an Excel workbook (.xlsx) that can be read.") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise WorkbookError("The workbook has no sheet.")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([cell_text(value) for value in row])
        return out.getvalue()
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """A cell's value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)
