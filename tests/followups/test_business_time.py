"""Business-time arithmetic: worked examples with hand-computed answers, then properties.

Every expected instant below is written in UTC and was worked out from the zone's offset on that
date, so no test repeats the module's own local-to-UTC conversion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from followups.business_time import (
    DEFAULT_HOURS,
    MAX_DURATION,
    WEEKDAYS,
    PublicHolidays,
    WeeklyHours,
    WorkingCalendar,
    add_business_time,
    business_time_between,
    is_working_time,
    next_working_instant,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")

HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)
TWO_DAYS = timedelta(days=2)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    """An aware Europe/London datetime."""
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=LONDON)


def every_day(*intervals: str) -> dict[str, list[str]]:
    """A spec with the same intervals on all seven days."""
    return {day: list(intervals) for day in WEEKDAYS}


OFFICE = WorkingCalendar.from_spec("Europe/London")
UK_OFFICE = WorkingCalendar.from_spec("Europe/London", country="GB")
LUNCH_BREAK = WorkingCalendar.from_spec("Europe/London", {day: ["09:00-12:30", "13:30-17:00"] for day in WEEKDAYS[:5]})
# Windows around 02:00, where the clocks change in London and New York.
LONDON_NIGHTS = WorkingCalendar.from_spec("Europe/London", every_day("00:00-04:00"))
NEW_YORK_NIGHTS = WorkingCalendar.from_spec("America/New_York", every_day("00:00-04:00"))
ALWAYS_OPEN_LONDON = WorkingCalendar.from_spec("Europe/London", every_day("00:00-24:00"))


# Ordinary days (London is on UTC until 29 March 2026; 2 March 2026 is a Monday).


def test_it_counts_from_a_weekday_morning() -> None:
    assert add_business_time(london(2026, 3, 2, 10), 3 * HOUR, OFFICE) == utc(2026, 3, 2, 13)


def test_the_clock_stops_over_the_lunch_break() -> None:
    assert add_business_time(london(2026, 3, 2, 11), 2 * HOUR, LUNCH_BREAK) == utc(2026, 3, 2, 14)


def test_a_start_during_the_lunch_break_waits_for_the_afternoon() -> None:
    assert add_business_time(london(2026, 3, 2, 12, 45), HOUR, LUNCH_BREAK) == utc(2026, 3, 2, 14, 30)


def test_a_start_after_hours_waits_for_the_next_morning() -> None:
    assert add_business_time(london(2026, 3, 3, 18), HOUR, OFFICE) == utc(2026, 3, 4, 10)


def test_a_start_before_opening_waits_for_the_opening() -> None:
    assert add_business_time(london(2026, 3, 3, 7), timedelta(minutes=30), OFFICE) == utc(2026, 3, 3, 9, 30)


def test_a_friday_evening_deadline_runs_into_monday() -> None:
    assert add_business_time(london(2026, 3, 6, 16), 2 * HOUR, OFFICE) == utc(2026, 3, 9, 10)
    assert add_business_time(london(2026, 3, 6, 19), HOUR, OFFICE) == utc(2026, 3, 9, 10)


def test_the_clock_skips_a_team_holiday() -> None:
    calendar = WorkingCalendar.from_spec("Europe/London", extra_holidays=[date(2026, 3, 4)])

    assert add_business_time(london(2026, 3, 4, 10), HOUR, calendar) == utc(2026, 3, 5, 10)
    assert add_business_time(london(2026, 3, 3, 16), 2 * HOUR, calendar) == utc(2026, 3, 5, 10)
    assert not is_working_time(london(2026, 3, 4, 10), calendar)


def test_a_deadline_from_closing_time_starts_next_morning() -> None:
    assert add_business_time(london(2026, 3, 2, 17), HOUR, OFFICE) == utc(2026, 3, 3, 10)
    assert next_working_instant(london(2026, 3, 2, 17), OFFICE) == utc(2026, 3, 3, 9)


def test_a_deadline_can_fall_exactly_at_closing_time() -> None:
    assert add_business_time(london(2026, 3, 2, 16), HOUR, OFFICE) == utc(2026, 3, 2, 17)


def test_opening_time_is_working_time_and_closing_time_is_not() -> None:
    assert is_working_time(utc(2026, 3, 2, 9), OFFICE)
    assert is_working_time(utc(2026, 3, 2, 16, 59, 59, 999_999), OFFICE)
    assert not is_working_time(utc(2026, 3, 2, 17), OFFICE)
    assert not is_working_time(utc(2026, 3, 2, 8, 59, 59, 999_999), OFFICE)


def test_one_microsecond_before_closing_reaches_closing_or_the_next_morning() -> None:
    last = london(2026, 3, 2, 16, 59, 59, 999_999)

    assert add_business_time(last, MICROSECOND, OFFICE) == utc(2026, 3, 2, 17)
    assert add_business_time(last, 2 * MICROSECOND, OFFICE) == utc(2026, 3, 3, 9, 0, 0, 1)


def test_zero_duration_gives_the_next_working_instant() -> None:
    assert add_business_time(london(2026, 3, 2, 10, 15), timedelta(0), OFFICE) == utc(2026, 3, 2, 10, 15)
    assert add_business_time(london(2026, 3, 7, 10), timedelta(0), OFFICE) == utc(2026, 3, 9, 9)


def test_results_are_in_utc() -> None:
    deadline = add_business_time(datetime(2026, 3, 2, 10, tzinfo=TOKYO), HOUR, OFFICE)

    assert deadline.tzinfo is UTC
    assert next_working_instant(datetime(2026, 3, 2, 10, tzinfo=TOKYO), OFFICE).tzinfo is UTC


# Holidays from the holidays library.


def test_forty_hours_run_over_christmas_and_new_year_in_england() -> None:
    # Tue 23 Dec 4 h, Wed 24 8 h, then Mon 29 to Wed 31 24 h: 36 h before the 1 January holiday.
    start = london(2025, 12, 23, 13)

    assert add_business_time(start, 40 * HOUR, UK_OFFICE) == utc(2026, 1, 2, 13)


def test_scotland_also_closes_on_the_second_of_january() -> None:
    scotland = WorkingCalendar.from_spec("Europe/London", country="GB", subdivision="SCT")

    assert add_business_time(london(2025, 12, 23, 13), 40 * HOUR, scotland) == utc(2026, 1, 5, 13)


def test_an_observed_holiday_replaces_boxing_day_on_a_saturday() -> None:
    # 2026: Christmas is a Friday and Boxing Day a Saturday, observed on Monday 28 December.
    assert add_business_time(london(2026, 12, 24, 16), 2 * HOUR, UK_OFFICE) == utc(2026, 12, 29, 10)


def test_no_business_time_passes_over_the_christmas_break() -> None:
    assert business_time_between(london(2025, 12, 24, 17), london(2025, 12, 29, 9), UK_OFFICE) == timedelta(0)


def test_a_holidays_library_object_can_serve_as_the_holidays() -> None:
    calendar = WorkingCalendar(
        time_zone=LONDON,
        weekly_hours=OFFICE.weekly_hours,
        holidays=holidays.country_holidays("GB"),
    )

    assert add_business_time(london(2025, 12, 24, 16), 2 * HOUR, calendar) == utc(2025, 12, 29, 10)


def test_australia_day_holds_a_sydney_deadline_until_tuesday() -> None:
    sydney = WorkingCalendar.from_spec("Australia/Sydney", country="AU", subdivision="NSW")
    # Fri 23 Jan 16:00 AEDT (UTC+11) is 05:00 UTC; Mon 26 Jan is Australia Day.

    assert add_business_time(utc(2026, 1, 23, 5), 2 * HOUR, sydney) == utc(2026, 1, 26, 23)


# Clock changes.


def test_the_spring_forward_night_in_london_is_an_hour_short() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST, so 00:00-04:00 runs 00:00-03:00 UTC.
    assert business_time_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), LONDON_NIGHTS) == 3 * HOUR
    assert add_business_time(utc(2026, 3, 28, 12), 3 * HOUR, LONDON_NIGHTS) == utc(2026, 3, 29, 3)
    # Next window: 00:00 BST on the 30th is 23:00 UTC on the 29th.
    assert add_business_time(utc(2026, 3, 28, 12), 3 * HOUR + MICROSECOND, LONDON_NIGHTS) == utc(
        2026, 3, 29, 23, 0, 0, 1
    )


def test_the_fall_back_night_in_london_is_an_hour_long() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT; 00:00 BST is 23:00 UTC the day before.
    assert business_time_between(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), LONDON_NIGHTS) == 5 * HOUR
    assert add_business_time(utc(2026, 10, 24, 12), 5 * HOUR, LONDON_NIGHTS) == utc(2026, 10, 25, 4)


def test_an_office_day_after_the_switch_keeps_its_wall_clock_hours() -> None:
    # Fri 27 March 16:00 GMT; Monday 30 March opens at 09:00 BST, 08:00 UTC.
    assert add_business_time(london(2026, 3, 27, 16), 2 * HOUR, OFFICE) == utc(2026, 3, 30, 9)


def test_forty_hours_across_the_london_spring_switch() -> None:
    # Wed 25 to Fri 27 March give 24 h in GMT, Mon 30 and Tue 31 the rest in BST.
    assert add_business_time(london(2026, 3, 25, 9), 40 * HOUR, OFFICE) == utc(2026, 3, 31, 16)


def test_a_day_with_a_switch_outside_its_window_keeps_eight_hours() -> None:
    always_open_sunday = WorkingCalendar.from_spec("Europe/London", {"sun": ["09:00-17:00"]})

    assert business_time_between(utc(2026, 3, 29), utc(2026, 3, 30), always_open_sunday) == 8 * HOUR


def test_the_spring_forward_night_in_new_york_is_an_hour_short() -> None:
    # 8 March 2026: 02:00 EST becomes 03:00 EDT; 00:00 EST is 05:00 UTC, 04:00 EDT is 08:00 UTC.
    assert business_time_between(utc(2026, 3, 8), utc(2026, 3, 8, 12), NEW_YORK_NIGHTS) == 3 * HOUR
    assert add_business_time(utc(2026, 3, 8), 2 * HOUR, NEW_YORK_NIGHTS) == utc(2026, 3, 8, 7)


def test_the_fall_back_night_in_new_york_is_an_hour_long() -> None:
    # 1 November 2026: 02:00 EDT becomes 01:00 EST; 00:00 EDT is 04:00 UTC, 04:00 EST is 09:00 UTC.
    assert business_time_between(utc(2026, 11, 1), utc(2026, 11, 1, 12), NEW_YORK_NIGHTS) == 5 * HOUR
    assert add_business_time(utc(2026, 11, 1), 5 * HOUR, NEW_YORK_NIGHTS) == utc(2026, 11, 1, 9)


def test_a_boundary_in_the_skipped_hour_falls_on_the_switch() -> None:
    split = WorkingCalendar.from_spec("America/New_York", every_day("00:00-02:30", "02:30-05:00"))
    # 02:30 does not exist on 8 March: both windows meet at the switch, 07:00 UTC.

    assert add_business_time(utc(2026, 3, 8), 2 * HOUR, split) == utc(2026, 3, 8, 7)
    assert add_business_time(utc(2026, 3, 8), 2 * HOUR + timedelta(minutes=1), split) == utc(2026, 3, 8, 7, 1)
    assert business_time_between(utc(2026, 3, 8), utc(2026, 3, 8, 12), split) == 4 * HOUR


def test_a_window_inside_the_skipped_hour_has_no_working_time() -> None:
    skipped = WorkingCalendar.from_spec("America/New_York", every_day("02:15-02:45"))

    assert business_time_between(utc(2026, 3, 8), utc(2026, 3, 9), skipped) == timedelta(0)
    # The next window is 02:15 EDT on 9 March.
    assert next_working_instant(utc(2026, 3, 8), skipped) == utc(2026, 3, 9, 6, 15)


def test_a_boundary_in_the_repeated_hour_is_its_first_occurrence() -> None:
    repeated = WorkingCalendar.from_spec("America/New_York", every_day("01:30-03:00"))
    # 01:30 EDT is 05:30 UTC; 03:00 EST is 08:00 UTC.

    assert business_time_between(utc(2026, 11, 1), utc(2026, 11, 1, 12), repeated) == timedelta(hours=2, minutes=30)
    assert add_business_time(utc(2026, 11, 1), HOUR, repeated) == utc(2026, 11, 1, 6, 30)
    # 01:15 EST, the second time the clock shows 01:15, lies inside the window.
    assert is_working_time(utc(2026, 11, 1, 6, 15), repeated)


def test_a_new_york_weekend_with_the_fall_back_switch() -> None:
    new_york = WorkingCalendar.from_spec("America/New_York")
    # Fri 30 October 16:00 EDT is 20:00 UTC; Monday opens at 09:00 EST, 14:00 UTC.

    assert add_business_time(utc(2026, 10, 30, 20), 2 * HOUR, new_york) == utc(2026, 11, 2, 15)


def test_round_the_clock_days_join_up_across_midnight_and_clock_changes() -> None:
    assert add_business_time(london(2026, 3, 2, 23), 2 * HOUR, ALWAYS_OPEN_LONDON) == utc(2026, 3, 3, 1)
    assert business_time_between(utc(2026, 3, 28), utc(2026, 3, 31), ALWAYS_OPEN_LONDON) == 72 * HOUR
    assert business_time_between(utc(2026, 10, 24), utc(2026, 10, 27), ALWAYS_OPEN_LONDON) == 72 * HOUR


def test_time_max_as_closing_time_means_midnight() -> None:
    calendar = WorkingCalendar(time_zone=LONDON, weekly_hours=(((time(22), time.max),),) * 7)

    assert add_business_time(london(2026, 3, 2, 23, 30), HOUR, calendar) == utc(2026, 3, 3, 22, 30)
    assert is_working_time(utc(2026, 3, 2, 23, 59, 59, 999_999), calendar)


# Zones on both sides of UTC.


def test_a_tokyo_friday_afternoon_runs_into_monday() -> None:
    tokyo = WorkingCalendar.from_spec("Asia/Tokyo")
    # Fri 6 March 16:00 JST is 07:00 UTC; Mon 10:00 JST is 01:00 UTC.

    assert add_business_time(utc(2026, 3, 6, 7), 2 * HOUR, tokyo) == utc(2026, 3, 9, 1)
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo.
    assert add_business_time(utc(2026, 3, 8, 23, 30), HOUR, tokyo) == utc(2026, 3, 9, 1)


def test_a_sydney_summer_deadline_crosses_the_utc_date() -> None:
    sydney = WorkingCalendar.from_spec("Australia/Sydney")
    # Mon 12 January 16:00 AEDT (UTC+11) is 05:00 UTC; 1 h that day, 3 h on Tuesday: 12:00 AEDT.

    assert add_business_time(utc(2026, 1, 12, 5), 4 * HOUR, sydney) == utc(2026, 1, 13, 1)


def test_a_sydney_weekend_with_the_end_of_summer_time() -> None:
    sydney = WorkingCalendar.from_spec("Australia/Sydney")
    # Fri 3 April 16:00 AEDT is 05:00 UTC; summer time ends on the 5th; Mon 10:00 AEST is 00:00 UTC.

    assert add_business_time(utc(2026, 4, 3, 5), 2 * HOUR, sydney) == utc(2026, 4, 6)


def test_kolkata_opens_on_the_half_hour_in_utc() -> None:
    kolkata = WorkingCalendar.from_spec("Asia/Kolkata")
    # 03:00 UTC is 08:30 IST; the clock starts at 09:00 IST, 03:30 UTC.

    assert add_business_time(utc(2026, 3, 2, 3), HOUR, kolkata) == utc(2026, 3, 2, 4, 30)
    assert is_working_time(utc(2026, 3, 2, 11, 29), kolkata)
    assert not is_working_time(utc(2026, 3, 2, 11, 30), kolkata)


def test_a_los_angeles_friday_evening_runs_into_summer_time() -> None:
    los_angeles = WorkingCalendar.from_spec("America/Los_Angeles")
    # Fri 6 March 16:00 PST is Sat 00:00 UTC; Mon 9 March 10:00 PDT is 17:00 UTC.

    assert add_business_time(utc(2026, 3, 7), 2 * HOUR, los_angeles) == utc(2026, 3, 9, 17)


# Paused clocks.


def test_waiting_over_a_weekend_counts_only_working_hours() -> None:
    assert business_time_between(london(2026, 3, 6, 16), london(2026, 3, 9, 10), OFFICE) == 2 * HOUR


def test_no_business_time_passes_when_end_is_not_after_start() -> None:
    moment = london(2026, 3, 2, 10)

    assert business_time_between(moment, moment, OFFICE) == timedelta(0)
    assert business_time_between(moment, moment - HOUR, OFFICE) == timedelta(0)


# Termination and bad input.


class EveryDay:
    """A holiday list that contains every date."""

    def __contains__(self, day: object) -> bool:
        return True


def test_a_calendar_that_is_always_on_holiday_gives_up() -> None:
    calendar = WorkingCalendar(time_zone=LONDON, weekly_hours=OFFICE.weekly_hours, holidays=EveryDay())

    with pytest.raises(ValueError, match="no working time"):
        add_business_time(london(2026, 3, 2, 10), HOUR, calendar)
    with pytest.raises(ValueError, match="no working time"):
        next_working_instant(london(2026, 3, 2, 10), calendar)


def test_two_years_of_holidays_are_searched_through() -> None:
    closed = frozenset(date(2026, 3, 2) + timedelta(days=n) for n in range(2 * 365))
    calendar = WorkingCalendar(time_zone=LONDON, weekly_hours=OFFICE.weekly_hours, holidays=closed)

    # 730 days after 2 March 2026 is Wednesday 1 March 2028 (2028 is a leap year).
    assert add_business_time(london(2026, 3, 2, 10), HOUR, calendar) == utc(2028, 3, 1, 10)


def test_a_week_without_working_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="no working hours"):
        WorkingCalendar(time_zone=LONDON, weekly_hours=((),) * 7)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_time(datetime(2026, 3, 2, 10), HOUR, OFFICE)


@pytest.mark.parametrize("duration", [-MICROSECOND, MAX_DURATION + MICROSECOND])
def test_a_negative_or_huge_duration_is_refused(duration: timedelta) -> None:
    with pytest.raises(ValueError, match="duration"):
        add_business_time(london(2026, 3, 2, 10), duration, OFFICE)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"time_zone": "Europe/London", "hours": {"monday": ["09:00-17:00"]}}, "unknown weekday 'monday'"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["25:00-26:00"]}}, "'25:00' is not a time of day"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["09:60-17:00"]}}, "'09:60' is not a time of day"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["24:00-24:00"]}}, "'24:00' is not a time of day"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["09:00"]}}, "not an interval"),
        ({"time_zone": "Europe/London", "hours": {"mon": "09:00-17:00"}}, "expected a list"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["22:00-02:00"]}}, "may not cross midnight"),
        ({"time_zone": "Europe/London", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "overlaps"),
        ({"time_zone": "Europe/London", "hours": {"sat": [], "sun": []}}, "no working hours"),
        ({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"time_zone": "../etc"}, "unknown time zone"),
        ({"time_zone": "Europe/London", "country": "XX"}, "unknown country code 'XX'"),
        ({"time_zone": "Europe/London", "country": "GB", "subdivision": "XX"}, "unknown subdivision 'XX'"),
        ({"time_zone": "Europe/London", "subdivision": "SCT"}, "needs a country"),
        ({"time_zone": "Europe/London", "extra_holidays": [datetime(2026, 3, 4)]}, "must be dates"),
    ],
)
def test_from_spec_explains_bad_input(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar.from_spec(**spec)


def test_the_default_hours_are_nine_to_five_on_weekdays() -> None:
    nine_to_five = ((time(9), time(17)),)

    assert OFFICE.weekly_hours == (nine_to_five,) * 5 + ((), ())
    assert set(DEFAULT_HOURS) == set(WEEKDAYS)


def test_from_spec_accepts_touching_intervals_in_any_order_and_a_midnight_close() -> None:
    calendar = WorkingCalendar.from_spec(
        "Europe/London", {"mon": ["12:00-17:00", "09:00-12:00"], "fri": ["18:00-24:00"]}
    )

    assert calendar.weekly_hours[0] == ((time(9), time(12)), (time(12), time(17)))
    assert calendar.weekly_hours[4] == ((time(18), time.max),)


def test_calendars_from_the_same_spec_are_equal_and_hashable() -> None:
    first = WorkingCalendar.from_spec("Europe/London", country="GB", extra_holidays=[date(2026, 3, 4)])
    second = WorkingCalendar.from_spec("Europe/London", country="GB", extra_holidays=[date(2026, 3, 4)])

    assert first == second
    assert hash(first) == hash(second)
    assert first.holidays == PublicHolidays("GB", None, frozenset({date(2026, 3, 4)}))


# Properties over random calendars, zones and starts.

ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/London",
        "America/New_York",
        "America/Los_Angeles",
        "Asia/Tokyo",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Australia/Lord_Howe",  # half-hour clock changes
        "America/Santiago",  # clock changes at midnight
    )
]


def _switch_days(zone: ZoneInfo) -> list[date]:
    """The days of 2026 after whose noon the zone's UTC offset changes."""
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(366)]
    return [
        day
        for day in days
        if datetime.combine(day, time(12), zone).utcoffset()
        != datetime.combine(day + timedelta(days=1), time(12), zone).utcoffset()
    ]


SWITCH_DAYS = {zone: _switch_days(zone) for zone in ZONES}

# Half hours make boundaries land exactly on clock changes; any minute covers the rest.
BOUNDARY_MINUTES = st.one_of(st.integers(0, 48).map(lambda n: 30 * n), st.integers(0, 24 * 60))
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80))
PROPERTY = settings(max_examples=120, deadline=None)


def _clock(minutes: int) -> time:
    """Minutes after midnight as a time; 24:00 is time.max, the calendar's midnight close."""
    return time.max if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


@st.composite
def weekly_hours(draw: st.DrawFn) -> WeeklyHours:
    """Random opening hours: up to three non-overlapping intervals a day."""
    week = []
    for _ in WEEKDAYS:
        cuts = sorted(draw(st.sets(BOUNDARY_MINUTES, max_size=6)))
        # Pair consecutive cuts; an odd last one is dropped.
        week.append(
            tuple((_clock(opens), _clock(closes)) for opens, closes in zip(cuts[::2], cuts[1::2], strict=False))
        )
    assume(any(week))
    return tuple(week)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[WorkingCalendar, datetime]:
    """A random calendar and an aware start, often a few days before one of its clock changes."""
    zone = draw(st.sampled_from(ZONES))
    near_switch = [st.sampled_from(SWITCH_DAYS[zone])] if SWITCH_DAYS[zone] else []
    day = draw(st.one_of(st.dates(date(2025, 1, 1), date(2027, 12, 31)), *near_switch))
    start = draw(
        st.datetimes(
            datetime.combine(day - timedelta(days=3), time.min),
            datetime.combine(day + timedelta(days=1), time.max),
            timezones=st.sampled_from([zone, UTC]),
        )
    )
    offsets = draw(st.lists(st.integers(-3, 40), max_size=8))
    closed = frozenset(day + timedelta(days=offset) for offset in offsets)
    return WorkingCalendar(time_zone=zone, weekly_hours=draw(weekly_hours()), holidays=closed), start


@PROPERTY
@given(scenarios(), DURATIONS.filter(bool))
def test_a_deadline_ends_inside_or_at_the_close_of_a_working_window(
    scenario: tuple[WorkingCalendar, datetime], duration: timedelta
) -> None:
    calendar, start = scenario

    deadline = add_business_time(start, duration, calendar)

    # Working just before the deadline means the deadline is in (opens, closes] of some window.
    assert is_working_time(deadline - MICROSECOND, calendar)
    assert deadline > start


@PROPERTY
@given(scenarios(), DURATIONS)
def test_the_working_time_up_to_a_deadline_is_its_duration(
    scenario: tuple[WorkingCalendar, datetime], duration: timedelta
) -> None:
    calendar, start = scenario

    assert business_time_between(start, add_business_time(start, duration, calendar), calendar) == duration


@PROPERTY
@given(scenarios(), DURATIONS, DURATIONS)
def test_a_longer_duration_never_gives_an_earlier_deadline(
    scenario: tuple[WorkingCalendar, datetime], first: timedelta, second: timedelta
) -> None:
    calendar, start = scenario
    shorter, longer = sorted((first, second))

    assert add_business_time(start, shorter, calendar) <= add_business_time(start, longer, calendar)


@PROPERTY
@given(scenarios(), DURATIONS, DURATIONS.filter(bool))
def test_adding_in_two_steps_is_adding_the_sum(
    scenario: tuple[WorkingCalendar, datetime], first: timedelta, second: timedelta
) -> None:
    # The second step must be positive: a zero step moves a closing-time deadline to the next opening.
    calendar, start = scenario

    in_two_steps = add_business_time(add_business_time(start, first, calendar), second, calendar)

    assert in_two_steps == add_business_time(start, first + second, calendar)


@PROPERTY
@given(scenarios())
def test_working_time_matches_the_wall_clock_away_from_clock_changes(
    scenario: tuple[WorkingCalendar, datetime],
) -> None:
    calendar, moment = scenario
    local = moment.astimezone(calendar.time_zone)
    # Away from a clock change, the wall clock alone says whether the desk is open.
    assume(
        all(
            (moment + shift).astimezone(calendar.time_zone).utcoffset() == local.utcoffset()
            for shift in (-TWO_DAYS, TWO_DAYS)
        )
    )
    clock = local.time()

    open_now = local.date() not in calendar.holidays and any(
        opens <= clock and (closes == time.max or clock < closes)
        for opens, closes in calendar.weekly_hours[local.weekday()]
    )

    assert is_working_time(moment, calendar) == open_now


@PROPERTY
@given(
    st.sampled_from(ZONES),
    st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    DURATIONS,
)
def test_a_desk_open_round_the_clock_counts_real_time(zone: ZoneInfo, start: datetime, duration: timedelta) -> None:
    calendar = WorkingCalendar(time_zone=zone, weekly_hours=(((time.min, time.max),),) * 7)

    assert add_business_time(start, duration, calendar) == start + duration
    assert business_time_between(start, start + duration, calendar) == duration


# Limits, pinned by value rather than by the constants they test.


def test_a_duration_of_exactly_366_days_is_the_longest_accepted() -> None:
    start = london(2026, 3, 2, 10)

    assert add_business_time(start, timedelta(days=366), ALWAYS_OPEN_LONDON) == start + timedelta(days=366)
    with pytest.raises(ValueError, match="duration"):
        add_business_time(start, timedelta(days=366, microseconds=1), ALWAYS_OPEN_LONDON)


def _closed_for(first: date, days: int) -> WorkingCalendar:
    """A round-the-clock desk closed on `days` consecutive days from `first`."""
    closed = frozenset(first + timedelta(days=n) for n in range(days))
    return WorkingCalendar(time_zone=LONDON, weekly_hours=ALWAYS_OPEN_LONDON.weekly_hours, holidays=closed)


def test_the_search_gives_up_after_1098_days_without_working_time() -> None:
    start = london(2026, 3, 2, 10)

    # 1098 days after 2 March 2026 is 4 March 2029 (2028 is a leap year).
    assert add_business_time(start, HOUR, _closed_for(date(2026, 3, 2), 1098)) == utc(2029, 3, 4, 1)
    with pytest.raises(ValueError, match="no working time in the 1098 days up to 2029-03-04"):
        add_business_time(start, HOUR, _closed_for(date(2026, 3, 2), 1099))


def test_working_time_starts_the_idle_count_again() -> None:
    # 14 hours on the first day, then 1098 closed days, then the remaining 6 hours.
    calendar = _closed_for(date(2026, 3, 3), 1098)

    assert add_business_time(london(2026, 3, 2, 10), 20 * HOUR, calendar) == utc(2029, 3, 5, 6)


def test_closed_years_after_the_end_are_never_searched() -> None:
    calendar = _closed_for(date(2026, 3, 3), 1200)

    assert business_time_between(london(2026, 3, 2, 10), london(2026, 3, 2, 12), calendar) == 2 * HOUR
    assert business_time_between(london(2026, 3, 2, 10), london(2026, 3, 3, 12), calendar) == 14 * HOUR


def test_every_result_is_in_utc_even_on_a_clock_change() -> None:
    split = WorkingCalendar.from_spec("America/New_York", every_day("00:00-02:30", "02:30-05:00"))

    for result in (
        add_business_time(utc(2026, 3, 8), 2 * HOUR, split),
        next_working_instant(datetime(2026, 3, 8, 2, 40, tzinfo=NEW_YORK), split),
        add_business_time(datetime(2026, 3, 2, 10, tzinfo=TOKYO), timedelta(0), OFFICE),
    ):
        assert result.tzinfo is UTC


# The edges of a day and the messages of bad input.


def test_an_hour_may_be_written_with_one_digit() -> None:
    early = WorkingCalendar.from_spec("Europe/London", {"mon": ["7:30-9:00", "9:00-17:00"]})

    assert early.weekly_hours[0] == ((time(7, 30), time(9)), (time(9), time(17)))


def test_the_last_hour_and_the_last_minute_of_a_day_can_be_opening_hours() -> None:
    late = WorkingCalendar.from_spec("Europe/London", {"mon": ["23:00-24:00"], "tue": ["08:59-23:59"]})

    assert late.weekly_hours[0] == ((time(23), time.max),)
    assert late.weekly_hours[1] == ((time(8, 59), time(23, 59)),)
    assert add_business_time(london(2026, 3, 2, 12), HOUR, late) == utc(2026, 3, 3)
    assert business_time_between(london(2026, 3, 3), london(2026, 3, 4), late) == timedelta(hours=15)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"tue": ["24:00-24:00"]}, "^tue: '24:00' is not a time of day"),
        ({"wed": ["23:60-23:59"]}, "^wed: '23:60' is not a time of day"),
        ({"thu": ["09:00-24:01"]}, "^thu: '24:01' is not a time of day"),
        ({"fri": ["09:00-09:00"]}, "^fri: 09:00:00-09:00:00 ends before it starts"),
        ({"sat": ["09:00"]}, "^sat: '09:00' is not an interval"),
        ({"sun": "09:00-17:00"}, "^sun: expected a list"),
        ({"funday": [], "monday": []}, "^unknown weekday 'funday', 'monday': use mon, tue, wed, thu, fri, sat, sun$"),
    ],
)
def test_a_bad_spec_is_explained_with_its_weekday(hours: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar.from_spec("Europe/London", hours)


def test_bad_weekly_hours_are_explained() -> None:
    nine_to_five = ((time(9), time(17)),)
    with pytest.raises(ValueError, match=r"one entry per weekday, Monday first; got 6$"):
        WorkingCalendar(time_zone=LONDON, weekly_hours=(nine_to_five,) * 6)
    with pytest.raises(ValueError, match=r"^the calendar has no working hours on any day of the week$"):
        WorkingCalendar(time_zone=LONDON, weekly_hours=((),) * 7)
    for aware in (((time(9, tzinfo=UTC), time(17)),), ((time(9), time(17, tzinfo=UTC)),)):
        with pytest.raises(ValueError, match=r"^wed: opening hours are local wall-clock times"):
            WorkingCalendar(time_zone=LONDON, weekly_hours=((), (), aware, (), (), (), ()))


def test_an_unknown_subdivision_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown subdivision 'XX' of GB: use one of ENG, NIR, SCT, WLS$"):
        WorkingCalendar.from_spec("Europe/London", country="GB", subdivision="XX")


# A fall-back switch across midnight: Antarctica/Casey went from 02:00 on 5 March 2010 (UTC+11)
# back to 23:00 on 4 March (UTC+8), at 15:00 UTC. The evening of the 4th is repeated after the
# 5th's first window has opened.
CASEY_NIGHTS = WorkingCalendar.from_spec("Antarctica/Casey", every_day("00:00-03:00"))


def test_the_repeated_evening_before_midnight_is_inside_the_next_days_window() -> None:
    # The window of 5 March runs from 00:00 (+11, 13:00 UTC) to 03:00 (+8, 19:00 UTC): six hours.
    assert business_time_between(utc(2010, 3, 4, 12), utc(2010, 3, 4, 20), CASEY_NIGHTS) == 6 * HOUR
    # 15:30 UTC reads 23:30 on 4 March, yet it is inside that window.
    assert is_working_time(utc(2010, 3, 4, 15, 30), CASEY_NIGHTS)
    assert business_time_between(utc(2010, 3, 4, 13, 30), utc(2010, 3, 4, 15, 30), CASEY_NIGHTS) == 2 * HOUR
    assert add_business_time(utc(2010, 3, 4, 15, 30), 3 * HOUR, CASEY_NIGHTS) == utc(2010, 3, 4, 18, 30)
    assert not is_working_time(utc(2010, 3, 4, 19), CASEY_NIGHTS)
