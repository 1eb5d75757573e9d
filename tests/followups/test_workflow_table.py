"""The case state machine of API.md, checked for every pair of statuses."""

from __future__ import annotations

import itertools

import pytest

from followups.workflow import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    CaseStatus,
    allowed_next_statuses,
    can_transition,
    needs_close_reason,
    pauses_resolution_clock,
)

S = CaseStatus
# Written out from API.md, independently of the table in followups/workflow.py.
EXPECTED = {
    (S.NEW, S.CONTACTED),
    (S.CONTACTED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.CONTACTED, S.RESOLVED),
    (S.CONTACTED, S.WAITING_ON_CUSTOMER),
    (S.IN_PROGRESS, S.WAITING_ON_CUSTOMER),
    (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS),
    (S.NEW, S.CLOSED),
    (S.CONTACTED, S.CLOSED),
    (S.IN_PROGRESS, S.CLOSED),
    (S.WAITING_ON_CUSTOMER, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),
    (S.CLOSED, S.IN_PROGRESS),
}
ALL_PAIRS = list(itertools.product(S, S))


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_is_allowed_exactly_when_api_md_says_so(source, target):
    assert can_transition(source, target) == ((source, target) in EXPECTED)


def test_the_table_has_no_transition_the_contract_lacks():
    table = {(source, target) for source, targets in ALLOWED_TRANSITIONS.items() for target in targets}
    assert table == EXPECTED


@pytest.mark.parametrize("value", ["", "open", "Resolved", None])
def test_unknown_statuses_are_never_allowed(value):
    assert not can_transition(S.NEW, value)
    assert not can_transition(value, S.NEW)


def test_open_means_not_resolved_and_not_closed():
    assert {S.RESOLVED, S.CLOSED}.isdisjoint(OPEN_STATUSES)
    assert OPEN_STATUSES | {S.RESOLVED, S.CLOSED} == set(S)


def test_closing_needs_a_reason_unless_resolved():
    for source in OPEN_STATUSES:
        assert needs_close_reason(source, S.CLOSED)
    assert not needs_close_reason(S.RESOLVED, S.CLOSED)
    assert not needs_close_reason(S.CONTACTED, S.RESOLVED)


def test_only_waiting_on_the_customer_pauses_the_clock():
    assert [s for s in S if pauses_resolution_clock(s)] == [S.WAITING_ON_CUSTOMER]


@pytest.mark.parametrize("source", list(S))
def test_the_statuses_allowed_next_are_those_of_the_contract_in_workflow_order(source):
    expected = [target for target in S if (source, target) in EXPECTED]

    assert allowed_next_statuses(source) == expected


def test_an_unknown_status_allows_nothing_next():
    assert allowed_next_statuses("bogus") == []


def test_the_status_values_are_the_ones_the_api_names():
    assert [status.value for status in CaseStatus] == [
        "new",
        "contacted",
        "in_progress",
        "waiting_on_customer",
        "resolved",
        "closed",
    ]
