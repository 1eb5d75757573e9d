"""The queues: an agent's own open cases, and the open cases of the teams a lead or manager runs.

Both pages render in a fixed number of queries whatever the number of cases: one page of rows
from the selector (with its prefetches), one COUNT for the pager and one aggregate for the counts
(of the cases the filters chose, as the table lists them), plus one per team on the page
for who may own its cases.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from closedloop.lib.requests import SignedInRequest
from followups.forms import QueueFilterForm, TeamQueueFilterForm
from followups.permissions import can_see_team_queue, case_owners, queue_teams
from followups.selectors import case_counts, case_list, team_list
from followups.views.access import agent_page

PER_PAGE = 50
OPEN = {"open": "true"}


@agent_page
def my_queue(request: SignedInRequest) -> HttpResponse:
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    cases = case_list(filters={"owner": "me", **OPEN, **form.filters()}, user=request.user)
    context = {
        "form": form,
        "page": Paginator(cases, PER_PAGE).get_page(request.GET.get("page")),
        "counts": case_counts(cases=cases, now=now),
        "now": now,
    }
    return render(request, "followups/queue.html", context)


@agent_page
def team_queue(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if not can_see_team_queue(user):
        raise PermissionDenied
    teams = list(queue_teams(user, team_list()))
    now = timezone.now()
    form = TeamQueueFilterForm(request.GET or None, teams=teams)
    cases = case_list(filters={**OPEN, **form.filters()}, user=user).filter(team__in=teams)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    owners: dict[int, list[User]] = {}
    for case in page:
        if case.team_id not in owners:
            owners[case.team_id] = list(case_owners(case.team))
        case.assignees = assignees(owners[case.team_id], case.owner)  # type: ignore[attr-defined]  # for its row
    context = {
        "form": form,
        "page": page,
        "counts": case_counts(cases=cases, now=now),
        "now": now,
        "teams": teams,
        "next_url": request.get_full_path(),
    }
    return render(request, "followups/team_queue.html", context)


def assignees(owners: list[User], owner: User | None) -> list[User]:
    """The choice of owners a case offers: who may own it (``case_owners``), and whoever owns it now.

    The current owner is listed even when they may no longer own the team's cases, so that the
    choice shows who has the case; choosing them again changes nothing.
    """
    if owner is None or any(person.pk == owner.pk for person in owners):
        return owners
    return sorted([*owners, owner], key=lambda person: person.get_username())
