"""Reading a CSV file of responses into raw ingestion items: pure functions, no database.

A file becomes the same items an API client would send, so ``surveys.intake`` judges every row
by the rules of API.md and the CSV path adds only what CSV needs:
1. bytes to text: UTF-8 (with or without the BOM spreadsheets write), UTF-16 with a BOM, or
   Windows-1252 (what Excel on Windows saves as "CSV"); an Excel workbook's first sheet is read
   as CSV text by ``surveys.xlsx``;
2. the delimiter, guessed from the header line (spreadsheets in many locales write ``;``);
3. the mapping of columns to fields: the caller's overrides, then the columns of a known tool's
   export (``surveys.export_shapes``), then the header names of ``FIELDS``;
4. cells to JSON-like values: integer scores, times as exports write them read by
   ``surveys.import_times``, empty cells left out (so an empty cell never erases a stored
   customer detail). Without a customer id column the email identifies the customer.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import tzinfo
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from surveys.export_shapes import FIRST_NAME, LAST_NAME, TAGS, is_nps_question, normalise, recognise
from surveys.import_times import DateOrder, TimeError, parse_time
from surveys.intake import MAX_ATTRIBUTES, Errors
from surveys.xlsx import WorkbookError, is_workbook, workbook_text

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
    FIRST_NAME: ("first_name", "firstname"),
    LAST_NAME: ("last_name", "lastname", "surname"),
    TAGS: ("tags", "tag", "labels"),
}
# A customer is identified by its id or, in files without one, by its email.
IDENTITY = ("customer.external_id", "customer.email")
# The attribute that keeps the old tool's tags (those naming a root cause also become codes).
TAGS_ATTRIBUTE = "tags"
TAG_SEPARATORS = re.compile(r"\s*[,;|]\s*")
ATTRIBUTE_VALUE_MAX = 200
# The second and third header rows of SurveyMonkey and Qualtrics exports, seen in the score cell.
SUBHEADER_CELLS = ("response", "open-ended response", '{"importid"')
NOT_NPS = "Not an NPS score from 0 to 10: {value}. Scores on other scales are not converted."
DELIMITERS = (",", ";", "\t", "|")
# Digits only, and few of them: int() refuses strings of thousands of digits.
SCORE_DIGITS = re.compile(r"[0-9]{1,4}")
# Column names are the file's own text; messages quote at most this much of one.
SHOWN_NAME_MAX = 60


# A file's text, or a seekable stream of it.
Source = str | TextIO
NUL_MESSAGE = "The file contains NUL characters: is it a spreadsheet rather than a CSV file?"
NEITHER_MESSAGE = (
    "The file is neither UTF-8 nor Windows-1252 text. Save it as \u201cCSV UTF-8\u201d and upload it again."
)
# How much of a file is decoded at a time when its encoding is found.
SNIFF_CHUNK = 1024 * 1024


class CsvFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the uploader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsvRow(NamedTuple):
    """One record of the file: its first line number and either a raw item or errors.

    A named tuple: as immutable as a frozen dataclass and several times cheaper to build, once
    per record of a file of millions.
    """

    line: int
    item: dict[str, Any] | None = None
    errors: Errors | None = None
    # The non-empty cells by field, for reporting the value a rejected row had.
    values: dict[str, str] | None = None
    # The old tool's tags: those naming a root cause become its codes.
    tags: tuple[str, ...] = ()


def read_upload(data: bytes) -> str:
    """The text of an uploaded file: a CSV file decoded, or an Excel workbook's first sheet."""
    if is_workbook(data):
        try:
            return workbook_text(data)
        except WorkbookError as exc:
            raise CsvFileError(exc.message) from exc
    return decode(data)


def header_key(header: Sequence[str]) -> str:
    """What files with the same columns share, whatever their order or case: saved mappings' key."""
    names = sorted(normalise(name) for name in header if name)
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def decode(data: bytes) -> str:
    """The file's text; refuse what is not UTF-8 or BOM-marked UTF-16 text."""
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-16":
            raise CsvFileError("The file is not valid UTF-16 text.") from exc
        text = _windows_1252(data)
    # Neither PostgreSQL text nor any response field can hold NUL; a binary file (a spreadsheet
    # saved as .xlsx, say) usually contains one.
    if "\x00" in text:
        raise CsvFileError(NUL_MESSAGE)
    return text


def file_encoding(path: Path) -> str:
    """The encoding to open a CSV file on disk with: what ``decode`` would find, read in chunks.

    UTF-16 when a byte-order mark says so, else UTF-8, else Windows-1252; a file with NUL
    characters or in neither encoding is refused, as ``decode`` refuses it.
    """
    with path.open("rb") as file:
        if file.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            return "utf-16"
        for encoding in ("utf-8-sig", "cp1252"):
            file.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := file.read(SNIFF_CHUNK):
                    if b"\x00" in chunk:
                        raise CsvFileError(NUL_MESSAGE)
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    raise CsvFileError(NEITHER_MESSAGE)


def _windows_1252(data: bytes) -> str:
    """Text that is not UTF-8: Excel on Windows saves CSV files in Windows-1252."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        # Five bytes have no character in Windows-1252: such a file is in some other encoding.
        raise CsvFileError(NEITHER_MESSAGE) from exc


def _shown(name: str) -> str:
    return repr(name if len(name) <= SHOWN_NAME_MAX else name[:SHOWN_NAME_MAX] + "\u2026")


def _first_line(stream: TextIO) -> str:
    for line in stream:
        if line.strip():
            return line
    return ""


def _records(source: Source) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) of every non-blank record, the header included.

    ``source`` is the file's text, or a seekable text stream (a file opened with
    ``newline=""``) read from its start, so a large file is never held in memory.
    The delimiter is the candidate that splits the header line into the most columns; max()
    keeps the first of equal candidates, so a one-column file reads as comma-separated.
    """
    stream = io.StringIO(source, newline="") if isinstance(source, str) else source
    stream.seek(0)
    first_line = _first_line(stream)
    stream.seek(0)
    delimiter = max(DELIMITERS, key=lambda d: len(next(csv.reader([first_line], delimiter=d), [])))
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    last_line = 0
    try:
        for cells in reader:
            # A quoted cell may span lines: a record starts just after the previous one ended.
            first, last_line = last_line + 1, reader.line_num
            if "".join(cells).strip():
                yield first, cells
    except csv.Error as exc:
        raise CsvFileError(f"Line {last_line + 1}: the file is not valid CSV ({exc}).") from exc


def read_header(text: Source) -> list[str]:
    """The column names of the file (its first non-blank record)."""
    for _, cells in _records(text):
        header = [cell.strip() for cell in cells]
        named = [name for name in header if name]
        repeated = sorted({name for name in named if named.count(name) > 1})
        if repeated:
            raise CsvFileError(f"Column names must be unique; repeated: {', '.join(map(_shown, repeated))}.")
        return header
    raise CsvFileError("The file is empty.")


def resolve_mapping(
    header: Sequence[str], overrides: Mapping[str, str] | None = None, *, exact: bool = False
) -> dict[str, str]:
    """Map each field to the column that feeds it.

    The overrides come first; then, unless ``exact`` (the overrides are then the whole
    mapping, as the upload page's preview sets it), the columns a known tool's export uses,
    the NPS question, and names that say the field. Columns named ``attribute:<name>`` become
    the customer's segment attribute ``<name>``, and so do the person's properties in a known
    tool's export; an override ``{"attribute:plan": "Plan"}`` does the same for any column.
    Columns that map to nothing are ignored.
    """
    mapping = propose_mapping(header, overrides, exact=exact)
    _check_complete(mapping, [name for name in header if name])
    return mapping


def propose_mapping(
    header: Sequence[str], overrides: Mapping[str, str] | None = None, *, exact: bool = False
) -> dict[str, str]:
    """``resolve_mapping`` without requiring the fields every import needs: what a preview offers."""
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
    if not exact:
        _add_found(mapping, columns, by_normal_name)
    return mapping


def _add_found(mapping: dict[str, str], columns: Sequence[str], by_normal_name: Mapping[str, str]) -> None:
    recognition = recognise(columns)
    if recognition.refused and "score" not in mapping:
        raise CsvFileError(recognition.refused)
    taken = set(mapping.values())
    for field, column in recognition.columns.items():
        if field not in mapping and column not in taken:
            mapping[field] = column
            taken.add(column)
    for field, aliases in FIELDS.items():
        if field not in mapping:
            found = next((by_normal_name[alias] for alias in aliases if alias in by_normal_name), None)
            if found is not None and found not in taken:
                mapping[field] = found
                taken.add(found)
    for column in columns:
        if normalise(column).startswith(ATTRIBUTE_PREFIX):
            field = ATTRIBUTE_PREFIX + column.split(":", 1)[1].strip()
            _check_field(field)
            mapping.setdefault(field, column)
    for column in recognition.attributes:
        field = ATTRIBUTE_PREFIX + column[:ATTRIBUTE_NAME_MAX]
        attributes = sum(1 for name in mapping if name.startswith(ATTRIBUTE_PREFIX)) + (TAGS in mapping)
        # Past the limit, further properties are left out rather than the file refused.
        if column not in taken and field not in mapping and attributes < MAX_ATTRIBUTES:
            mapping[field] = column


def tool_of(header: Sequence[str]) -> str:
    """The tool whose export the file is, as the report names it, or "" for another file."""
    return recognise([name for name in header if name]).tool or ""


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
    missing = [field for field in ("score",) if field not in mapping]
    if not any(field in mapping for field in IDENTITY):
        missing.insert(0, "customer.external_id")
    if missing:
        needed = " and ".join(f"{field} (named {' or '.join(_plain_aliases(field))})" for field in missing)
        if "customer.external_id" in missing:
            needed += " (or customer.email, which then identifies the customer)"
        found = ", ".join(map(_shown, columns)) or "none"
        raise CsvFileError(f"The file needs a column for {needed}, or a mapping that names it. Columns found: {found}.")
    attributes = [field for field in mapping if field.startswith(ATTRIBUTE_PREFIX)]
    if len(attributes) + (TAGS in mapping) > MAX_ATTRIBUTES:
        raise CsvFileError(f"At most {MAX_ATTRIBUTES} attribute columns.")


def identified_by_email(mapping: Mapping[str, str]) -> bool:
    """Whether the customers of a file with this mapping are identified by their email."""
    return "customer.external_id" not in mapping


def count_rows(text: Source) -> int:
    """The number of data records; raises CsvFileError at the first line that is not valid CSV."""
    return max(sum(1 for _ in _records(text)) - 1, 0)


def read_rows(
    text: Source,
    *,
    mapping: Mapping[str, str],
    survey: str,
    tz: tzinfo,
    date_order: DateOrder | None = None,
) -> Iterator[CsvRow]:
    """Yield every data record as a raw item of ``survey``, in file order.

    ``mapping`` comes from ``resolve_mapping`` for this file. A time without a UTC offset is
    read in ``tz``; a date alone is midnight there; a date such as 03/10/2026 is read in
    ``date_order``, and without one a row where the order matters is rejected. A row without an
    ``external_id`` gets one derived from its content, so importing a file again stores
    nothing twice. The header rows some tools add below the first (SurveyMonkey, Qualtrics)
    are skipped.
    """
    records = _records(text)
    header = [cell.strip() for cell in next(records, (0, []))[1]]
    index = {name: position for position, name in enumerate(header) if name}
    missing = [column for column in mapping.values() if column not in index]
    if missing:
        raise CsvFileError(f"The file has no column {_shown(missing[0])}.")
    plan = [(field, index[column], *_kind(field)) for field, column in mapping.items()]
    score_at = index[mapping["score"]] if "score" in mapping else None
    by_email = identified_by_email(mapping)
    split_name = FIRST_NAME in mapping or LAST_NAME in mapping
    width = len(header)
    leading = True
    for line, cells in records:
        if leading and score_at is not None and _is_subheader(cells, score_at):
            continue
        leading = False
        if len(cells) < width:
            # Missing cells at the end of a record are empty ones.
            cells += [""] * (width - len(cells))
        elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
            message = f"Expected {width} columns, found {len(cells)}."
            yield CsvRow(line, errors={"non_field_errors": [message]})
            continue
        customer: dict[str, Any] = {}
        item: dict[str, Any] = {"survey": survey, "customer": customer}
        values: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        tags: tuple[str, ...] = ()
        for field, position, kind, key in plan:
            cell = cells[position].strip()
            if not cell:
                continue
            values[field] = cell
            if kind is _CUSTOMER:
                customer[key] = cell
            elif kind is _ATTRIBUTE:
                customer.setdefault("attributes", {})[key] = cell
            elif kind is _PLAIN:
                item[key] = cell
            elif kind is _SCORE:
                # Anything but plain digits is refused here, saying that other scales are not converted.
                if SCORE_DIGITS.fullmatch(cell):
                    item["score"] = int(cell)
                else:
                    errors[field] = [NOT_NPS.format(value=_shown(cell))]
            elif kind is _TIME:
                try:
                    item["submitted_at"] = parse_time(cell, tz=tz, date_order=date_order).isoformat()
                except TimeError as exc:
                    errors[field] = [exc.message]
            elif kind is _CHANNEL:
                item["channel"] = cell.lower()
            else:
                tags = _tags(cell)
                customer.setdefault("attributes", {})[TAGS_ATTRIBUTE] = cell[:ATTRIBUTE_VALUE_MAX]
        if split_name:
            _join_name(customer)
        if by_email:
            _identify_by_email(customer, errors)
        if errors:
            yield CsvRow(line, errors=errors, values=values)
            continue
        if "external_id" not in item:
            item["external_id"] = _row_key(item)
        yield CsvRow(line, item=item, values=values, tags=tags)


def _is_subheader(cells: Sequence[str], score_at: int) -> bool:
    cell = cells[score_at].strip().lower() if score_at < len(cells) else ""
    return not cell.isdigit() and (cell.startswith(SUBHEADER_CELLS) or is_nps_question(cell))


def _tags(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tag for tag in TAG_SEPARATORS.split(cell) if tag))


def _join_name(customer: dict[str, Any]) -> None:
    """customer.name from the first and last names of exports that keep them apart."""
    parts = [customer.pop(key) for key in ("first_name", "last_name") if key in customer]
    if parts and "name" not in customer:
        customer["name"] = " ".join(parts)


def _identify_by_email(customer: dict[str, Any], errors: dict[str, list[str]]) -> None:
    email = customer.get("email", "").strip().lower()
    if email:
        customer["email"] = email
        customer["external_id"] = email
    else:
        errors["customer.email"] = ["No customer id column, and this row has no email to identify the customer."]


def _row_key(item: dict[str, Any]) -> str:
    """An idempotency key for a row that brings none: the same row imported again is a duplicate."""
    content = json.dumps({k: v for k, v in item.items() if k != "survey"}, sort_keys=True, default=str)
    return "csv:" + hashlib.sha256(content.encode()).hexdigest()[:40]


class _Kind(Enum):
    """How a field's cell goes into an item; decided once per column, not once per cell."""

    CUSTOMER = 1
    ATTRIBUTE = 2
    PLAIN = 3
    SCORE = 4
    TIME = 5
    CHANNEL = 6
    TAGS = 7


# The loop over every cell compares kinds with these: a member looked up on its Enum class
# costs more than the comparison, a few times a cell.
_CUSTOMER, _ATTRIBUTE, _PLAIN, _SCORE, _TIME, _CHANNEL = (
    _Kind.CUSTOMER,
    _Kind.ATTRIBUTE,
    _Kind.PLAIN,
    _Kind.SCORE,
    _Kind.TIME,
    _Kind.CHANNEL,
)


def _kind(field: str) -> tuple[_Kind, str]:
    """The kind of a mapped field and the key its value is stored under."""
    if field.startswith(ATTRIBUTE_PREFIX):
        return _Kind.ATTRIBUTE, field[len(ATTRIBUTE_PREFIX) :]
    if field.startswith("customer."):
        return _Kind.CUSTOMER, field.removeprefix("customer.")
    special = {"score": _Kind.SCORE, "submitted_at": _Kind.TIME, "channel": _Kind.CHANNEL, TAGS: _Kind.TAGS}
    return special.get(field, _Kind.PLAIN), field


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
