"""The improvement lifecycle: its statuses and the moves between them. Pure, no database.

An idea is proposed, planned, worked on and shipped; it may be declined at any point before it
ships and proposed again later; work may go back to the plan. Shipped is final: it is the moment
customers are told, which cannot be taken back. Only the ship service enters ``shipped``, since
shipping is also the fan-out of the "you said, we did" updates; an edit that asks for it is
pointed there.
"""

from __future__ import annotations

from django.db import models


class ImprovementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    DECLINED = "declined", "Declined"


S = ImprovementStatus

ALLOWED_MOVES: dict[ImprovementStatus, frozenset[ImprovementStatus]] = {
    S.PROPOSED: frozenset({S.PLANNED, S.IN_PROGRESS, S.SHIPPED, S.DECLINED}),
    S.PLANNED: frozenset({S.PROPOSED, S.IN_PROGRESS, S.SHIPPED, S.DECLINED}),
    S.IN_PROGRESS: frozenset({S.PLANNED, S.SHIPPED, S.DECLINED}),
    S.SHIPPED: frozenset(),
    S.DECLINED: frozenset({S.PROPOSED}),
}


def allowed_next_statuses(status: str) -> list[ImprovementStatus]:
    """The statuses an improvement in ``status`` may move to, in lifecycle order (none for an unknown one)."""
    try:
        allowed = ALLOWED_MOVES[ImprovementStatus(status)]
    except ValueError:
        return []
    return [candidate for candidate in ImprovementStatus if candidate in allowed]


def can_move(from_status: str, to_status: str) -> bool:
    """Whether the lifecycle allows moving an improvement from ``from_status`` to ``to_status``."""
    return to_status in allowed_next_statuses(from_status)


def can_ship(status: str) -> bool:
    """Whether an improvement in ``status`` may be shipped now (shipping again is a no-op, not a move)."""
    return can_move(status, S.SHIPPED)
