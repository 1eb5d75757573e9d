"""Calendar quarters (followups.quarters): parsing, neighbours, bounds in a time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from followups.quarters import Quarter, recent_quarters


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 1, 1), "2026-Q1"),
        (date(2026, 3, 31), "2026-Q1"),
        (date(2026, 4, 1), "2026-Q2"),
        (date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_a_day_is_in_its_quarter(day, label):
    assert Quarter.containing(day).label == label


@pytest.mark.parametrize("label", ["2026-Q5", "2026-Q0", "26-Q1", "2026Q1", "", "2026-q1 x"])
def test_only_quarter_labels_parse(label):
    with pytest.raises(ValueError, match="a quarter reads like 2026-Q3, not"):
        Quarter.parse(label)


def test_labels_parse_back():
    assert Quarter.parse(" 2026-Q3 ") == Quarter(2026, 3)


def test_neighbours_cross_the_year():
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2026, 2).previous() == Quarter(2026, 1)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2026, 3).next() == Quarter(2026, 4)


def test_bounds_are_midnights_in_the_zone():
    start, end = Quarter(2026, 4).bounds(ZoneInfo("Europe/Berlin"))
    assert start.astimezone(UTC) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert Quarter(2026, 2).first_day == date(2026, 4, 1)


def test_recent_quarters_are_newest_first():
    assert [q.label for q in recent_quarters(date(2026, 2, 10), 3)] == ["2026-Q1", "2025-Q4", "2025-Q3"]
    assert recent_quarters(date(2026, 2, 10), 1) == [Quarter(2026, 1)]
