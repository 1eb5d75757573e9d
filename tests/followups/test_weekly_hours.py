"""The working week as form rows and back, checked with the calendar code's own rules."""

from __future__ import annotations

import pytest

from followups.weekly_hours import SLOTS, WEEKDAY_NAMES, check_day, day_intervals, day_rows, working_hours


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


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"opens_1": "09:00"}, "interval 1 needs both an opening and a closing time"),
        ({"closes_1": "17:00", "opens_2": "", "closes_2": ""}, "interval 1 needs both an opening and a closing time"),
        (
            {"opens_1": "09:00", "closes_1": "12:00", "closes_2": "17:00"},
            "interval 2 needs both an opening and a closing time",
        ),
        ({"opens_2": "13:00", "closes_2": " "}, "interval 2 needs both an opening and a closing time"),
    ],
)
def test_half_an_interval_is_refused_naming_which_one(row, message):
    with pytest.raises(ValueError) as refused:
        day_intervals(row)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        (
            ["17:00-09:00"],
            "tue: 17:00:00-09:00:00 ends before it starts (an interval may not cross midnight: split it)",
        ),
        (["09:00-13:00", "12:00-17:00"], "tue: 09:00:00-13:00:00 overlaps 12:00:00-17:00:00"),
        (["9h-17:00"], "tue: '9h' is not a time of day (00:00 to 23:59, or 24:00 to close)"),
    ],
)
def test_a_day_is_refused_in_the_calendar_codes_exact_words_naming_the_day(intervals, message):
    with pytest.raises(ValueError) as refused:
        check_day("tue", intervals)
    assert str(refused.value) == message


def test_rows_show_at_most_two_intervals_and_weekdays_have_their_names():
    rows = day_rows({"wed": ["13:00-14:00", "09:00-10:00", "11:00-12:00"]})
    assert rows[2] == {"day": "wed", "opens_1": "09:00", "closes_1": "10:00", "opens_2": "11:00", "closes_2": "12:00"}
    assert WEEKDAY_NAMES == {
        "mon": "Monday",
        "tue": "Tuesday",
        "wed": "Wednesday",
        "thu": "Thursday",
        "fri": "Friday",
        "sat": "Saturday",
        "sun": "Sunday",
    }
    assert SLOTS == (("opens_1", "closes_1"), ("opens_2", "closes_2"))


def test_a_stored_interval_is_split_at_its_first_dash():
    assert day_rows({"mon": ["09:00-12:00-13:00"]})[0] == {"day": "mon", "opens_1": "09:00", "closes_1": "12:00-13:00"}
