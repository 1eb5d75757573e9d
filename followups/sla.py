"""SLA targets and the deadlines they give in a team's business calendar.

Deadlines are counted in business hours of the owning team's calendar from the moment the
case opens. The last quarter of each window counts as "at risk", so agents see a case turning
urgent before it breaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


def deadlines(start: datetime, targets: SlaTargets, calendar: WorkingCalendar) -> Deadlines:
    """Deadlines of a case opened at ``start`` under ``targets`` in ``calendar``."""
    return Deadlines(
        first_contact_due=add_business_time(start, targets.first_contact, calendar),
        resolution_due=add_business_time(start, targets.resolution, calendar),
        first_contact_at_risk_from=add_business_time(start, targets.first_contact * (1 - AT_RISK_SHARE), calendar),
    )


def resolution_at_risk_from(start: datetime, targets_resolution: timedelta, paused: timedelta, calendar) -> datetime:
    """When the resolution deadline turns at risk, counting the working time spent paused."""
    return add_business_time(start, targets_resolution * (1 - AT_RISK_SHARE) + paused, calendar)


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


@lru_cache(maxsize=256)
def _calendar(
    time_zone: str, hours: tuple, country: str | None, subdivision: str | None, extra: tuple
) -> WorkingCalendar:
    return WorkingCalendar.from_spec(
        time_zone,
        dict(hours),
        country=country,
        subdivision=subdivision,
        extra_holidays=[date.fromisoformat(day) for day in extra],
    )
