"""The routing decisions of followups.routing, on plain values: which rule matches, hot cases, who takes a case.

Each rule condition is tested on both sides (a response it must claim and one it must not), and
the load balancer on who gets each case, starting from loads that are not all zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from followups import text_match
from followups.routing import LoadBalancer, ResponseFacts, first_matching_rule, is_hot, mentions_any, rule_matches

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass
class Rule:
    """The fields of a RoutingRule that routing reads; every condition unset by default."""

    name: str = "rule"
    survey_id: int | None = None
    account_id: int | None = None
    attribute_name: str = ""
    attribute_value: str = ""
    score_min: int | None = None
    score_max: int | None = None
    keywords: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def fresh_patterns():
    """Each test builds its own keyword patterns: one cached by an earlier test would hide how they are built."""
    text_match._patterns.cache_clear()


def facts(**overrides) -> ResponseFacts:
    values = {"survey_id": 1, "account_id": 10, "attributes": {"region": "emea"}, "score": 4, "comment": "slow"}
    return ResponseFacts(**{**values, **overrides})


def test_a_rule_without_conditions_claims_every_response():
    assert rule_matches(Rule(), facts())
    assert rule_matches(Rule(), facts(account_id=None, attributes={}, comment=""))


@pytest.mark.parametrize(
    ("rule", "matching", "not_matching"),
    [
        (Rule(survey_id=1), facts(survey_id=1), facts(survey_id=2)),
        (Rule(account_id=10), facts(account_id=10), facts(account_id=11)),
        (Rule(account_id=10), facts(account_id=10), facts(account_id=None)),
        (Rule(attribute_name="region", attribute_value="emea"), facts(), facts(attributes={"region": "apac"})),
        (Rule(attribute_name="region", attribute_value="emea"), facts(), facts(attributes={})),
        (Rule(attribute_name="region", attribute_value=""), facts(attributes={}), facts()),
        (Rule(attribute_name="tier", attribute_value="2"), facts(attributes={"tier": 2}), facts(attributes={})),
        (Rule(score_min=3), facts(score=3), facts(score=2)),
        (Rule(score_max=3), facts(score=3), facts(score=4)),
        (Rule(score_min=0, score_max=0), facts(score=0), facts(score=1)),
        (Rule(keywords=["invoice"]), facts(comment="Wrong INVOICE again"), facts(comment="slow")),
    ],
    ids=[
        "survey",
        "account",
        "account-missing",
        "attribute",
        "attribute-missing",
        "attribute-empty",
        "attribute-number",
        "score-min",
        "score-max",
        "score-zero",
        "keywords",
    ],
)
def test_each_condition_claims_what_it_names_and_nothing_else(rule, matching, not_matching):
    assert rule_matches(rule, matching)
    assert not rule_matches(rule, not_matching)


def test_every_condition_must_hold_not_just_one():
    rule = Rule(survey_id=1, account_id=10, score_max=6, keywords=["vpn"])
    assert rule_matches(rule, facts(comment="the vpn drops"))
    assert not rule_matches(rule, facts(comment="the vpn drops", survey_id=2))
    assert not rule_matches(rule, facts(comment="the vpn drops", account_id=12))
    assert not rule_matches(rule, facts(comment="the vpn drops", score=7))
    assert not rule_matches(rule, facts(comment="the printer jams"))


def test_the_first_matching_rule_wins_in_the_given_order():
    vip, catch_all = Rule("vip", account_id=10), Rule("catch-all")
    emea = Rule("emea", attribute_name="region", attribute_value="emea")
    assert first_matching_rule([vip, emea, catch_all], facts()) is vip
    assert first_matching_rule([emea, vip, catch_all], facts()) is emea
    assert first_matching_rule([vip, emea, catch_all], facts(account_id=3, attributes={})) is catch_all
    assert first_matching_rule([vip, emea], facts(account_id=3, attributes={})) is None
    assert first_matching_rule([], facts()) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I will cancel", True),
        ("Cancelling the contract", True),  # from a word's start
        ("CANCEL now", True),
        ("we spoke to a lawyer.", True),
        ("we are switching provider", True),
        ("uncancelled order", False),  # not inside a word
        ("cancer", False),
        ("", False),
    ],
)
def test_keywords_match_from_the_start_of_a_word_in_any_case(text, found):
    assert mentions_any(text, ["cancel", "lawyer", "switching provider"]) is found


def test_blank_keywords_match_nothing_and_regex_characters_are_literal():
    assert not mentions_any("anything at all", ["", "  "])
    assert not mentions_any("anything at all", [])
    assert mentions_any("costs $100 (net)", ["$100 (net)"])
    assert not mentions_any("costs 100 net", ["$100 (net)"])
    assert mentions_any("the Invoice", [" invoice "])
    assert mentions_any("Die Straße ist gesperrt", ["STRAßE"])


def test_hot_words_match_whatever_the_accents():
    assert mentions_any("Je vais résilier", ["resilier"])
    assert mentions_any("I will CANCÉL", ["cancel"])
    assert not mentions_any("résiliation", ["resilier"])


@pytest.mark.parametrize(
    ("score", "comment", "hot"),
    [(2, "", True), (3, "", True), (4, "", False), (6, "fine", False), (6, "I will cancel", True), (9, "cancel", True)],
)
def test_a_case_is_hot_at_or_below_the_threshold_or_on_a_hot_word(score, comment, hot):
    assert is_hot(score, comment, threshold=3, words=["cancel"]) is hot


def test_the_agent_with_fewest_open_cases_takes_the_case():
    balancer = LoadBalancer({1: (5, None), 2: (2, None), 3: (4, None)})
    assert balancer.choose([1, 2, 3]) == 2
    assert balancer.loads[2] == (3, None)


def test_existing_loads_decide_who_takes_each_case_of_a_batch():
    balancer = LoadBalancer({1: (3, None), 2: (1, None), 3: (0, None)})
    chosen = [balancer.choose([1, 2, 3]) for _ in range(6)]
    # Worked by hand, open cases (1, 2, 3) before each pick:
    # (3, 1, 0) -> 3;  (3, 1, 1) -> 2, tied with 3 but not yet picked;  (3, 2, 1) -> 3;
    # (3, 2, 2) -> 2, picked before 3;  (3, 3, 2) -> 3;  (3, 3, 3) -> 1, the only one not yet picked.
    assert chosen == [3, 2, 3, 2, 3, 1]
    assert balancer.loads == {1: (4, None), 2: (3, None), 3: (3, None)}


def test_ties_go_to_the_agent_idle_longest():
    balancer = LoadBalancer(
        {
            1: (2, MONDAY),
            2: (2, MONDAY - timedelta(hours=3)),
            3: (2, MONDAY - timedelta(hours=1)),
        }
    )
    assert balancer.choose([1, 2, 3]) == 2
    assert balancer.choose([1, 3]) == 3


def test_an_agent_never_assigned_comes_before_one_assigned_long_ago():
    balancer = LoadBalancer({1: (1, MONDAY - timedelta(days=300)), 2: (1, None)})
    assert balancer.choose([1, 2]) == 2


def test_an_agent_with_no_recorded_load_counts_as_free_and_never_assigned():
    balancer = LoadBalancer({1: (0, MONDAY)})
    assert balancer.choose([1, 2]) == 2
    assert balancer.loads[2] == (1, None)


def test_full_ties_fall_to_the_lowest_id():
    balancer = LoadBalancer({7: (1, MONDAY), 4: (1, MONDAY)})
    assert balancer.choose([7, 4]) == 4


def test_within_a_batch_the_agent_picked_earliest_is_next_among_equals():
    balancer = LoadBalancer({1: (0, None), 2: (0, None), 3: (0, None)})
    assert [balancer.choose([3, 1, 2]) for _ in range(6)] == [1, 2, 3, 1, 2, 3]


def test_an_owner_named_by_a_rule_counts_towards_the_balance():
    balancer = LoadBalancer({1: (0, None), 2: (0, None)})
    balancer.count(1)
    balancer.count(1)
    assert balancer.loads[1] == (2, None)
    assert [balancer.choose([1, 2]) for _ in range(3)] == [2, 2, 1]


def test_only_candidates_are_chosen_and_none_without_any():
    balancer = LoadBalancer({1: (0, None), 2: (9, None)})
    assert balancer.choose([2]) == 2
    assert balancer.choose([]) is None
    assert balancer.choose(iter([])) is None
    assert balancer.loads == {1: (0, None), 2: (10, None)}


def test_among_equal_loads_the_agent_picked_longest_ago_in_the_batch_is_next():
    balancer = LoadBalancer({1: (0, None), 2: (1, None)})
    # (0, 1) -> 1;  (1, 1) -> 2, never picked;  (1, 2) -> 1;  (2, 2) -> 2, picked before 1's last pick.
    assert [balancer.choose([1, 2]) for _ in range(4)] == [1, 2, 1, 2]


def test_an_agent_picked_in_the_batch_comes_after_one_assigned_earlier_today():
    balancer = LoadBalancer({1: (0, MONDAY), 2: (1, MONDAY - timedelta(hours=1))})
    assert [balancer.choose([1, 2]) for _ in range(2)] == [1, 2]
