"""Which SLA targets a case gets and the deadlines they give, on plain values (followups.sla)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from followups import sla
from followups.business_time import DEFAULT_HOURS
from followups.sla import DEFAULT_TARGETS, OUTCOME_LABELS, DeadlineOutcome, SlaTargets, choose_targets, deadlines
from followups.sla import team_calendar as calendar_of

MONDAY_10 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # London is on UTC in early March
HOUR = timedelta(hours=1)


@dataclass
class Policy:
    """The fields of an SlaPolicy that choosing reads."""

    name: str
    priority: str = "normal"
    survey_id: int | None = None
    attribute_name: str = ""
    attribute_value: str = ""
    first_contact_hours: Decimal = Decimal("2")
    resolution_hours: Decimal = Decimal("10")
    reassign_after_hours: Decimal = Decimal("4")


@dataclass
class Team:
    """The calendar settings of a Team."""

    time_zone: str = "Europe/London"
    working_hours: dict = field(default_factory=lambda: dict(DEFAULT_HOURS))
    holiday_country: str = ""
    holiday_subdivision: str = ""
    extra_holidays: list = field(default_factory=list)


@pytest.fixture(autouse=True)
def fresh_calendars():
    """Each test builds its own calendars: one cached by an earlier test would hide how they are built."""
    sla._calendar.cache_clear()


def chosen(policies, *, priority="normal", survey_id=1, attributes=None) -> SlaTargets:
    return choose_targets(policies, priority=priority, survey_id=survey_id, attributes=attributes or {})


def test_the_defaults_are_four_and_sixteen_hours_for_hot_and_eight_and_forty_for_normal():
    assert DEFAULT_TARGETS["hot"] == SlaTargets(4 * HOUR, 16 * HOUR, 8 * HOUR)
    assert DEFAULT_TARGETS["normal"] == SlaTargets(8 * HOUR, 40 * HOUR, 8 * HOUR)
    assert chosen([], priority="hot") == SlaTargets(4 * HOUR, 16 * HOUR, 8 * HOUR)


def test_a_matching_policy_gives_its_own_hours():
    policy = Policy("all normal", first_contact_hours=Decimal("1.5"), resolution_hours=Decimal("12.25"))
    assert chosen([policy]) == SlaTargets(timedelta(minutes=90), timedelta(hours=12, minutes=15), 4 * HOUR)


@pytest.mark.parametrize(
    ("policy", "survey_id", "attributes"),
    [
        (Policy("hot only", priority="hot"), 1, {}),
        (Policy("other survey", survey_id=2), 1, {}),
        (Policy("apac", attribute_name="region", attribute_value="apac"), 1, {"region": "emea"}),
        (Policy("apac", attribute_name="region", attribute_value="apac"), 1, {}),
    ],
    ids=["priority", "survey", "segment", "segment-missing"],
)
def test_a_policy_that_does_not_match_leaves_the_defaults(policy, survey_id, attributes):
    assert chosen([policy], survey_id=survey_id, attributes=attributes) == DEFAULT_TARGETS["normal"]


def test_the_most_specific_policy_wins_whatever_the_order():
    general = Policy("general", first_contact_hours=Decimal("7"))
    segment = Policy("emea", attribute_name="region", attribute_value="emea", first_contact_hours=Decimal("6"))
    survey = Policy("survey 1", survey_id=1, first_contact_hours=Decimal("5"))
    both = Policy("survey 1, emea", survey_id=1, attribute_name="region", attribute_value="emea")
    emea = {"region": "emea"}

    for order in ([general, segment, survey, both], [both, survey, segment, general]):
        assert chosen(order, attributes=emea).first_contact == 2 * HOUR
    assert chosen([general, segment, survey], attributes=emea).first_contact == 5 * HOUR
    assert chosen([survey, segment, general], attributes=emea).first_contact == 5 * HOUR
    assert chosen([general, segment], attributes=emea).first_contact == 6 * HOUR
    assert chosen([segment, general], attributes=emea).first_contact == 6 * HOUR
    assert chosen([segment, general], attributes={"region": "apac"}).first_contact == 7 * HOUR


def test_among_equally_specific_policies_the_first_wins():
    first, second = Policy("first", first_contact_hours=Decimal("3")), Policy("second")
    assert chosen([first, second]).first_contact == 3 * HOUR
    assert chosen([second, first]).first_contact == 2 * HOUR


def test_a_policy_that_does_not_match_is_skipped_not_the_end_of_the_search():
    hot, normal = Policy("hot", priority="hot"), Policy("normal", first_contact_hours=Decimal("3"))
    assert chosen([hot, normal]).first_contact == 3 * HOUR
    other_survey = Policy("survey 2", survey_id=2)
    apac = Policy("apac", attribute_name="region", attribute_value="apac")
    assert chosen([other_survey, apac, normal], attributes={"region": "emea"}).first_contact == 3 * HOUR


def test_an_empty_segment_value_matches_customers_without_the_attribute():
    policy = Policy("no region", attribute_name="region", attribute_value="")
    assert chosen([policy], attributes={}).first_contact == 2 * HOUR
    assert chosen([policy], attributes={"region": "emea"}) == DEFAULT_TARGETS["normal"]


def test_a_numeric_segment_value_matches_its_text():
    policy = Policy("tier 2", attribute_name="tier", attribute_value="2")
    assert chosen([policy], attributes={"tier": 2}).first_contact == 2 * HOUR


def test_deadlines_count_business_hours_and_the_last_quarter_is_at_risk():
    calendar = calendar_of(Team())
    # Monday 10:00 in a 9-to-5 week: 8 hours -> Tuesday 10:00; 40 hours -> the next Monday 10:00;
    # at risk after 6 of the 8 hours -> Monday 16:00.
    due = deadlines(MONDAY_10, SlaTargets(8 * HOUR, 40 * HOUR), calendar)
    assert due.first_contact_due == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert due.resolution_due == datetime(2026, 3, 9, 10, tzinfo=UTC)
    assert due.first_contact_at_risk_from == datetime(2026, 3, 2, 16, tzinfo=UTC)


def test_a_team_calendar_follows_its_hours_zone_and_holidays():
    team = Team(
        time_zone="America/New_York",
        working_hours={"mon": ["08:00-12:00"], "tue": ["08:00-12:00"]},
        extra_holidays=["2026-03-03"],
    )
    calendar = calendar_of(team)
    assert calendar.time_zone == ZoneInfo("America/New_York")
    assert calendar.weekly_hours[1] != ()
    assert calendar.weekly_hours[2] == ()
    assert date(2026, 3, 3) in calendar.holidays
    # Monday 2 March 11:00 EST: one hour left that day; Tuesday is a holiday, so the last hour
    # starts the next Monday at 08:00 EDT.
    due = deadlines(datetime(2026, 3, 2, 16, tzinfo=UTC), SlaTargets(2 * HOUR, 2 * HOUR), calendar)
    assert due.first_contact_due == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT after the switch


def test_a_team_calendar_uses_public_holidays_of_its_region():
    scotland = calendar_of(Team(holiday_country="GB", holiday_subdivision="SCT"))
    england = calendar_of(Team(holiday_country="GB"))
    assert date(2026, 1, 2) in scotland.holidays
    assert date(2026, 1, 2) not in england.holidays
    assert date(2026, 12, 25) in england.holidays


def test_every_outcome_has_its_label():
    assert {outcome: outcome.label for outcome in DeadlineOutcome} == OUTCOME_LABELS
    assert DeadlineOutcome.NOT_MET.label == "not met (case closed)"
    assert DeadlineOutcome.PAUSED.label == "paused, waiting on the customer"
