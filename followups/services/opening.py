"""Opening follow-up cases for newly ingested responses, a whole batch at a time.

Steps (a bounded number of queries per batch, whatever its size):
1. Load the batch's responses that have no case yet and need one (detractors; passives when
   the survey follows them up; not older than FOLLOWUP_MAX_AGE_DAYS).
2. Route each: the customer's account owner when configured and available, else the first
   matching routing rule, else the default team.
3. Lock the chosen teams' rows (in id order, so concurrent batches cannot deadlock) and read
   the members' open loads once; then choose owners so open work stays even.
4. Insert the cases, their history, the staff emails and the webhook events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from closedloop.lib.db import insert_rows
from closedloop.lib.roles import AGENT, MANAGER
from followups.models import Case, CaseEvent, RoutingRule, SlaPolicy, Team
from followups.models.rules import Priority
from followups.notifications import assignment_email, hot_case_email, wants_assignment_emails
from followups.payloads import case_payload
from followups.routing import LoadBalancer, ResponseFacts, first_matching_rule, is_hot
from followups.services.outbox import events_record, notifications_queue, webhook_events_queue, webhooks_subscribed
from followups.sla import choose_targets, deadlines, team_calendar
from followups.workflow import OPEN_STATUSES
from surveys.models import ContactPreference, Response
from surveys.nps import Category

UserModel = get_user_model()


@dataclass
class _Plan:
    response: Response
    team: Team
    owner_id: int | None
    priority: str


def cases_open_for_responses(*, response_ids: Sequence[int], now: datetime | None = None) -> list[Case]:
    """Open the cases the given responses need; responses that have one already are skipped."""
    now = now or timezone.now()
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _open(response_ids, now)
        except IntegrityError:
            # Another process opened a case for one of these responses first; the retry
            # finds it and skips that response.
            if attempt == 2:
                raise
    return []


def cases_open_missing(*, now: datetime | None = None) -> int:
    """Open the cases recent responses should have but lack (a failed listener, no team yet)."""
    now = now or timezone.now()
    ids = list(_needing_a_case(now).values_list("pk", flat=True)[:10_000])
    return len(cases_open_for_responses(response_ids=ids, now=now)) if ids else 0


def _needing_a_case(now: datetime):
    oldest = now - timedelta(days=settings.FOLLOWUP_MAX_AGE_DAYS)
    needs = Q(category=Category.DETRACTOR) | Q(category=Category.PASSIVE, survey__followup_passives=True)
    return Response.objects.filter(needs, case__isnull=True, submitted_at__gte=oldest)


def _open(response_ids: Sequence[int], now: datetime) -> list[Case]:
    teams = {team.pk: team for team in Team.objects.prefetch_related("members")}
    default_team = next((t for t in teams.values() if t.is_default), None) or min(
        teams.values(), key=lambda t: t.pk, default=None
    )
    if default_team is None:
        return []  # no team yet: the "responses without a case" sweep opens them later
    responses = _responses_needing_a_case(response_ids, now)
    if not responses:
        return []
    available = _available_agents(now)
    rules = list(RoutingRule.objects.filter(active=True).order_by("position", "id"))
    routed = [_route(response, rules, teams, default_team, available) for response in responses]
    locked = list(Team.objects.select_for_update().filter(pk__in={team.pk for team, _ in routed}).order_by("pk"))
    # Re-read under the lock: a concurrent batch may have opened some of these cases meanwhile.
    still_needed = set(
        Response.objects.filter(pk__in=[r.pk for r in responses], case__isnull=True).values_list("pk", flat=True)
    )
    balancer = LoadBalancer(loads=_open_loads([m.pk for t in locked for m in teams[t.pk].members.all()]))
    plans = []
    for response, (team, owner_id) in zip(responses, routed, strict=True):
        if response.pk not in still_needed:
            continue
        if owner_id is None:
            members = [m.pk for m in teams[team.pk].members.all() if m.pk in available]
            owner_id = balancer.choose(members)
        else:
            balancer.count(owner_id)
        plans.append(_Plan(response, team, owner_id, _priority(response)))
    return _insert(plans, now)


def _responses_needing_a_case(response_ids: Sequence[int], now: datetime) -> list[Response]:
    wanted = set(response_ids)
    if not wanted:
        return []
    # A batch's ids are a dense range: bounding by it and picking in Python avoids an IN list of
    # 10,000 parameters, and only the few responses that need a case are loaded.
    candidates = _needing_a_case(now).filter(pk__gte=min(wanted), pk__lte=max(wanted))
    return [r for r in candidates.select_related("survey", "customer").order_by("pk") if r.pk in wanted]


def _available_agents(now: datetime) -> dict[int, User]:
    """Active agents (and managers who work cases) who are not away, by id.

    Away with an "until" date means away through that day (in UTC): the next day they are back.
    """
    still_away = Q(agent_profile__away_until__isnull=True) | Q(
        agent_profile__away_until__gte=now.astimezone(UTC).date()
    )
    users = UserModel.objects.filter(is_active=True, groups__name__in=[AGENT, MANAGER]).exclude(
        Q(agent_profile__is_away=True) & still_away
    )
    return {user.pk: user for user in users.distinct()}


def _route(
    response: Response, rules: list[RoutingRule], teams: dict[int, Team], default_team: Team, available: dict
) -> tuple[Team, int | None]:
    customer = response.customer
    attributes = customer.attributes or {}
    owner_name = attributes.get(settings.ACCOUNT_OWNER_ATTRIBUTE) if settings.ACCOUNT_OWNER_ATTRIBUTE else None
    if owner_name:
        owner = next((u for u in available.values() if u.username == owner_name), None)
        if owner is not None:
            team = next((t for t in teams.values() if owner in t.members.all()), default_team)
            return team, owner.pk
    facts = ResponseFacts(response.survey_id, customer.account_id, attributes, response.score, response.comment)
    rule = first_matching_rule(rules, facts)
    if rule is None:
        return default_team, None
    owner_id = rule.owner_id if rule.owner_id in available else None
    return teams[rule.team_id], owner_id


def _priority(response: Response) -> str:
    if is_hot(response.score, response.comment, threshold=response.survey.hot_threshold, words=settings.HOT_KEYWORDS):
        return Priority.HOT
    return Priority.NORMAL


def _open_loads(member_ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    """Open cases and latest assignment per agent, in one aggregate query."""
    rows = (
        Case.objects.filter(owner_id__in=member_ids)
        .values("owner_id")
        .annotate(open=Count("pk", filter=Q(status__in=sorted(OPEN_STATUSES))), last=Max("assigned_at"))
    )
    return {row["owner_id"]: (row["open"], row["last"]) for row in rows}


def _insert(plans: list[_Plan], now: datetime) -> list[Case]:
    policies = list(SlaPolicy.objects.filter(active=True))
    cases = []
    # A batch opens its cases at one instant, so cases of one team under the same targets share
    # their deadlines: compute each combination once.
    due_by = {}
    for plan in plans:
        response = plan.response
        targets = choose_targets(
            policies, priority=plan.priority, survey_id=response.survey_id, attributes=response.customer.attributes
        )
        if (plan.team.pk, targets) not in due_by:
            due_by[plan.team.pk, targets] = deadlines(now, targets, team_calendar(plan.team))
        due = due_by[plan.team.pk, targets]
        # A customer who asked not to be contacted has no first contact to wait for: the case
        # counts down to its resolution from the start.
        waits_for_contact = response.contact_preference != ContactPreference.NO_CONTACT
        case = Case(
            response=response,
            team=plan.team,
            owner_id=plan.owner_id,
            priority=plan.priority,
            created_at=now,
            submitted_at=response.submitted_at,
            updated_at=now,
            assigned_at=now if plan.owner_id else None,
            first_contact_due=due.first_contact_due,
            resolution_due=due.resolution_due,
            next_due=due.first_contact_due if waits_for_contact else due.resolution_due,
            at_risk_from=due.first_contact_at_risk_from if waits_for_contact else due.resolution_at_risk_from,
            reassign_after=targets.reassign_after,
        )
        cases.append(case)
    insert_rows(Case, cases)
    _record_opening(cases, now)
    return cases


def _record_opening(cases: list[Case], now: datetime) -> None:
    user_ids = {c.owner_id for c in cases if c.owner_id} | {c.team.lead_id for c in cases if c.team.lead_id}
    users = UserModel.objects.select_related("agent_profile").in_bulk(user_ids)
    events, emails, webhooks = [], [], []
    created_hooks, assigned_hooks = webhooks_subscribed("case.created"), webhooks_subscribed("case.assigned")
    for case in cases:
        case.owner = users.get(case.owner_id)
        details = {"priority": case.priority, "team": case.team.slug}
        events.append(CaseEvent(case=case, at=now, kind=CaseEvent.Kind.CREATED, to_status=case.status, details=details))
        if created_hooks:
            webhooks.append(("case.created", case_payload(case)))
        if case.owner:
            details = {"owner": case.owner.username, "by": "routing"}
            events.append(CaseEvent(case=case, at=now, kind=CaseEvent.Kind.ASSIGNED, details=details))
            if assigned_hooks:
                webhooks.append(("case.assigned", case_payload(case)))
            if case.owner.email and wants_assignment_emails(case.owner):
                emails.append(assignment_email(case, case.owner, now))
        lead = users.get(case.team.lead_id)
        if case.priority == Priority.HOT and lead and lead.email:
            emails.append(hot_case_email(case, lead, now))
    events_record(events)
    notifications_queue(emails)
    if webhooks:
        webhook_events_queue(webhooks, now=now)
