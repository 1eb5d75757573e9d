"""Reading a CSV file of responses into raw ingestion items: pure functions, no database.

A file becomes the same items an API client would send, so ``surveys.intake`` judges every row
by the rules of API.md and the CSV path adds only what CSV needs:
1. bytes to text: UTF-8 (with or without the BOM spreadsheets write) or UTF-16 with a BOM;
2. the delimiter, guessed from the header line (spreadsheets in many locales write ``;``);
3. the mapping of columns to fields, from the header names with the caller's overrides;
4. cells to JSON-like values: integer scores, times without an offset read in a given zone,
   empty cells left out (so an empty cell never erases a stored customer detail).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from surveys.intake import MAX_ATTRIBUTES, Errors

ATTRIBUTE_PREFIX = "attribute:"
ATTRIBUTE_NAME_MAX = 64

# Each field an item can carry, with the header names (normalised: lower case, "_" for spaces
# and hyphens) that map to it without an override, in order of preference.
FIELDS: dict[str, tuple[str, ...]] = {
    "customer.external_id": ("customer.external_id", "customer_external_id", "customer_id", "customer"),
    "customer.email": ("customer.email", "customer_email", "email", "e_mail"),
    "customer.name": ("customer.name", "customer_name", "name"),
    "customer.phone": ("customer.phone", "customer_phone", "phone"),
    "score": ("score", "nps", "nps_score", "rating"),
    "comment": ("comment", "reason", "why", "feedback"),
    "channel": ("channel",),
    "submitted_at": ("submitted_at", "submitted", "date", "timestamp", "responded_at"),
    "external_id": ("external_id", "response_id"),
    "ticket_ref": ("ticket_ref", "ticket", "ticket_id"),
}
REQUIRED = ("customer.external_id", "score")
DELIMITERS = (",", ";", "\t", "|")
# Digits only, and few of them: int() refuses strings of thousands of digits.
SCORE_DIGITS = re.compile(r"[0-9]{1,4}")
# Column names are the file's own text; messages quote at most this much of one.
SHOWN_NAME_MAX = 60


class CsvFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the uploader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One record of the file: its first line number and either a raw item or errors."""

    line: int
    item: dict[str, Any] | None = None
    errors: Errors | None = None


def decode(data: bytes) -> str:
    """The file's text; refuse what is not UTF-8 or BOM-marked UTF-16 text."""
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvFileError("The file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d and upload it again.") from exc
    # Neither PostgreSQL text nor any response field can hold NUL; a binary file (a spreadsheet
    # saved as .xlsx, say) usually contains one.
    if "\x00" in text:
        raise CsvFileError("The file contains NUL characters: is it a spreadsheet rather than a CSV file?")
    return text


def _shown(name: str) -> str:
    return repr(name if len(name) <= SHOWN_NAME_MAX else name[:SHOWN_NAME_MAX] + "\u2026")


def normalise(name: str) -> str:
    """A header name as the aliases of ``FIELDS`` are written: "Customer ID" -> "customer_id"."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _first_line(text: str) -> str:
    for line in io.StringIO(text, newline=""):
        if line.strip():
            return line
    return ""


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) of every non-blank record, the header included.

    The delimiter is the candidate that splits the header line into the most columns; max()
    keeps the first of equal candidates, so a one-column file reads as comma-separated.
    """
    first_line = _first_line(text)
    delimiter = max(DELIMITERS, key=lambda d: len(next(csv.reader([first_line], delimiter=d), [])))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    last_line = 0
    try:
        for cells in reader:
            # A quoted cell may span lines: a record starts just after the previous one ended.
            first, last_line = last_line + 1, reader.line_num
            if "".join(cells).strip():
                yield first, cells
    except csv.Error as exc:
        raise CsvFileError(f"Line {last_line + 1}: the file is not valid CSV ({exc}).") from exc


def read_header(text: str) -> list[str]:
    """The column names of the file (its first non-blank record)."""
    for _, cells in _records(text):
        header = [cell.strip() for cell in cells]
        named = [name for name in header if name]
        repeated = sorted({name for name in named if named.count(name) > 1})
        if repeated:
            raise CsvFileError(f"Column names must be unique; repeated: {', '.join(map(_shown, repeated))}.")
        return header
    raise CsvFileError("The file is empty.")


def resolve_mapping(header: Sequence[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each field to the column that feeds it: the overrides, then names that say the field.

    Columns named ``attribute:<name>`` become the customer's segment attribute ``<name>``; an
    override ``{"attribute:plan": "Plan"}`` does the same for any column. Columns that map to
    nothing are ignored.
    """
    columns = [name for name in header if name]
    by_normal_name: dict[str, str] = {}
    for name in columns:
        by_normal_name.setdefault(normalise(name), name)
    mapping: dict[str, str] = {}
    for field, column in (overrides or {}).items():
        _check_field(field)
        if column not in columns:
            column = by_normal_name.get(normalise(column), column)
        if column not in columns:
            raise CsvFileError(f"The file has no column {_shown(column)} for {field}.")
        mapping[field] = column
    for field, aliases in FIELDS.items():
        if field not in mapping:
            found = next((by_normal_name[alias] for alias in aliases if alias in by_normal_name), None)
            if found is not None:
                mapping[field] = found
    for column in columns:
        if normalise(column).startswith(ATTRIBUTE_PREFIX):
            field = ATTRIBUTE_PREFIX + column.split(":", 1)[1].strip()
            _check_field(field)
            mapping.setdefault(field, column)
    _check_complete(mapping, columns)
    return mapping


def _check_field(field: str) -> None:
    if field in FIELDS:
        return
    if field.startswith(ATTRIBUTE_PREFIX):
        name = field[len(ATTRIBUTE_PREFIX) :]
        if name and len(name) <= ATTRIBUTE_NAME_MAX:
            return
        raise CsvFileError(f"An attribute name has 1 to {ATTRIBUTE_NAME_MAX} characters, not {_shown(name)}.")
    raise CsvFileError(f"Unknown field {_shown(field)}: use one of {', '.join(FIELDS)} or attribute:<name>.")


def _plain_aliases(field: str) -> list[str]:
    return [alias for alias in FIELDS[field] if "." not in alias]


def _check_complete(mapping: Mapping[str, str], columns: Sequence[str]) -> None:
    missing = [field for field in REQUIRED if field not in mapping]
    if missing:
        needed = " and ".join(f"{field} (named {' or '.join(_plain_aliases(field))})" for field in missing)
        found = ", ".join(map(_shown, columns)) or "none"
        raise CsvFileError(f"The file needs a column for {needed}, or a mapping that names it. Columns found: {found}.")
    attributes = [field for field in mapping if field.startswith(ATTRIBUTE_PREFIX)]
    if len(attributes) > MAX_ATTRIBUTES:
        raise CsvFileError(f"At most {MAX_ATTRIBUTES} attribute columns.")


def count_rows(text: str) -> int:
    """The number of data records; raises CsvFileError at the first line that is not valid CSV."""
    return max(sum(1 for _ in _records(text)) - 1, 0)


def read_rows(text: str, *, mapping: Mapping[str, str], survey: str, tz: tzinfo) -> Iterator[CsvRow]:
    """Yield every data record as a raw item of ``survey``, in file order.

    ``mapping`` comes from ``resolve_mapping`` for this file. A time without a UTC offset is
    read in ``tz``; a date alone is midnight there. A row without an ``external_id`` gets one
    derived from its content, so importing a file again stores nothing twice.
    """
    records = _records(text)
    header = [cell.strip() for cell in next(records, (0, []))[1]]
    index = {name: position for position, name in enumerate(header) if name}
    missing = [column for column in mapping.values() if column not in index]
    if missing:
        raise CsvFileError(f"The file has no column {_shown(missing[0])}.")
    plan = [(field, index[column]) for field, column in mapping.items()]
    for line, cells in records:
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            message = f"Expected {len(header)} columns, found {len(cells)}."
            yield CsvRow(line, errors={"non_field_errors": [message]})
            continue
        item: dict[str, Any] = {"survey": survey, "customer": {}}
        for field, position in plan:
            cell = cells[position].strip() if position < len(cells) else ""
            if cell:
                _put(item, field, cell, tz)
        item.setdefault("external_id", _row_key(item))
        yield CsvRow(line, item=item)


def _row_key(item: dict[str, Any]) -> str:
    """An idempotency key for a row that brings none: the same row imported again is a duplicate."""
    content = json.dumps({k: v for k, v in item.items() if k != "survey"}, sort_keys=True, default=str)
    return "csv:" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _put(item: dict[str, Any], field: str, cell: str, tz: tzinfo) -> None:
    if field.startswith(ATTRIBUTE_PREFIX):
        item["customer"].setdefault("attributes", {})[field[len(ATTRIBUTE_PREFIX) :]] = cell
    elif field.startswith("customer."):
        item["customer"][field.removeprefix("customer.")] = cell
    elif field == "score":
        # Anything but plain digits stays text, for intake to refuse with its usual message.
        item["score"] = int(cell) if SCORE_DIGITS.fullmatch(cell) else cell
    elif field == "submitted_at":
        item["submitted_at"] = _time(cell, tz)
    elif field == "channel":
        item["channel"] = cell.lower()
    else:
        item[field] = cell


def _time(cell: str, tz: tzinfo) -> str:
    """An ISO 8601 time with an offset, or the cell unchanged when it is not a date or time."""
    try:
        parsed = parse_datetime(cell)
        if parsed is None:
            day = parse_date(cell)
            parsed = None if day is None else datetime.combine(day, time())
    except ValueError:
        parsed = None
    if parsed is None:
        return cell
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def flatten_errors(errors: Errors | dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """Intake's nested errors keyed by field as in ``FIELDS``: {"customer": {"email": [..]}} ->
    {"customer.email": [..]}."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        if isinstance(value, dict):
            flat.update(flatten_errors(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = list(value)
    return flat
