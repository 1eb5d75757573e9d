"""Times as other tools' exports write them: the pure module, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.import_times import DateOrder, TimeError, _iso_fast, parse_time

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")
TEN_UTC = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-10-01T10:00:00+00:00",
        "2026-10-01T10:00:00Z",
        "2026-10-01T10:00Z",
        "2026-10-01 10:00:00 UTC",
        "2026-10-01 10:00 UTC",
        "2026-10-01 10:00:00 utc",
        "2026-10-01 10:00:00 GMT",
        "2026-10-01 10:00:00.000Z",
        "2026-10-01 11:00:00 +0100",
        "2026-10-01 11:00:00 +01:00",
        "2026-10-01T06:00:00-04:00",
        "2026-10-01 11:00:00 GMT+01:00",
        "  2026-10-01 10:00:00 UTC  ",
        "1790848800",
        "1790848800000",
        "1790848800.0",
    ],
)
def test_iso_variants_and_unix_times_with_a_zone_read_the_same_instant(cell):
    assert parse_time(cell, tz=NEW_YORK) == TEN_UTC


def test_fractions_of_a_second_are_kept():
    assert parse_time("2026-10-01 10:00:00.123456Z", tz=UTC).microsecond == 123456
    assert parse_time("2026-10-01 10:00:00,5Z", tz=UTC).microsecond == 500000
    assert parse_time("1790848800123", tz=UTC).microsecond == 123000
    assert parse_time("1790848800.25", tz=UTC).microsecond == 250000


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-10-01 10:00:00", datetime(2026, 10, 1, 10, 0)),
        ("2026-10-01T10:00", datetime(2026, 10, 1, 10, 0)),
        ("2026-10-01", datetime(2026, 10, 1)),
        ("2026/10/01 10:00", datetime(2026, 10, 1, 10, 0)),
        ("2026.10.01", datetime(2026, 10, 1)),
        ("25/10/2026 09:15", datetime(2026, 10, 25, 9, 15)),
        ("10/25/2026 9:15 PM", datetime(2026, 10, 25, 21, 15)),
        ("10/25/2026 12:05 AM", datetime(2026, 10, 25, 0, 5)),
        ("10/25/2026 12:05 pm", datetime(2026, 10, 25, 12, 5)),
        ("25.10.2026 09:15:30", datetime(2026, 10, 25, 9, 15, 30)),
        ("25-10-26", datetime(2026, 10, 25)),
        ("07/07/2026", datetime(2026, 7, 7)),
    ],
)
def test_times_without_a_zone_are_read_in_the_given_one(cell, expected):
    assert parse_time(cell, tz=LISBON) == expected.replace(tzinfo=LISBON)


def test_a_naive_time_in_summer_takes_that_zones_summer_offset():
    assert parse_time("2026-07-01 10:00", tz=NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert parse_time("2026-12-01 10:00", tz=NEW_YORK).utcoffset() == timedelta(hours=-5)


def test_a_time_that_names_its_offset_ignores_the_given_zone():
    assert parse_time("2026-10-01 10:00 +05:30", tz=NEW_YORK).utcoffset() == timedelta(hours=5, minutes=30)
    assert parse_time("2026-10-01 10:00 -0330", tz=UTC).tzinfo == timezone(-timedelta(hours=3, minutes=30))


@pytest.mark.parametrize("cell", ["03/10/2026 09:15", "03/10/2026", "01.02.2026", "1/2/26"])
def test_a_date_that_reads_two_ways_is_refused_as_ambiguous_without_an_order(cell):
    with pytest.raises(TimeError, match="day-first or month-first") as raised:
        parse_time(cell, tz=UTC)
    assert raised.value.ambiguous


def test_the_order_the_importer_gives_reads_an_ambiguous_date():
    assert parse_time("03/10/2026 09:15", tz=UTC, date_order=DateOrder.DAY_FIRST) == datetime(
        2026, 10, 3, 9, 15, tzinfo=UTC
    )
    assert parse_time("03/10/2026 09:15", tz=UTC, date_order=DateOrder.MONTH_FIRST) == datetime(
        2026, 3, 10, 9, 15, tzinfo=UTC
    )


def test_a_given_order_that_the_date_contradicts_is_refused():
    with pytest.raises(TimeError, match="Not a valid date") as raised:
        parse_time("25/10/2026", tz=UTC, date_order=DateOrder.MONTH_FIRST)
    assert not raised.value.ambiguous


@pytest.mark.parametrize(
    "cell",
    [
        "",
        "yesterday",
        "2026-13-01",
        "2026-02-30 10:00",
        "31/02/2026",
        "2026-10-01 25:00",
        "13:00 PM 10/25/2026",
        "10/25/2026 13:00 PM",
        "12345",
        "17908488001234567",
        "2026-10-01T10:00:00+25:00",
    ],
)
def test_what_is_not_a_time_is_refused_with_the_cell_quoted(cell):
    with pytest.raises(TimeError) as raised:
        parse_time(cell, tz=UTC)
    assert not raised.value.ambiguous
    assert repr(cell) in raised.value.message or cell == ""


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)))
def test_any_iso_time_written_with_a_space_and_utc_reads_back(moment):
    moment = moment.replace(tzinfo=UTC)
    assert parse_time(moment.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC", tz=NEW_YORK) == moment
    assert parse_time(str(int(moment.timestamp() * 1000)), tz=NEW_YORK) == moment.replace(
        microsecond=moment.microsecond // 1000 * 1000
    )


@given(st.dates(min_value=datetime(1990, 1, 1).date(), max_value=datetime(2090, 1, 1).date()))
def test_a_date_in_either_order_reads_back_when_the_order_is_given(day):
    assert parse_time(day.strftime("%d/%m/%Y"), tz=UTC, date_order=DateOrder.DAY_FIRST).date() == day
    assert parse_time(day.strftime("%m/%d/%Y"), tz=UTC, date_order=DateOrder.MONTH_FIRST).date() == day


def refusal(cell: str, date_order: DateOrder | None = None) -> TimeError:
    with pytest.raises(TimeError) as raised:
        parse_time(cell, tz=UTC, date_order=date_order)
    return raised.value


NOT_A_TIME = "Write ISO 8601 (2026-10-01 10:00), a Unix timestamp, or a date such as 01/10/2026."


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("yesterday", f"Not a time: 'yesterday'. {NOT_A_TIME}"),
        ("", f"Not a time: ''. {NOT_A_TIME}"),
        (" 12345 ", f"Not a time: ' 12345 '. {NOT_A_TIME}"),
        ("2026-10-01 11:00+01:00 UTC", f"Not a time: '2026-10-01 11:00+01:00 UTC'. {NOT_A_TIME}"),
        ("2026-13-01", "Not a valid date: '2026-13-01'."),
        (" 2026-02-30 10:00 UTC", "Not a valid date: ' 2026-02-30 10:00 UTC'."),
        ("31/02/2026", "Not a valid date: '31/02/2026'."),
        ("2026/02/30", "Not a valid date: '2026/02/30'."),
        ("10/25/2026 13:00 PM", "Not a valid time: '10/25/2026 13:00 PM'."),
        ("10/25/2026 0:30 am", "Not a valid time: '10/25/2026 0:30 am'."),
        (" 2026-10-01 10:00 +24:00 ", "Not a valid UTC offset: '2026-10-01 10:00 +24:00'."),
        ("2026-10-01 10:00 GMT+0560", "Not a valid UTC offset: '2026-10-01 10:00 GMT+0560'."),
        ("2026-10-01T10:00:00+05:30:00", f"Not a time: '2026-10-01T10:00:00+05:30:00'. {NOT_A_TIME}"),
        ("2026-10-01 GMT+05:30", f"Not a time: '2026-10-01 GMT+05:30'. {NOT_A_TIME}"),
        ("2026-W40-4", f"Not a time: '2026-W40-4'. {NOT_A_TIME}"),
        ("03/10/2026", "Ambiguous date '03/10/2026': say whether dates are day-first or month-first."),
    ],
)
def test_each_refusal_says_exactly_why(cell, message):
    error = refusal(cell)
    assert (error.message, str(error)) == (message, message)
    assert error.ambiguous is message.startswith("Ambiguous")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-10-01T10", datetime(2026, 10, 1, 10, tzinfo=LISBON)),
        ("2026-10-01T10 UTC", TEN_UTC),
        ("2026-10-01T10 utc", TEN_UTC),
        ("2026-10-01T10 GMT", TEN_UTC),
        ("2026-10-01T10 gmt", TEN_UTC),
        ("2026-10-01T10 Gmt", TEN_UTC),
        ("2026-10-01 10 GMT", TEN_UTC),
        ("2026-10-01T10:00 GMT", TEN_UTC),
        ("2026-10-01 GMT", datetime(2026, 10, 1, tzinfo=UTC)),
        ("2026-10-01T10Z", TEN_UTC),
        ("2026-10-01T11+01:00", datetime(2026, 10, 1, 11, tzinfo=timezone(timedelta(hours=1)))),
        ("2026-10-01 10:00:00.5 UTC", TEN_UTC.replace(microsecond=500000)),
        ("2026-10-01 10:00:00,5 Gmt", TEN_UTC.replace(microsecond=500000)),
        ("2026-10-01 UTC", datetime(2026, 10, 1, tzinfo=UTC)),
    ],
)
def test_whatever_iso_8601_python_reads_is_read_with_an_optional_utc(cell, expected):
    parsed = parse_time(cell, tz=LISBON)
    assert (parsed, parsed.utcoffset()) == (expected, expected.utcoffset())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("25/10/2026 09:15:30.25", datetime(2026, 10, 25, 9, 15, 30, 250000, tzinfo=UTC)),
        ("25/10/2026 09:15:30,000001", datetime(2026, 10, 25, 9, 15, 30, 1, tzinfo=UTC)),
        ("10/25/2026 1:00 PM", datetime(2026, 10, 25, 13, tzinfo=UTC)),
        ("10/25/2026 1:00 am", datetime(2026, 10, 25, 1, tzinfo=UTC)),
        ("10/25/2026 12:00 PM", datetime(2026, 10, 25, 12, tzinfo=UTC)),
        ("1790848800123.9", datetime(2026, 10, 1, 10, 0, 0, 123900, tzinfo=UTC)),
        ("1790848800.9", datetime(2026, 10, 1, 10, 0, 0, 900000, tzinfo=UTC)),
    ],
)
def test_fractions_and_twelve_hour_clocks_are_read_exactly(cell, expected):
    assert parse_time(cell, tz=UTC) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("13/05/2026", datetime(2026, 5, 13, tzinfo=UTC)),
        ("05/13/2026", datetime(2026, 5, 13, tzinfo=UTC)),
        ("12/13/2026", datetime(2026, 12, 13, tzinfo=UTC)),
        ("13/12/2026", datetime(2026, 12, 13, tzinfo=UTC)),
        ("12/12/2026", datetime(2026, 12, 12, tzinfo=UTC)),
    ],
)
def test_a_number_above_twelve_is_the_day_without_an_order(cell, expected):
    assert parse_time(cell, tz=UTC) == expected


@pytest.mark.parametrize("cell", ["12/05/2026", "05/12/2026", "12/11/2026", "1/12/26"])
def test_twelve_is_a_month_so_a_date_with_it_reads_two_ways(cell):
    assert refusal(cell).ambiguous


@pytest.mark.parametrize("cell", ["Z", "UTC", "5 UTC", "1Z"])
def test_a_zone_alone_is_not_a_time(cell):
    assert refusal(cell).message == f"Not a time: {cell!r}. {NOT_A_TIME}"


@pytest.mark.parametrize(
    ("cell", "wall", "offset"),
    [
        ("2026-10-01 06:30 GMT-03:30", datetime(2026, 10, 1, 6, 30), -timedelta(hours=3, minutes=30)),
        ("2026-10-01 06:30 UTC-0330", datetime(2026, 10, 1, 6, 30), -timedelta(hours=3, minutes=30)),
        ("2026-10-01 10:00 GMT+23:59", datetime(2026, 10, 1, 10), timedelta(hours=23, minutes=59)),
        ("2026-10-01 10:00 GMT+05", datetime(2026, 10, 1, 10), timedelta(hours=5)),
        ("01/10/2026 10:00 GMT-01", datetime(2026, 10, 1, 10), -timedelta(hours=1)),
    ],
)
def test_an_offset_after_gmt_or_utc_is_read_with_its_sign_hours_and_minutes(cell, wall, offset):
    parsed = parse_time(cell, tz=LISBON, date_order=DateOrder.DAY_FIRST)
    assert (parsed.replace(tzinfo=None), parsed.utcoffset()) == (wall, offset)


FIVE_THIRTY = timedelta(hours=5, minutes=30)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-10-01T10:00+05:30",
        "2026-10-01T10:00+0530",
        "2026-10-01 10:00 +05:30",
        "2026-10-01 10:00 GMT+0530",
        "2026-10-01 10:00 GMT+05:30",
        "2026-10-01 10:00 UTC+05:30",
        "2026-10-01 10:00 utc+0530",
        "2026-10-01T10:00:00 GMT+05:30",
        "2026-10-01T10 GMT+05:30",
        "2026-10-01T10 UTC+0530",
        "2026-10-01T10+05:30",
        "2026-10-01 10 GMT+05:30",
        "01/10/2026 10:00 GMT+05:30",
    ],
)
def test_an_offset_reads_alike_in_every_written_form(cell):
    parsed = parse_time(cell, tz=LISBON, date_order=DateOrder.DAY_FIRST)
    assert (parsed.replace(tzinfo=None), parsed.utcoffset()) == (datetime(2026, 10, 1, 10), FIVE_THIRTY)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-10-01T10:00+05:60",
        "2026-10-01T10:00+0560",
        "2026-10-01T10:00:00.5+05:60",
        "2026-10-01 10:00 +05:60",
        "2026-10-01 10:00 GMT+05:60",
        "2026-10-01 10:00 UTC+0560",
        "2026-10-01 10:00 GMT-0599",
        "2026-10-01T10+05:60",
        "2026-10-01T10 GMT+05:60",
        "2026-10-01T10 UTC+0560",
        "01/10/2026 10:00 UTC+05:60",
    ],
)
def test_offset_minutes_past_59_are_refused_in_every_written_form(cell):
    error = refusal(cell, DateOrder.DAY_FIRST)
    assert (error.message, error.ambiguous) == (f"Not a valid UTC offset: {cell!r}.", False)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-10-01", datetime(2026, 10, 1, tzinfo=LISBON)),
        ("2026-10-01 10:00:00", datetime(2026, 10, 1, 10, tzinfo=LISBON)),
        ("2026-10-01 10:00:00 UTC", TEN_UTC),
        ("2026-10-01 10:00:00 utc", TEN_UTC),
        ("2026-10-01 10:00:00 GMT", TEN_UTC),
        ("2026-10-01 10:00:00 gmt", TEN_UTC),
        ("2026-10-01T10:00:00Z", TEN_UTC),
        ("2026-10-01T15:30:00+05:30", TEN_UTC.astimezone(timezone(FIVE_THIRTY))),
        ("2026-10-01T15:30:00+0530", TEN_UTC.astimezone(timezone(FIVE_THIRTY))),
        ("2026-10-01T15:00:00+05", TEN_UTC.astimezone(timezone(timedelta(hours=5)))),
        ("2026-10-01T04:30:00-05:30", TEN_UTC.astimezone(timezone(-FIVE_THIRTY))),
    ],
)
def test_the_common_spellings_are_read_in_one_call(cell, expected):
    fast = _iso_fast(cell, LISBON)
    assert fast is not None
    assert (fast, fast.utcoffset()) == (expected, expected.utcoffset())


@pytest.mark.parametrize(
    "cell",
    [
        "2026-10-01T10:00+05:60",
        "2026-10-01T10:00+0560",
        "2026-10-01T10:00:00+05:30:00",
        "2026-10-01 11:00+01:00 UTC",
        "2026-10-01 11:00+01:00 GMT",
        "2026-10-01 10:00:00 Gmt",
        "2026-10-01 10:00 GMT+05:30",
        "2026/10/01 10:00",
        "01/10/2026",
        "1790848800",
    ],
)
def test_what_one_call_cannot_settle_is_left_to_the_careful_reading(cell):
    assert _iso_fast(cell, LISBON) is None


def test_the_common_spellings_never_take_the_careful_reading(monkeypatch):
    def careful(text, tz):
        raise AssertionError(f"{text!r} took the careful reading")

    monkeypatch.setattr("surveys.import_times._zone", careful)
    assert parse_time("2026-10-01 10:00:00 UTC", tz=LISBON) == TEN_UTC
