"""Times as other tools' exports write them, read into aware datetimes: pure, no database.

Exports write ISO 8601 in many spellings (``2026-10-01 10:00:00 UTC``, ``2026-10-01T10:00Z``,
fractions, no seconds), Unix timestamps in seconds or milliseconds, and dates with slashes or
dots in the order of the exporting account's locale (``03/10/2026 09:15``). The order of such a
date is the importer's choice; without one, a date that reads differently either way is refused
as ambiguous rather than guessed. A time without a zone is read in the zone the importer gives.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum

# Unix times with 9 or 10 digits are seconds (from 1973 to 2286), 12 or 13 are milliseconds.
_UNIX = re.compile(r"(?P<digits>[0-9]{9,10}|[0-9]{12,13})(?:\.(?P<fraction>[0-9]{1,6}))?")
# Zone names exports append to a time, all meaning UTC.
_UTC_SUFFIX = re.compile(r"\s*(?:Z|UTC|GMT)$", re.IGNORECASE)
_OFFSET_SUFFIX = re.compile(r"\s*(?:UTC|GMT)?\s*(?P<offset>[+-][0-9]{2}(?::?[0-9]{2})?)$", re.IGNORECASE)
# What ends a clock, so that a sign after it starts an offset: minutes, or an hour alone after T.
_CLOCK_END = re.compile(r":|[T ][0-9]{1,2}$")
# An offset the one-call path may keep: hours and minutes 00-59, as ``_zone`` allows them.
_FAST_OFFSET = re.compile(r"[+-][0-9]{2}(?::?[0-5][0-9])?$")
# " UTC" and " GMT" as most exports write them; other spellings take the careful path.
_FAST_UTC = (" UTC", " utc", " GMT", " gmt")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{1,2}(?::[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?)?)?")
_LOCAL = re.compile(
    r"(?P<a>[0-9]{1,2})(?P<sep>[/.-])(?P<b>[0-9]{1,2})(?P=sep)(?P<year>[0-9]{4}|[0-9]{2})"
    r"(?:,?[T ]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,6}))?)?"
    r"\s*(?P<half>[AaPp][Mm])?)?"
)
_YEAR_FIRST = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>[/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    r"(?:[T ]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?)?"
)


class DateOrder(StrEnum):
    """How the importer says a date such as 03/10/2026 is written."""

    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"


class TimeError(ValueError):
    """A cell that is not a time; ``ambiguous`` when only the date order is missing."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.ambiguous = ambiguous


def parse_time(cell: str, *, tz: tzinfo, date_order: DateOrder | None = None) -> datetime:
    """The aware time a cell writes; raises TimeError saying why it cannot be read."""
    text = cell.strip()
    fast = _iso_fast(text, tz)
    if fast is not None:
        return fast
    zone, text = _zone(text, tz)
    unix = _UNIX.fullmatch(text)
    if unix is not None:
        return _from_unix(unix)
    if _ISO.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TimeError(f"Not a valid date: {cell!r}.") from exc
        return parsed.replace(tzinfo=zone)
    year_first = _YEAR_FIRST.fullmatch(text)
    if year_first is not None:
        parts = year_first.groupdict()
        return _build(parts["year"], parts["month"], parts["day"], parts, cell).replace(tzinfo=zone)
    local = _LOCAL.fullmatch(text)
    if local is not None:
        return _local(local, date_order, cell).replace(tzinfo=zone)
    raise TimeError(
        f"Not a time: {cell!r}. Write ISO 8601 (2026-10-01 10:00), a Unix timestamp, or a date such as 01/10/2026."
    )


def _iso_fast(text: str, tz: tzinfo) -> datetime | None:
    """Most exports write ISO 8601, possibly with " UTC": read those in one C call, or None."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    utc = text.endswith(_FAST_UTC)
    try:
        parsed = datetime.fromisoformat(text[:-4] if utc else text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC if utc else tz)
    # "... +01:00 UTC" names two zones, and fromisoformat reads "+05:60" as +06:00 and offsets
    # with seconds: the careful path says what it makes of those.
    if utc or not (text.endswith("Z") or _FAST_OFFSET.search(text)):
        return None
    return parsed


def _zone(text: str, tz: tzinfo) -> tuple[tzinfo, str]:
    """The zone a time names at its end (or ``tz``), and the time without it."""
    utc = _UTC_SUFFIX.search(text)
    if utc is not None:
        return UTC, text[: utc.start()]
    offset = _OFFSET_SUFFIX.search(text)
    # A date such as 2026-10-01 ends in what looks like an offset: only a time after a clock has one.
    if offset is not None and _CLOCK_END.search(text[: offset.start()]):
        digits = offset["offset"].replace(":", "")
        hours, minutes = int(digits[1:3]), int(digits[3:5] or 0)
        if hours > 23 or minutes > 59:
            raise TimeError(f"Not a valid UTC offset: {text!r}.")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if digits[0] == "-" else delta), text[: offset.start()]
    return tz, text


def _from_unix(match: re.Match[str]) -> datetime:
    digits = match["digits"]
    seconds = int(digits) / 1000 if len(digits) > 10 else int(digits)
    fraction = match["fraction"]
    if fraction:
        seconds += int(fraction) / 10 ** len(fraction) / (1000 if len(digits) > 10 else 1)
    return datetime.fromtimestamp(seconds, tz=UTC)


def _local(match: re.Match[str], order: DateOrder | None, cell: str) -> datetime:
    a, b = int(match["a"]), int(match["b"])
    if order is None:
        if a != b and a <= 12 and b <= 12:
            raise TimeError(f"Ambiguous date {cell!r}: say whether dates are day-first or month-first.", ambiguous=True)
        # Only one reading is a date: a number above 12 is the day.
        order = DateOrder.DAY_FIRST if a > 12 else DateOrder.MONTH_FIRST
    day, month = (match["a"], match["b"]) if order == DateOrder.DAY_FIRST else (match["b"], match["a"])
    year = match["year"] if len(match["year"]) == 4 else "20" + match["year"]
    return _build(year, month, day, match.groupdict(), cell)


def _build(year: str, month: str, day: str, parts: dict[str, str | None], cell: str) -> datetime:
    hour = int(parts.get("hour") or 0)
    half = (parts.get("half") or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise TimeError(f"Not a valid time: {cell!r}.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    fraction = parts.get("fraction") or ""
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            hour,
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
            int(fraction.ljust(6, "0")),
        )
    except ValueError as exc:
        raise TimeError(f"Not a valid date: {cell!r}.") from exc
