"""What the case page says about a case beyond its fields: why it is hot, which deadline comes
next and how much working time is left, and how a closed case was closed.

Pure reads of a loaded case and its events (no queries of their own), so that the page stays
at a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from followups.business_time import business_time_between
from followups.models import Case, CaseEvent
from followups.models.rules import Priority
from followups.sla import team_calendar
from followups.text_match import matching_keywords
from followups.workflow import CaseStatus


@dataclass(frozen=True)
class HotReasons:
    """Why a hot case is hot: its score at or below the survey's threshold, and the hot words it uses.

    Both empty for a hot case a routing rule or a person made hot.
    """

    low_score: bool
    threshold: int
    keywords: list[str]


def hot_reasons(case: Case) -> HotReasons | None:
    """The reasons ``followups.routing.is_hot`` found, for a hot case; None for a normal one."""
    if case.priority != Priority.HOT:
        return None
    response = case.response
    threshold = response.survey.hot_threshold
    return HotReasons(
        low_score=response.score <= threshold,
        threshold=threshold,
        keywords=matching_keywords(response.comment, settings.HOT_KEYWORDS),
    )


@dataclass(frozen=True)
class NextDeadline:
    name: str  # "first_contact" or "resolution"
    due: datetime
    working_time_left: timedelta  # zero once overdue


def next_deadline(case: Case, now: datetime) -> NextDeadline | None:
    """The deadline ``case.next_due`` stands for, with the team's working time left until it."""
    if case.next_due is None:
        return None
    name = "first_contact" if case.first_contacted_at is None else "resolution"
    left = business_time_between(now, case.next_due, team_calendar(case.team)) if case.next_due > now else timedelta(0)
    return NextDeadline(name=name, due=case.next_due, working_time_left=left)


@dataclass(frozen=True)
class Closure:
    """How the loop of a resolved or closed case was closed."""

    resolved_at: datetime | None
    closed_at: datetime | None
    time_to_resolve: timedelta | None
    working_time_to_resolve: timedelta | None
    closed_by: str  # display name, "automatic" or "" while only resolved


def closure(case: Case, events: Iterable[CaseEvent]) -> Closure | None:
    """The closing facts of a resolved or closed case; None for an open one."""
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return None
    done_at = case.resolved_at or case.closed_at
    closed_by = ""
    if case.status == CaseStatus.CLOSED:
        # Newest first: the first move to closed is the one that closed it this time.
        closing = next(
            (e for e in events if e.kind == CaseEvent.Kind.STATUS_CHANGED and e.to_status == CaseStatus.CLOSED), None
        )
        if closing is not None:
            actor = closing.actor
            closed_by = (actor.get_full_name() or actor.get_username()) if actor else "automatic"
    return Closure(
        resolved_at=case.resolved_at,
        closed_at=case.closed_at if case.status == CaseStatus.CLOSED else None,
        time_to_resolve=done_at - case.created_at if done_at else None,
        working_time_to_resolve=business_time_between(case.created_at, done_at, team_calendar(case.team))
        if done_at
        else None,
        closed_by=closed_by,
    )
