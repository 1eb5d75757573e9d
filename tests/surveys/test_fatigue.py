"""Survey fatigue and the other reasons not to invite someone (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from surveys.fatigue import (
    ERASED,
    NO_ADDRESS,
    QUARANTINE,
    STAFF,
    UNSUBSCRIBED,
    Asked,
    Candidate,
    customer_tags,
    quarantine_ends,
    suppression_reason,
)
from surveys.fatigue import EXCLUDED as EXCLUDED_REASON

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WELCOME = Candidate(erased=False, unsubscribed=False, email="pat@example.com", tags=frozenset(), is_staff=False)
EXCLUDED = frozenset({"internal", "partner"})


def reason(candidate: Candidate = WELCOME, *, channel: str = "email", asked=(), minimum: int = 30, bypass=False):
    return suppression_reason(
        candidate,
        channel=channel,
        asked=list(asked),
        now=NOW,
        minimum_days=minimum,
        excluded_tags=EXCLUDED,
        bypass_quarantine=bypass,
    )


def test_a_customer_never_asked_and_with_an_address_is_invited():
    assert reason() is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"erased": True, "unsubscribed": True, "email": ""}, "erased"),
        ({"unsubscribed": True, "email": "", "tags": frozenset({"internal"})}, "unsubscribed"),
        ({"email": "", "tags": frozenset({"internal"}), "is_staff": True}, "no_address"),
        ({"tags": frozenset({"partner"}), "is_staff": True}, "excluded"),
        ({"is_staff": True}, "staff"),
    ],
)
def test_the_first_reason_that_applies_is_the_one_recorded(changes, expected):
    candidate = Candidate(**{**WELCOME.__dict__, **changes})
    assert reason(candidate, asked=[Asked(NOW, 90)]) == expected


def test_no_address_matters_only_for_email():
    assert reason(Candidate(**{**WELCOME.__dict__, "email": ""}), channel="sms") is None


def test_tags_outside_the_excluded_ones_do_not_matter():
    assert reason(Candidate(**{**WELCOME.__dict__, "tags": frozenset({"vip"})})) is None


def test_quarantine_lasts_the_longer_of_the_asking_surveys_window_and_the_minimum():
    asked_by_long = [Asked(NOW - timedelta(days=89), 90)]
    assert reason(asked=asked_by_long) == "quarantine"
    assert reason(asked=[Asked(NOW - timedelta(days=90), 90)]) is None  # the window has ended
    # A survey with a short window still leaves the global minimum.
    assert reason(asked=[Asked(NOW - timedelta(days=20), 7)], minimum=30) == "quarantine"
    assert reason(asked=[Asked(NOW - timedelta(days=20), 7)], minimum=14) is None


def test_the_latest_quarantine_wins_whatever_the_order():
    asked = [
        Asked(NOW - timedelta(days=100), 90),
        Asked(NOW - timedelta(days=10), 14),
        Asked(NOW - timedelta(days=40), 60),
    ]
    assert quarantine_ends(asked, minimum_days=0) == NOW + timedelta(days=20)
    assert quarantine_ends(list(reversed(asked)), minimum_days=0) == NOW + timedelta(days=20)
    assert quarantine_ends([], minimum_days=30) is None


def test_a_recovery_check_in_bypasses_the_quarantine_but_nothing_else():
    recent = [Asked(NOW - timedelta(days=1), 90)]
    assert reason(asked=recent, bypass=True) is None
    assert reason(Candidate(**{**WELCOME.__dict__, "unsubscribed": True}), asked=recent, bypass=True) == "unsubscribed"


@pytest.mark.parametrize(
    ("attributes", "account", "expected"),
    [
        ({"tags": ["Internal", " VIP "]}, (), {"internal", "vip"}),
        ({"tags": "partner, beta,"}, (), {"partner", "beta"}),
        ({}, ["Partner"], {"partner"}),
        ({"tags": 7}, (), set()),
        ({"plan": "gold"}, (), set()),
        ({"tags": "a, ,b"}, [" ", "C "], {"a", "b", "c"}),
        ({"tags": [" ", "", 7]}, (3,), {"7", "3"}),
        ({"tags": ("vip",)}, (), set()),
        ({"tags": {"vip": True}}, (), set()),
        ({"tags": None}, ("x",), {"x"}),
    ],
)
def test_tags_come_from_the_customer_and_their_account_lower_cased(attributes, account, expected):
    assert customer_tags(attributes, account) == expected


def test_the_reasons_are_recorded_by_these_names():
    assert (ERASED, UNSUBSCRIBED, NO_ADDRESS, EXCLUDED_REASON, STAFF, QUARANTINE) == (
        "erased",
        "unsubscribed",
        "no_address",
        "excluded",
        "staff",
        "quarantine",
    )
    assert reason(asked=[Asked(NOW - timedelta(days=30), 7)], minimum=30) is None
    assert reason(asked=[Asked(NOW - timedelta(days=30) + timedelta(microseconds=1), 7)], minimum=30) == QUARANTINE


def test_the_quarantine_holds_unless_bypassing_it_is_asked_for():
    asked = [Asked(NOW - timedelta(days=1), 90)]
    rules = {"channel": "email", "asked": asked, "now": NOW, "minimum_days": 0, "excluded_tags": EXCLUDED}
    assert suppression_reason(WELCOME, **rules) == "quarantine"
