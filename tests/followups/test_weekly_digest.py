"""The weekly digest's pure rules (followups.weekly_digest): the week it covers, new and rising
themes, and its stop link's token. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followups.weekly_digest import DigestWeek, new_and_rising, stop_token, user_from_stop_token


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        (date(2026, 11, 30), date(2026, 11, 23), "2026-W48"),  # a Monday: the week before
        (date(2026, 12, 6), date(2026, 11, 23), "2026-W48"),  # the Sunday after: still that week
        (date(2026, 12, 7), date(2026, 11, 30), "2026-W49"),
        (date(2027, 1, 4), date(2026, 12, 28), "2026-W53"),  # ISO weeks cross the new year
    ],
)
def test_the_digest_covers_the_last_complete_week(day, start, label):
    week = DigestWeek.before(day)
    assert (week.start, week.label, week.last_day) == (start, label, start + timedelta(days=6))
    assert week.previous().start == start - timedelta(days=7)


def _row(name: str, responses: int, previous: int) -> dict:
    return {"name": name, "responses": responses, "previous_responses": previous}


def test_new_themes_were_not_raised_the_week_before_and_rising_ones_more_often():
    rows = [
        _row("Steady", 3, 3),
        _row("Falling", 1, 4),
        _row("Gone", 0, 5),
        _row("Never", 0, 0),
        _row("New small", 1, 0),
        _row("New big", 4, 0),
        _row("Up one", 3, 2),
        _row("Up three", 5, 2),
        _row("Also up three", 4, 1),
    ]
    new, rising = new_and_rising(rows)
    assert [row["name"] for row in new] == ["New big", "New small"]
    assert [row["name"] for row in rising] == ["Also up three", "Up three", "Up one"]


def test_at_most_five_of_each_are_listed():
    new, rising = new_and_rising(
        [_row(f"T{n}", 2 + n, 0) for n in range(7)] + [_row(f"R{n}", 9, n + 1) for n in range(7)]
    )
    assert len(new) == 5 and len(rising) == 5
    assert new[0]["name"] == "T6" and rising[0]["name"] == "R0"


def test_stop_tokens_name_their_user_and_nothing_else():
    assert user_from_stop_token(stop_token(42)) == 42
    assert user_from_stop_token(stop_token(42) + "x") is None
    assert user_from_stop_token("42") is None


def test_a_week_runs_from_monday_midnight_to_the_next_in_the_zone():
    start, end = DigestWeek(date(2026, 11, 23)).bounds(ZoneInfo("Europe/Berlin"))
    assert start == datetime(2026, 11, 22, 23, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, 23, tzinfo=UTC)
