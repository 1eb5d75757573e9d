"""Business-time arithmetic for SLA deadlines in a team's working calendar.

A calendar is weekly opening hours in local wall-clock time, a time zone and holidays. Working
time is real elapsed time inside the opening hours; every datetime returned is aware and in UTC.

A wall-clock boundary maps to the first instant at which the local clock shows that time or
later. A boundary that a spring-forward switch skips therefore maps to the switch itself, and a
boundary that a fall-back switch repeats maps to its first occurrence. The mapping never goes
backwards, so windows keep their order, and a window that spans a switch is shorter or longer
in real time than on the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays import HolidayBase, country_holidays, list_supported_countries

Interval = tuple[time, time]
WeeklyHours = tuple[tuple[Interval, ...], ...]
Window = tuple[datetime, datetime]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_HOURS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "mon": ("09:00-17:00",),
        "tue": ("09:00-17:00",),
        "wed": ("09:00-17:00",),
        "thu": ("09:00-17:00",),
        "fri": ("09:00-17:00",),
        "sat": (),
        "sun": (),
    }
)

# Far beyond any SLA; keeps a mistaken duration from scanning the calendar for centuries.
MAX_DURATION = timedelta(days=366)

# A calendar that has this many consecutive days without working time is treated as broken
# (say, every day entered as a holiday) rather than searched until the end of time.
MAX_IDLE_DAYS = 3 * 366

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class PublicHolidays:
    """The public holidays of a country (optionally of one subdivision) plus a team's own dates.

    `country` and `subdivision` are codes of the holidays library (ISO 3166-1 alpha-2 and its
    subdivision codes, e.g. "GB" and "SCT"). Observed days of weekend holidays are included.
    """

    country: str
    subdivision: str | None = None
    extra: frozenset[date] = frozenset()
    _public: HolidayBase = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            public = country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as error:
            raise ValueError(_unknown_holiday_region(self.country, self.subdivision)) from error
        # The library object fills itself year by year as it is asked: a cache, not part of the value.
        object.__setattr__(self, "_public", public)

    def __contains__(self, day: object) -> bool:
        return day in self.extra or day in self._public


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekly opening hours in a time zone, minus holidays.

    `weekly_hours[0]` is Monday and `weekly_hours[6]` Sunday; each is a tuple of (opens, closes)
    local wall-clock intervals that may not cross midnight. A closing time of `time.max`
    (23:59:59.999999) means midnight at the end of the day, so (time.min, time.max) is a whole day
    and consecutive whole days join up. `holidays` is any container answering `day in holidays`
    for a date: a frozenset, a PublicHolidays or a holidays library object.
    """

    time_zone: ZoneInfo
    weekly_hours: WeeklyHours
    holidays: Container[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly_hours) != len(WEEKDAYS):
            raise ValueError(f"weekly hours need one entry per weekday, Monday first; got {len(self.weekly_hours)}")
        checked = tuple(_checked_day(name, day) for name, day in zip(WEEKDAYS, self.weekly_hours, strict=True))
        if not any(checked):
            raise ValueError("the calendar has no working hours on any day of the week")
        object.__setattr__(self, "weekly_hours", checked)

    @classmethod
    def from_spec(
        cls,
        time_zone: str,
        hours: Mapping[str, Sequence[str]] = DEFAULT_HOURS,
        country: str | None = None,
        subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
    ) -> WorkingCalendar:
        """Build a calendar from the JSON-able spec a team stores; raise ValueError for bad input.

        `hours` maps "mon".."sun" to lists of "HH:MM-HH:MM" intervals, "24:00" closing at
        midnight; a missing day is closed. Public holidays come from the holidays library for
        `country` and `subdivision`; `extra_holidays` adds the team's own dates.
        """
        unknown = sorted(set(hours) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {', '.join(map(repr, unknown))}: use {', '.join(WEEKDAYS)}")
        weekly_hours = tuple(_parse_day(name, hours.get(name, ())) for name in WEEKDAYS)
        return cls(
            time_zone=_parse_zone(time_zone),
            weekly_hours=weekly_hours,
            holidays=_holiday_set(country, subdivision, extra_holidays),
        )


def add_business_time(start: datetime, duration: timedelta, calendar: WorkingCalendar) -> datetime:
    """The instant (UTC) at which `duration` of working time has elapsed after `start`.

    The clock starts at the next opening if `start` is outside working time. A zero duration gives
    the next working instant at or after `start`; a positive one may end exactly at a closing
    time. Raises ValueError for a naive `start`, a negative duration or one above MAX_DURATION,
    and for a calendar without working time for MAX_IDLE_DAYS days.
    """
    if not timedelta(0) <= duration <= MAX_DURATION:
        raise ValueError(f"duration must be between 0 and {MAX_DURATION}, got {duration}")
    start = _as_utc(start)
    windows = _windows(start, calendar)
    opens, closes = next(windows)
    opens = max(opens, start)
    remaining = duration
    while remaining > closes - opens:
        remaining -= closes - opens
        opens, closes = next(windows)
    return opens + remaining


def business_time_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
    """The working time elapsed from `start` to `end`; zero if `end` is not after `start`.

    Raises ValueError for a naive datetime and for a calendar without working time for MAX_IDLE_DAYS days.
    """
    start, end = _as_utc(start), _as_utc(end)
    elapsed = timedelta(0)
    if end <= start:
        return elapsed
    for opens, closes in _windows(start, calendar, until=end):
        if opens >= end:
            break
        elapsed += min(closes, end) - max(opens, start)
    return elapsed


def is_working_time(moment: datetime, calendar: WorkingCalendar) -> bool:
    """Whether `moment` is inside a working window (its opening instant included, closing excluded)."""
    moment = _as_utc(moment)
    today = _local_date(moment, calendar)
    # The next local day too: a fall-back switch across midnight (Antarctica/Casey, 5 March 2010,
    # 02:00 back to 23:00) repeats the evening after the next day's first window has opened. No
    # earlier day's window can hold it: those end by the first instant the clock shows today.
    days = (today, today + _ONE_DAY)
    return any(opens <= moment < closes for day in days for opens, closes in _day_windows(day, calendar))


def next_working_instant(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """The first working instant at or after `moment`, in UTC.

    Raises ValueError for a naive `moment` and for a calendar without working time for MAX_IDLE_DAYS days.
    """
    moment = _as_utc(moment)
    opens, _ = next(_windows(moment, calendar))
    return max(opens, moment)


def _windows(moment: datetime, calendar: WorkingCalendar, until: datetime | None = None) -> Iterator[Window]:
    """Yield, in order, the working windows (UTC) that end after `moment`, up to the local day of `until`.

    Raises ValueError once MAX_IDLE_DAYS consecutive days have had no working time.
    """
    day = _local_date(moment, calendar)
    # One day past `until`'s, for the same reason as in is_working_time.
    last_day = None if until is None else _local_date(until, calendar) + _ONE_DAY
    idle_days = 0
    while last_day is None or day <= last_day:
        windows = [window for window in _day_windows(day, calendar) if window[1] > moment]
        idle_days = 0 if windows else idle_days + 1
        if idle_days > MAX_IDLE_DAYS:
            raise ValueError(f"the calendar has no working time in the {MAX_IDLE_DAYS} days up to {day}")
        yield from windows
        day += _ONE_DAY


def _day_windows(day: date, calendar: WorkingCalendar) -> list[Window]:
    """The working windows of one local day as UTC instants, in order; none on a holiday."""
    intervals = calendar.weekly_hours[day.weekday()]
    # The weekday test first: it is cheaper than asking the holidays library.
    if not intervals or day in calendar.holidays:
        return []
    zone = calendar.time_zone
    windows = []
    for opens, closes in intervals:
        start = _instant(day, opens, zone)
        end = _instant(day + _ONE_DAY, time.min, zone) if closes == time.max else _instant(day, closes, zone)
        # A window lying wholly inside a skipped hour has no real time.
        if start < end:
            windows.append((start, end))
    return windows


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock shows `clock` on `day`, or a later time."""
    local = datetime.combine(day, clock, tzinfo=zone)
    instant = local.astimezone(UTC)
    # fold=0 already picks the first occurrence of a repeated wall time.
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # A skipped wall time: its two readings (old and new offset) bracket the switch.
    return _switch_instant(local.replace(fold=1).astimezone(UTC), instant, zone)


def _switch_instant(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] that has `after`'s UTC offset, found by bisection."""
    offset = after.astimezone(zone).utcoffset()
    while after - before > _ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after


def _local_date(moment: datetime, calendar: WorkingCalendar) -> date:
    """The calendar's local date at `moment`."""
    return moment.astimezone(calendar.time_zone).date()


def _as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is refused, since its instant is unknown."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment} is naive: pass a timezone-aware datetime")
    return moment.astimezone(UTC)


def _checked_day(weekday: str, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """The day's intervals in order, after checking each is non-empty and none overlap."""
    ordered = tuple(sorted(intervals))
    for opens, closes in ordered:
        if opens.tzinfo is not None or closes.tzinfo is not None:
            raise ValueError(f"{weekday}: opening hours are local wall-clock times without a time zone")
        if closes <= opens:
            raise ValueError(
                f"{weekday}: {opens}-{closes} ends before it starts (an interval may not cross midnight: split it)"
            )
    for (earlier_opens, earlier_closes), (opens, closes) in pairwise(ordered):
        if opens < earlier_closes:
            raise ValueError(f"{weekday}: {earlier_opens}-{earlier_closes} overlaps {opens}-{closes}")
    return ordered


def _parse_day(weekday: str, texts: Sequence[str]) -> tuple[Interval, ...]:
    """Parse one weekday's list of "HH:MM-HH:MM" intervals."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError(f"{weekday}: expected a list of intervals like ['09:00-17:00'], got {texts!r}")
    return tuple(_parse_interval(weekday, text) for text in texts)


def _parse_interval(weekday: str, text: str) -> Interval:
    """Parse "HH:MM-HH:MM"; "24:00" is accepted as a closing time only, meaning midnight."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"{weekday}: {text!r} is not an interval like '09:00-17:00'")
    opens, _, closes = text.partition("-")
    return _parse_clock(weekday, opens, closing=False), _parse_clock(weekday, closes, closing=True)


def _parse_clock(weekday: str, text: str, *, closing: bool) -> time:
    """Parse "HH:MM" into a time; "24:00" as a closing time becomes time.max (midnight)."""
    match = _CLOCK.fullmatch(text.strip())
    if match:
        hour, minute = int(match[1]), int(match[2])
        if closing and (hour, minute) == (24, 0):
            return time.max
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise ValueError(f"{weekday}: {text.strip()!r} is not a time of day (00:00 to 23:59, or 24:00 to close)")


def _parse_zone(name: str) -> ZoneInfo:
    """The IANA time zone called `name`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/London'") from error


def _holiday_set(country: str | None, subdivision: str | None, extra_holidays: Iterable[date]) -> Container[date]:
    """The public holidays of `country` (if any) plus the team's own dates."""
    extra = frozenset(extra_holidays)
    # A datetime is a date too, but never equal to one, so it would silently never match.
    wrong = [day for day in extra if not isinstance(day, date) or isinstance(day, datetime)]
    if wrong:
        raise ValueError(f"extra holidays must be dates, got {wrong[0]!r}")
    if country is None:
        if subdivision is not None:
            raise ValueError(f"subdivision {subdivision!r} needs a country")
        return extra
    return PublicHolidays(country, subdivision, extra)


def _unknown_holiday_region(country: str, subdivision: str | None) -> str:
    """Explain which of country or subdivision the holidays library does not know."""
    supported = list_supported_countries()
    if country not in supported:
        return f"unknown country code {country!r} for public holidays: use ISO 3166 codes such as 'GB'"
    return f"unknown subdivision {subdivision!r} of {country}: use one of {', '.join(supported[country])}"
