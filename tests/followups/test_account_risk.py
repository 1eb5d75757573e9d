"""The account risk rule (followups.account_risk): points, levels, sentences and the ranking, table-driven."""

from __future__ import annotations

import pytest

from followups.account_risk import (
    AccountSignals,
    RiskLevel,
    account_risk,
    explain,
    fall_points,
    is_key_contact,
    overdue_points,
    rank_accounts,
    risk_level,
    silent_key_contact_points,
)
from surveys.nps import NpsComparison, NpsSummary, compare

EMPTY = NpsSummary(0, 0, 0)


def signals(
    name: str = "Acme",
    *,
    current: NpsSummary = EMPTY,
    previous: NpsSummary = EMPTY,
    silent: int = 0,
    overdue: int = 0,
    external_id: str | None = None,
) -> AccountSignals:
    return AccountSignals(external_id or name.upper(), name, current, previous, silent, overdue)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({}, False),
        ({"key_contact": True}, True),
        ({"key_contact": False}, False),
        ({"key_contact": "yes"}, True),
        ({"key_contact": " YES "}, True),
        ({"key_contact": "true"}, True),
        ({"key_contact": "1"}, True),
        ({"key_contact": 1}, True),
        ({"key_contact": "y"}, True),
        ({"key_contact": "no"}, False),
        ({"key_contact": ""}, False),
        ({"key_contact": None}, False),
        ({"key_contact": 0}, False),
        ({"plan": "yes"}, False),
    ],
)
def test_key_contacts_are_read_from_the_attribute(attributes, expected):
    assert is_key_contact(attributes) is expected


def _change(difference: float, p_value: float | None) -> NpsComparison:
    return NpsComparison(difference, 5.0, None, p_value)


@pytest.mark.parametrize(
    ("change", "points"),
    [
        (None, 0),
        (_change(12.0, 0.001), 0),  # a significant rise is no risk
        (_change(0.0, 1.0), 0),
        (_change(0.0, 0.01), 0),  # no fall, whatever the test says
        (_change(-5.0, 0.4), 0),  # a small fall within the noise
        (_change(-9.9, 0.2), 0),
        (_change(-10.0, 0.2), 2),  # noticeable from ten points
        (_change(-25.0, 0.06), 2),
        (_change(-3.0, 0.049), 4),  # significant, however small
        (_change(-40.0, 0.0), 4),
    ],
)
def test_a_fall_of_nps_gives_points_by_its_size_and_significance(change, points):
    assert fall_points(change) == points


@pytest.mark.parametrize(("count", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (50, 3)])
def test_silent_key_contacts_give_a_point_each_up_to_three(count, points):
    assert silent_key_contact_points(count) == points


@pytest.mark.parametrize(("count", "points"), [(0, 0), (1, 2), (2, 4), (3, 6), (4, 6), (40, 6)])
def test_overdue_cases_give_two_points_each_up_to_six(count, points):
    assert overdue_points(count) == points


@pytest.mark.parametrize(
    ("points", "level"),
    [
        (0, RiskLevel.LOW),
        (1, RiskLevel.LOW),
        (2, RiskLevel.MEDIUM),
        (5, RiskLevel.MEDIUM),
        (6, RiskLevel.HIGH),
        (13, RiskLevel.HIGH),
    ],
)
def test_points_make_the_level(points, level):
    assert risk_level(points) == level


# A significant fall: 60 % promoters and 10 % detractors (+50) down to 20 % and 50 % (-30) on 50 answers each.
GOOD = NpsSummary(30, 15, 5)
BAD = NpsSummary(10, 15, 25)
# A fall of 12 points on ten answers each: nowhere near significant.
TEN_BEFORE = NpsSummary(5, 3, 2)  # +30
TEN_AFTER = NpsSummary(4, 4, 2)  # +20 -> a fall of 10
TEN_AFTER_12 = NpsSummary(4, 3, 3)  # +10 -> a fall of 20


@pytest.mark.parametrize(
    ("case", "points", "level", "sentence"),
    [
        (
            signals(current=GOOD, previous=GOOD),
            0,
            RiskLevel.LOW,
            "Low risk: NPS did not fall, every key contact answered and no case is overdue.",
        ),
        (
            signals(),
            0,
            RiskLevel.LOW,
            "Low risk: no NPS of both quarters to compare, every key contact answered and no case is overdue.",
        ),
        (
            signals(current=GOOD),
            0,
            RiskLevel.LOW,
            "Low risk: no NPS of both quarters to compare, every key contact answered and no case is overdue.",
        ),
        (
            signals(current=BAD, previous=GOOD),
            4,
            RiskLevel.MEDIUM,
            "Medium risk (4 points): NPS fell 80 points, from +50 to -30 (a significant fall).",
        ),
        (
            signals(current=TEN_AFTER_12, previous=TEN_BEFORE),
            2,
            RiskLevel.MEDIUM,
            "Medium risk (2 points): NPS fell 20 points, from +30 to +10 (within the noise).",
        ),
        (
            signals(current=TEN_AFTER, previous=TEN_BEFORE, silent=1),
            3,
            RiskLevel.MEDIUM,
            "Medium risk (3 points): NPS fell 10 points, from +30 to +20 (within the noise); "
            "and 1 key contact has not answered their survey.",
        ),
        (
            signals(silent=1),
            1,
            RiskLevel.LOW,
            "Low risk (1 point): 1 key contact has not answered their survey.",
        ),
        (
            signals(overdue=1),
            2,
            RiskLevel.MEDIUM,
            "Medium risk (2 points): 1 case is overdue.",
        ),
        (
            signals(current=BAD, previous=GOOD, silent=2, overdue=3),
            12,
            RiskLevel.HIGH,
            "High risk (12 points): NPS fell 80 points, from +50 to -30 (a significant fall); "
            "2 key contacts have not answered their survey; and 3 cases are overdue.",
        ),
        (
            signals(silent=5, overdue=2),
            7,
            RiskLevel.HIGH,
            "High risk (7 points): 5 key contacts have not answered their survey; and 2 cases are overdue.",
        ),
        (
            signals(current=GOOD, previous=BAD, overdue=1),
            2,
            RiskLevel.MEDIUM,
            "Medium risk (2 points): 1 case is overdue.",
        ),
    ],
)
def test_each_account_gets_points_a_level_and_one_sentence(case, points, level, sentence):
    risk = account_risk(case)
    assert (risk.points, risk.level, risk.explanation) == (points, level, sentence)
    assert risk.signals is case


def test_the_change_is_the_current_quarter_against_the_one_before():
    risk = account_risk(signals(current=BAD, previous=GOOD))
    assert risk.change == compare(BAD, GOOD)
    assert risk.change is not None and risk.change.difference == pytest.approx(-80.0)
    assert account_risk(signals(current=GOOD)).change is None


def test_a_sentence_without_nps_says_so():
    odd = signals(current=EMPTY, previous=GOOD)
    assert (
        explain(odd, _change(-20.0, 0.01), 4)
        == "Medium risk (4 points): NPS fell 20 points, from +50 to no responses (a significant fall)."
    )


def test_accounts_rank_by_points_then_overdue_then_silent_contacts_then_name():
    accounts = [
        signals("Zeta", silent=2),  # 2 points, 0 overdue
        signals("Alpha"),  # 0 points
        signals("Mid", overdue=1),  # 2 points, 1 overdue: above Zeta
        signals("beta", silent=2),  # 2 points, same as Zeta: name decides (case-insensitive)
        signals("Top", current=BAD, previous=GOOD, overdue=3),  # 10 points
        signals("Quiet", silent=1),  # 1 point
        signals("Alpha", external_id="ACC-2"),  # same name: the external id decides
    ]
    ranked = [(risk.signals.name, risk.signals.external_id, risk.points) for risk in rank_accounts(accounts)]
    assert ranked == [
        ("Top", "TOP", 10),
        ("Mid", "MID", 2),
        ("beta", "BETA", 2),
        ("Zeta", "ZETA", 2),
        ("Quiet", "QUIET", 1),
        ("Alpha", "ACC-2", 0),
        ("Alpha", "ALPHA", 0),
    ]


def test_names_tie_in_lower_case_order():
    assert [risk.signals.name for risk in rank_accounts([signals("aab"), signals("A_B")])] == ["A_B", "aab"]


def test_silent_key_contacts_break_ties_of_points_and_overdue_cases():
    fewer = signals("A", current=TEN_AFTER_12, previous=TEN_BEFORE, silent=0, overdue=1)  # 2 + 2
    more = signals("B", silent=2, overdue=1)  # 2 + 2
    assert [risk.signals.name for risk in rank_accounts([fewer, more])] == ["B", "A"]
