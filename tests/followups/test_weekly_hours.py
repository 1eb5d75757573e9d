"""The working week as form rows and back, checked with the calendar code's own rules."""

from __future__ import annotations

import pytest

from followups.weekly_hours import check_day, day_intervals, day_rows, working_hours


def test_rows_show_each_weekday_monday_first_with_its_intervals_in_order():
    rows = day_rows({"mon": ["13:30-17:00", "09:00-12:30"], "fri": ["08:00-24:00"]})
    assert [row["day"] for row in rows] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert rows[0] == {"day": "mon", "opens_1": "09:00", "closes_1": "12:30", "opens_2": "13:30", "closes_2": "17:00"}
    assert rows[4] == {"day": "fri", "opens_1": "08:00", "closes_1": "24:00"}
    assert rows[1] == {"day": "tue"}


def test_rows_go_back_to_the_stored_shape_with_every_day():
    hours = {"mon": ["09:00-12:30", "13:30-17:00"], "sat": ["10:00-14:00"]}
    assert working_hours(day_rows(hours)) == {
        "mon": ["09:00-12:30", "13:30-17:00"],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": ["10:00-14:00"],
        "sun": [],
    }


def test_blank_times_are_a_day_off_and_spaces_do_not_count():
    assert day_intervals({"opens_1": " ", "closes_1": "", "opens_2": None}) == []
    assert day_intervals({"opens_1": " 09:00", "closes_1": "17:00 "}) == ["09:00-17:00"]
    assert day_intervals({"opens_2": "13:00", "closes_2": "17:00"}) == ["13:00-17:00"]


@pytest.mark.parametrize("row", [{"opens_1": "09:00"}, {"closes_2": "17:00"}])
def test_half_an_interval_is_refused(row):
    with pytest.raises(ValueError, match="needs both an opening and a closing time"):
        day_intervals(row)


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        (["17:00-09:00"], "ends before it starts"),
        (["09:00-13:00", "12:00-17:00"], "overlaps"),
        (["9h-17:00"], "not a time"),
    ],
)
def test_a_day_is_checked_by_the_calendar_code(intervals, message):
    with pytest.raises(ValueError, match=message):
        check_day("mon", intervals)


def test_a_usable_day_and_a_day_off_pass():
    check_day("mon", ["09:00-12:30", "13:30-24:00"])
    check_day("sun", [])
