"""The case state machine: statuses and the transitions API.md allows. Pure, no database.

new -> contacted -> in_progress -> resolved -> closed; contacted may go straight to resolved;
contacted and in_progress may wait on the customer (the resolution clock pauses) and come back
to in_progress; any open status may be closed (with a reason when unresolved); resolved and
closed may be reopened to in_progress. ``followups.services.case_transition`` is the only code
that changes a case's status, and it enforces this table.
"""

from __future__ import annotations

from django.db import models


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


S = CaseStatus

# "Open" means the loop is not closed yet: not resolved and not closed.
OPEN_STATUSES: frozenset[CaseStatus] = frozenset({S.NEW, S.CONTACTED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER})

ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.CONTACTED, S.CLOSED}),
    S.CONTACTED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.WAITING_ON_CUSTOMER, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.WAITING_ON_CUSTOMER, S.CLOSED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}


def allowed_next_statuses(status: str) -> list[CaseStatus]:
    """The statuses a case in ``status`` may move to, in the workflow's order (none for an unknown one).

    What the API lists, the case page offers and ``can_transition`` allows: one table, read once.
    """
    try:
        allowed = ALLOWED_TRANSITIONS[CaseStatus(status)]
    except ValueError:
        return []
    return [candidate for candidate in CaseStatus if candidate in allowed]


def can_transition(from_status: str, to_status: str) -> bool:
    """Whether the table allows moving a case from ``from_status`` to ``to_status``."""
    return to_status in allowed_next_statuses(from_status)


def needs_close_reason(from_status: str, to_status: str) -> bool:
    """Closing a case that was never resolved must say why (customer unreachable, duplicate...)."""
    return to_status == S.CLOSED and from_status != S.RESOLVED


def pauses_resolution_clock(status: str) -> bool:
    """Whether time spent in ``status`` is excluded from the resolution deadline."""
    return status == S.WAITING_ON_CUSTOMER
