"""The queues: an agent's own open cases, and the open cases of the teams a lead or manager runs.

Both pages render in a fixed number of queries whatever the number of cases: one page of rows
from the selector (with its prefetches), one COUNT for the pager and one aggregate for the counts.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from closedloop.lib.roles import is_manager
from followups.forms import QueueFilterForm, TeamQueueFilterForm
from followups.models import Case, Team
from followups.selectors import case_counts, case_list, team_list
from followups.views.access import agent_page

PER_PAGE = 50
OPEN = {"open": "true"}


@agent_page
def my_queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    mine = {"owner": "me", **OPEN}
    cases = case_list(filters={**mine, **form.filters()}, user=request.user)
    context = {
        "form": form,
        "page": Paginator(cases, PER_PAGE).get_page(request.GET.get("page")),
        "counts": case_counts(cases=case_list(filters=mine, user=request.user), now=now),
        "now": now,
    }
    return render(request, "followups/queue.html", context)


@agent_page
def team_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    manager = is_manager(user)
    teams = list(team_list() if manager else team_list().filter(lead=user))
    if not manager and not teams:
        raise PermissionDenied
    now = timezone.now()
    form = TeamQueueFilterForm(request.GET or None, teams=teams)
    cases = _team_cases({**OPEN, **form.filters()}, user, teams, manager)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    by_pk = {team.pk: team for team in teams}
    for case in page:
        case.assignees = assignees(by_pk[case.team_id], case.owner)
    context = {
        "form": form,
        "page": page,
        "counts": case_counts(cases=_team_cases(OPEN, user, teams, manager), now=now),
        "now": now,
        "teams": teams,
        "next_url": request.get_full_path(),
    }
    return render(request, "followups/team_queue.html", context)


def _team_cases(filters: dict[str, Any], user: AbstractUser, teams: list[Team], manager: bool) -> QuerySet[Case]:
    cases = case_list(filters=filters, user=user)
    # A lead sees the teams they lead; a manager sees every team, including those made later.
    return cases if manager else cases.filter(team__in=teams)


def assignees(team: Team, owner: AbstractUser | None) -> list[AbstractUser]:
    """Who a case of ``team`` can be given to: its members, its lead, and whoever owns it now.

    Needs the team's members prefetched and its lead loaded (``team_list`` does both).
    """
    people = {member.pk: member for member in team.members.all()}
    for person in (team.lead, owner):
        if person is not None:
            people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda person: person.get_username())
