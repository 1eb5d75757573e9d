"""The queues: an agent's own open cases, their resolved and closed ones, and the open cases of the
teams a lead or manager runs, with the lead's bulk assignment.

Every filter, the search and the order are GET parameters, so a queue as it is shown is a link to
bookmark. The pages render in a fixed number of queries whatever the number of cases: one page
of rows from the selector (with its prefetches), one COUNT for the pager and one aggregate for
the counts (of the cases the filters chose, as the table lists them), plus, on the team queue,
one per team on the page for who may own its cases.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from followups.forms import BulkActionForm, DoneFilterForm, QueueFilterForm, TeamQueueFilterForm
from followups.models import Case, Team
from followups.permissions import can_see_team_queue, case_owners, queue_teams
from followups.selectors import case_counts, case_list, case_search, case_sorted, team_list
from followups.services.cases import case_assign, case_prioritize
from followups.views.access import agent_page
from followups.workflow import CaseStatus

PER_PAGE = 50
OPEN = {"open": "true"}
DONE = {"status": f"{CaseStatus.RESOLVED},{CaseStatus.CLOSED}"}


def _queue_cases(cases: QuerySet[Case], form: QueueFilterForm, now: datetime) -> QuerySet[Case]:
    """``cases`` narrowed by the form's search and "at risk" choice, in the order it asks for."""
    cases = case_search(cases, form.chosen("q"))
    if form.chosen("at_risk"):
        cases = cases.filter(Q(at_risk_from__lte=now, next_due__gt=now))
    return case_sorted(cases, form.chosen("sort"))


def _page_context(request: SignedInRequest, form: QueueFilterForm, cases: QuerySet[Case], now: datetime) -> dict:
    return {
        "form": form,
        "page": Paginator(cases, PER_PAGE).get_page(request.GET.get("page")),
        "now": now,
        "sort": form.chosen("sort"),
    }


@agent_page
def my_queue(request: SignedInRequest) -> HttpResponse:
    now = timezone.now()
    form = QueueFilterForm(request.GET or None)
    cases = _queue_cases(case_list(filters={"owner": "me", **OPEN, **form.filters()}, user=request.user), form, now)
    context = {**_page_context(request, form, cases, now), "counts": case_counts(cases=cases, now=now)}
    return render(request, "followups/queue.html", context)


@agent_page
def my_done_cases(request: SignedInRequest) -> HttpResponse:
    """The agent's resolved and closed cases, the latest first unless sorted otherwise."""
    now = timezone.now()
    form = DoneFilterForm(request.GET or None)
    cases = case_list(filters={"owner": "me", **DONE, **form.filters()}, user=request.user)
    if not form.chosen("sort"):
        cases = cases.order_by("-created_at", "-pk")
    cases = _queue_cases(cases, form, now)
    statuses = cases.aggregate(
        total=Count("pk"),
        resolved=Count("pk", filter=Q(status=CaseStatus.RESOLVED)),
        closed=Count("pk", filter=Q(status=CaseStatus.CLOSED)),
    )
    context = {**_page_context(request, form, cases, now), "statuses": statuses}
    return render(request, "followups/queue_done.html", context)


def _team_cases(request: SignedInRequest, teams: list[Team], form: QueueFilterForm, now: datetime) -> QuerySet[Case]:
    cases = case_list(filters={**OPEN, **form.filters()}, user=request.user).filter(team__in=teams)
    return _queue_cases(cases, form, now)


@agent_page
def team_queue(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if not can_see_team_queue(user):
        raise PermissionDenied
    teams = list(queue_teams(user, team_list()))
    now = timezone.now()
    form = TeamQueueFilterForm(request.GET or None, teams=teams)
    cases = _team_cases(request, teams, form, now)
    context = {**_page_context(request, form, cases, now), "counts": case_counts(cases=cases, now=now)}
    owners: dict[int, list[User]] = {}
    for case in context["page"]:
        if case.team_id not in owners:
            owners[case.team_id] = list(case_owners(case.team))
        case.assignees = assignees(owners[case.team_id], case.owner)  # for its row
    context.update(
        teams=teams,
        next_url=request.get_full_path(),
        bulk_owners=sorted({p.pk: p for team in owners.values() for p in team}.values(), key=User.get_username),
    )
    return render(request, "followups/team_queue.html", context)


@require_POST
@agent_page
def team_queue_bulk(request: SignedInRequest) -> HttpResponse:
    """Give every ticked case of the team queue to one owner, each through ``case_assign``.

    Each case is assigned on its own (a case another lead just closed, or whose team the owner
    is not in, is refused alone) and the page says which were changed and which were refused.
    """
    user = request.user
    if not can_see_team_queue(user):
        raise PermissionDenied
    teams = list(queue_teams(user, team_list()))
    ticked = [int(pk) for pk in request.POST.getlist("cases") if pk.isdigit() and len(pk) < 10]
    cases = list(case_list(filters=OPEN, user=user).filter(team__in=teams, pk__in=ticked))
    owners = {p.pk: p for team in {case.team for case in cases} for p in case_owners(team)}
    visible = {case.pk for case in cases}
    data = request.POST.copy()
    data.setlist("cases", [str(pk) for pk in ticked if pk in visible])
    form = BulkActionForm(data, case_ids=sorted(visible), owners=list(owners.values()))
    next_url = _back(request)
    if not form.is_valid():
        problems = " ".join(str(message) for errors in form.errors.values() for message in errors)
        messages.error(request, f"Nothing was changed: {problems}")
        return redirect(next_url)
    chosen, priority = form.cleaned_data["owner"], form.cleaned_data["priority"]
    owner = None if chosen in ("", "none") else owners[int(chosen)]
    changed: list[int] = []
    refused = [f"case {pk} (not an open case of your teams)" for pk in ticked if pk not in visible]
    for case in cases:
        try:
            # One case at a time, both changes or neither: a refusal leaves that case as it was.
            with transaction.atomic():
                if chosen:
                    case = case_assign(case=case, owner=owner, actor=user)
                if priority:
                    case_prioritize(case=case, priority=priority, actor=user)
            changed.append(case.pk)
        except (ApplicationError, PermissionDenied) as error:
            refused.append(f"case {case.pk} ({getattr(error, 'message', 'not allowed')})")
    done = [f"assigned to {owner.get_username() if owner else 'nobody'}"] if chosen else []
    done += [f"priority {priority}"] if priority else []
    if changed:
        said = " and ".join(done)
        messages.success(request, f"{said[:1].upper()}{said[1:]}: {', '.join(f'case {pk}' for pk in changed)}.")
    if refused:
        messages.error(request, f"Not changed: {'; '.join(refused)}.")
    return redirect(next_url)


def _back(request: SignedInRequest) -> str:
    """The team queue the bulk form came from (with its filters), if it is one of ours."""
    url = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else reverse("team-queue")


def assignees(owners: list[User], owner: User | None) -> list[User]:
    """The choice of owners a case offers: who may own it (``case_owners``), and whoever owns it now.

    The current owner is listed even when they may no longer own the team's cases, so that the
    choice shows who has the case; choosing them again changes nothing.
    """
    if owner is None or any(person.pk == owner.pk for person in owners):
        return owners
    return sorted([*owners, owner], key=lambda person: person.get_username())
