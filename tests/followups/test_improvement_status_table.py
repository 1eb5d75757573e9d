"""The improvement lifecycle table: which moves are allowed, in lifecycle order, and shipping."""

from __future__ import annotations

import pytest

from followups.improvement_status import ALLOWED_MOVES, ImprovementStatus, allowed_next_statuses, can_move, can_ship

S = ImprovementStatus


def test_every_status_has_its_moves():
    assert set(ALLOWED_MOVES) == set(S)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.PROPOSED, [S.PLANNED, S.IN_PROGRESS, S.SHIPPED, S.DECLINED]),
        (S.PLANNED, [S.PROPOSED, S.IN_PROGRESS, S.SHIPPED, S.DECLINED]),
        (S.IN_PROGRESS, [S.PLANNED, S.SHIPPED, S.DECLINED]),
        (S.SHIPPED, []),
        (S.DECLINED, [S.PROPOSED]),
        ("nonsense", []),
        ("", []),
    ],
)
def test_allowed_next_statuses_in_lifecycle_order(status, expected):
    assert allowed_next_statuses(status) == expected


def test_no_status_moves_to_itself():
    for status in S:
        assert not can_move(status, status)


@pytest.mark.parametrize(
    ("from_status", "to_status", "allowed"),
    [
        (S.PROPOSED, S.PLANNED, True),
        (S.PLANNED, S.PROPOSED, True),
        (S.IN_PROGRESS, S.PROPOSED, False),
        (S.IN_PROGRESS, S.PLANNED, True),
        (S.DECLINED, S.PLANNED, False),
        (S.DECLINED, S.PROPOSED, True),
        (S.SHIPPED, S.PROPOSED, False),
        (S.SHIPPED, S.DECLINED, False),
        (S.PROPOSED, "unknown", False),
        ("unknown", S.PROPOSED, False),
    ],
)
def test_can_move(from_status, to_status, allowed):
    assert can_move(from_status, to_status) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (S.PROPOSED, True),
        (S.PLANNED, True),
        (S.IN_PROGRESS, True),
        (S.SHIPPED, False),
        (S.DECLINED, False),
        ("x", False),
    ],
)
def test_can_ship(status, allowed):
    assert can_ship(status) is allowed
