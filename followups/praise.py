"""Reads of praise: recent promoter comments, attributed to the agent or team that handled the ticket.

The help desk names who handled a ticket when it asks for the survey (``Invitation.agent`` and
``Invitation.team``, a username and a team slug); the answer to that invitation is the praise.
One query whatever the data, the team's name read in it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from followups.models import Team
from surveys.handling import HANDLING_AGENT, HANDLING_TEAM
from surveys.models import Response
from surveys.nps import Category

PRAISE_DAYS = 90
PRAISE_LISTED = 10


def recent_praise(
    *,
    agents: Collection[str] | None = None,
    teams: Collection[str] | None = None,
    survey: str = "",
    now: datetime | None = None,
    limit: int = PRAISE_LISTED,
) -> list[Response]:
    """Promoters' comments of the last PRAISE_DAYS on tickets handled by ``agents`` (usernames) or
    ``teams`` (slugs), newest first; with neither, every attributed comment (the dashboard's).
    ``survey`` (a slug) keeps that survey's answers only, as the dashboard's filter does.

    Each response carries ``praised_agent`` (a username, may be empty) and ``praised_team`` (the
    team's name, else its slug, may be empty).
    """
    since = (now or timezone.now()) - timedelta(days=PRAISE_DAYS)
    if agents is None and teams is None:
        handled = ~Q(**{HANDLING_AGENT: ""}) | ~Q(**{HANDLING_TEAM: ""})
    else:
        handled = Q(**{f"{HANDLING_AGENT}__in": list(agents or ())}) | Q(**{f"{HANDLING_TEAM}__in": list(teams or ())})
    team_name = Team.objects.filter(slug=OuterRef(HANDLING_TEAM)).values("name")[:1]
    praise = (
        Response.objects.filter(handled, category=Category.PROMOTER, submitted_at__gte=since, invitation__isnull=False)
        .exclude(comment="")
        .filter(**({"survey__slug": survey} if survey else {}))
        .annotate(
            praised_agent=F(HANDLING_AGENT),
            praised_team=Coalesce(Subquery(team_name), F(HANDLING_TEAM)),
        )
        .select_related("survey")
        .order_by("-submitted_at", "-pk")
    )
    return list(praise[:limit])
