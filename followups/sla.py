"""SLA targets and the deadlines they give in a team's business calendar.

Deadlines are counted in business hours of the owning team's calendar from the moment the
case opens. The last quarter of each window counts as "at risk", so agents see a case turning
urgent before it breaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from followups.business_time import WorkingCalendar, add_business_time

AT_RISK_SHARE = 0.25


@dataclass(frozen=True)
class SlaTargets:
    """Business time allowed for first contact and for resolution, and the level-2 delay."""

    first_contact: timedelta
    resolution: timedelta
    reassign_after: timedelta = timedelta(hours=8)


DEFAULT_TARGETS = {
    "hot": SlaTargets(first_contact=timedelta(hours=4), resolution=timedelta(hours=16)),
    "normal": SlaTargets(first_contact=timedelta(hours=8), resolution=timedelta(hours=40)),
}


@dataclass(frozen=True)
class Deadlines:
    first_contact_due: datetime
    resolution_due: datetime
    first_contact_at_risk_from: datetime
    resolution_at_risk_from: datetime


def deadlines(start: datetime, targets: SlaTargets, calendar: WorkingCalendar) -> Deadlines:
    """Deadlines of a case opened at ``start`` under ``targets`` in ``calendar``."""
    return Deadlines(
        first_contact_due=add_business_time(start, targets.first_contact, calendar),
        resolution_due=add_business_time(start, targets.resolution, calendar),
        first_contact_at_risk_from=add_business_time(start, targets.first_contact * (1 - AT_RISK_SHARE), calendar),
        resolution_at_risk_from=add_business_time(start, targets.resolution * (1 - AT_RISK_SHARE), calendar),
    )


class DeadlineOutcome(StrEnum):
    """How a case fared against one of its deadlines; the value is the key reports group by."""

    MET = "met"
    MET_LATE = "met_late"
    BREACHED = "breached"
    NOT_MET = "not_met"
    PAUSED = "paused"
    PENDING = "pending"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {
    DeadlineOutcome.MET: "met",
    DeadlineOutcome.MET_LATE: "met late",
    DeadlineOutcome.BREACHED: "breached",
    DeadlineOutcome.NOT_MET: "not met (case closed)",
    DeadlineOutcome.PAUSED: "paused, waiting on the customer",
    DeadlineOutcome.PENDING: "pending",
}


def deadline_outcome(
    *, done_at: datetime | None, breached_at: datetime | None, is_open: bool, paused: bool
) -> DeadlineOutcome:
    """The outcome of one deadline: ``done_at`` is when it was met (contacted, resolved), if ever.

    Done after a recorded breach is "met late"; a breach stands until the work is done; a case
    closed without the work done did not meet it; an open case is pending, or paused while it
    waits on the customer.
    """
    if done_at is not None:
        return DeadlineOutcome.MET_LATE if breached_at is not None else DeadlineOutcome.MET
    if breached_at is not None:
        return DeadlineOutcome.BREACHED
    if not is_open:
        return DeadlineOutcome.NOT_MET
    return DeadlineOutcome.PAUSED if paused else DeadlineOutcome.PENDING


def choose_targets(policies: list[Any], *, priority: str, survey_id: int, attributes: dict[str, Any]) -> SlaTargets:
    """The targets of the most specific matching policy, else the defaults for ``priority``.

    A policy matches when its priority is ``priority`` and the survey and segment it names (if
    any) are the response's. Survey and segment together beat either alone; survey beats segment.
    """
    best, best_rank = None, -1
    for policy in policies:
        if policy.priority != priority or (policy.survey_id and policy.survey_id != survey_id):
            continue
        if policy.attribute_name and str(attributes.get(policy.attribute_name, "")) != policy.attribute_value:
            continue
        rank = (2 if policy.survey_id else 0) + (1 if policy.attribute_name else 0)
        if rank > best_rank:
            best, best_rank = policy, rank
    if best is None:
        return DEFAULT_TARGETS[priority]
    return SlaTargets(
        first_contact=timedelta(hours=float(best.first_contact_hours)),
        resolution=timedelta(hours=float(best.resolution_hours)),
        reassign_after=timedelta(hours=float(best.reassign_after_hours)),
    )


def team_calendar(team: Any) -> WorkingCalendar:
    """The business calendar a team's settings describe (cached: building one parses holidays)."""
    extra = tuple(sorted(team.extra_holidays or ()))
    hours = tuple(sorted((day, tuple(spec)) for day, spec in (team.working_hours or {}).items()))
    return _calendar(team.time_zone, hours, team.holiday_country or None, team.holiday_subdivision or None, extra)


def _calendar_from_settings(
    time_zone: str, hours: tuple, country: str | None, subdivision: str | None, extra: tuple
) -> WorkingCalendar:
    return WorkingCalendar.from_spec(
        time_zone,
        dict(hours),
        country=country,
        subdivision=subdivision,
        extra_holidays=[date.fromisoformat(day) for day in extra],
    )


_calendar = lru_cache(maxsize=256)(_calendar_from_settings)
