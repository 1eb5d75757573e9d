"""A team's working week as the rows of a form, and back to the JSON the SLA code reads.

The stored shape (``Team.working_hours``) maps "mon".."sun" to lists of "HH:MM-HH:MM" intervals
(``business_time.WorkingCalendar.from_spec``). The settings page shows one row a weekday with up
to two intervals (a morning and an afternoon, around a break); a row left empty is a day off.
Times stay text, so "24:00" closes at midnight exactly as the calendar code allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from followups.business_time import WEEKDAYS, WorkingCalendar

INTERVALS_PER_DAY = 2
WEEKDAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
SLOTS = tuple((f"opens_{n}", f"closes_{n}") for n in range(1, INTERVALS_PER_DAY + 1))


def day_rows(hours: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """One row per weekday, Monday first: {"day", "opens_1", "closes_1", "opens_2", "closes_2"}."""
    rows = []
    for day in WEEKDAYS:
        row = {"day": day}
        for (opens, closes), interval in zip(SLOTS, sorted(hours.get(day, ())), strict=False):
            row[opens], _, row[closes] = interval.partition("-")
        rows.append(row)
    return rows


def day_intervals(row: Mapping[str, str]) -> list[str]:
    """The intervals of one row, as stored; ValueError when a slot has only one of its two times."""
    intervals = []
    for number, (opens, closes) in enumerate(SLOTS, start=1):
        start, end = (row.get(opens) or "").strip(), (row.get(closes) or "").strip()
        if bool(start) != bool(end):
            raise ValueError(f"interval {number} needs both an opening and a closing time")
        if start:
            intervals.append(f"{start}-{end}")
    return intervals


def check_day(day: str, intervals: list[str]) -> None:
    """Raise ValueError, in the calendar code's words, when the day's intervals are not usable."""
    if intervals:
        WorkingCalendar.from_spec("UTC", {day: intervals})


def working_hours(rows: Iterable[Mapping[str, str]]) -> dict[str, list[str]]:
    """The stored shape of the week the rows give: every weekday, an empty list for a day off."""
    return {row["day"]: day_intervals(row) for row in rows}
