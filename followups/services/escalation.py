"""The overdue sweep: breaches recorded once, escalated in two levels, risk announced once.

Each step claims a batch of due rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` through a
partial index, marks them with one UPDATE and writes their events, emails and webhook events in
the same transaction. The mark is part of the claim's condition, so a row handled by one sweep
is never claimed again: two sweeps at once split the work, and a sweep run twice finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from closedloop.lib.roles import MANAGER
from followups.models import Case, CaseEvent, Team
from followups.models.cases import OPEN
from followups.notifications import breach_email, escalation_email
from followups.payloads import case_payload
from followups.services.opening import cases_open_missing
from followups.services.outbox import events_record, notifications_queue, webhook_events_queue, webhooks_subscribed
from followups.workflow import CaseStatus
from surveys.models import ContactPreference

UserModel = get_user_model()
BATCH = 2000
RUNNING = [CaseStatus.NEW, CaseStatus.CONTACTED, CaseStatus.IN_PROGRESS]


@dataclass
class SweepResult:
    first_contact_breaches: int = 0
    resolution_breaches: int = 0
    reassigned: int = 0
    at_risk: int = 0
    opened: int = 0  # missing cases opened first, by ``escalation_run``

    @property
    def total(self) -> int:
        return self.first_contact_breaches + self.resolution_breaches + self.reassigned + self.at_risk


def escalation_run(*, now: datetime | None = None) -> SweepResult:
    """Open the cases responses still lack, then sweep: what the schedule and ``run_escalations`` run."""
    now = now or timezone.now()
    opened = cases_open_missing(now=now)
    result = escalation_sweep(now=now)
    result.opened = opened
    return result


def escalation_sweep(*, now: datetime | None = None) -> SweepResult:
    """Run every step until nothing is due; safe to run any number of times, concurrently too."""
    now = now or timezone.now()
    result = SweepResult()
    result.first_contact_breaches = _drain(lambda: _breach_step("first_contact", now))
    result.resolution_breaches = _drain(lambda: _breach_step("resolution", now))
    result.reassigned = _drain(lambda: _reassign_step(now))
    result.at_risk = _drain(lambda: _at_risk_step(now))
    return result


def _drain(step: Callable[[], int]) -> int:
    total = 0
    while handled := step():
        total += handled
    return total


def _claim(queryset: QuerySet[Case]) -> list[int]:
    return list(queryset.select_for_update(skip_locked=True).order_by().values_list("pk", flat=True)[:BATCH])


def _loaded(ids: list[int], *, for_webhooks: bool) -> list[Case]:
    related = ["team__lead", "owner"]
    if for_webhooks:
        # Only webhook payloads describe the response and its customer; emails render later.
        related += ["response__survey", "response__customer"]
    return list(Case.objects.filter(pk__in=ids).select_related(*related))


def _breach_step(deadline: str, now: datetime) -> int:
    if deadline == "first_contact":
        # A customer who asked not to be contacted is never contacted late.
        due = (
            OPEN
            & Q(first_contacted_at__isnull=True, first_contact_breached_at__isnull=True, first_contact_due__lt=now)
            & ~Q(response__contact_preference=ContactPreference.NO_CONTACT)
        )
        due_field = "first_contact_due"
    else:
        due = Q(status__in=RUNNING, resolution_breached_at__isnull=True, resolution_due__lt=now)
        due_field = "resolution_due"
    with transaction.atomic():
        ids = _claim(Case.objects.filter(due))
        if not ids:
            return 0
        # At least level 1 after a breach; the delay before the lead takes over counts from
        # the deadline just missed.
        Case.objects.filter(pk__in=ids).update(
            **{f"{deadline}_breached_at": now},
            escalation_level=Greatest(F("escalation_level"), Value(1)),
            escalated_at=Coalesce(F("escalated_at"), Value(now)),
            reassign_at=F(due_field) + F("reassign_after"),
            updated_at=now,
        )
        for_webhooks = webhooks_subscribed("case.breached")
        cases = _loaded(ids, for_webhooks=for_webhooks)
        events, emails, hooks = [], [], []
        for case in cases:
            events.append(CaseEvent(case=case, at=now, kind=CaseEvent.Kind.BREACHED, details={"deadline": deadline}))
            for person in {person for person in (case.owner, case.team.lead) if person is not None}:
                if person.email:
                    emails.append(breach_email(case, person, deadline, now))
            if for_webhooks:
                hooks.append(("case.breached", {**case_payload(case), "deadline": deadline}))
        events_record(events)
        notifications_queue(emails)
        webhook_events_queue(hooks, now=now)
        return len(ids)


def _reassign_step(now: datetime) -> int:
    """Level 2: a case still overdue past its policy's delay moves to the team lead."""
    with transaction.atomic():
        # Only cases still overdue: one contacted after a first-contact breach stays with its owner.
        ids = _claim(Case.objects.filter(OPEN, escalation_level=1, reassign_at__lte=now, next_due__lte=now))
        if not ids:
            return 0
        before = dict(Case.objects.filter(pk__in=ids).values_list("pk", "owner__username"))
        managers = list(UserModel.objects.filter(is_active=True, groups__name=MANAGER).exclude(email=""))
        lead = Subquery(Team.objects.filter(pk=OuterRef("team_id")).values("lead_id")[:1])
        Case.objects.filter(pk__in=ids, team__lead__isnull=False).update(owner_id=lead, assigned_at=now)
        Case.objects.filter(pk__in=ids).update(escalation_level=2, escalated_at=now, updated_at=now)
        events, emails, hooks = [], [], []
        for_webhooks = webhooks_subscribed("case.escalated")
        for case in _loaded(ids, for_webhooks=for_webhooks):
            owner = case.owner.username if case.owner else None
            events.append(
                CaseEvent(
                    case=case,
                    at=now,
                    kind=CaseEvent.Kind.ESCALATED,
                    details={"level": 2, "from": before[case.pk], "to": owner},
                )
            )
            if before[case.pk] != owner:
                events.append(
                    CaseEvent(
                        case=case,
                        at=now,
                        kind=CaseEvent.Kind.ASSIGNED,
                        details={"from": before[case.pk], "to": owner, "by": "escalation"},
                    )
                )
            for person in _next_level_up(case, before[case.pk], managers):
                emails.append(escalation_email(case, person, now))
            if for_webhooks:
                hooks.append(("case.escalated", {**case_payload(case), "level": 2}))
        events_record(events)
        notifications_queue(emails)
        webhook_events_queue(hooks, now=now)
        return len(ids)


def _next_level_up(case: Case, previous_owner: str | None, managers: list) -> list:
    """The lead takes the case; when the lead already had it (or there is none), managers are told."""
    lead = case.team.lead
    if lead is not None and lead.username != previous_owner:
        return [lead] if lead.email else []
    return managers


def _at_risk_step(now: datetime) -> int:
    """Announce once per deadline that a case entered the last stretch before it."""
    with transaction.atomic():
        ids = _claim(
            Case.objects.filter(OPEN, at_risk_notified_at__isnull=True, at_risk_from__lte=now, next_due__gt=now)
        )
        if not ids:
            return 0
        Case.objects.filter(pk__in=ids).update(at_risk_notified_at=now)
        for_webhooks = webhooks_subscribed("case.at_risk")
        cases = _loaded(ids, for_webhooks=for_webhooks)
        events_record(
            [
                CaseEvent(
                    case=c, at=now, kind=CaseEvent.Kind.AT_RISK, details={"due": c.next_due and c.next_due.isoformat()}
                )
                for c in cases
            ]
        )
        if for_webhooks:
            webhook_events_queue([("case.at_risk", case_payload(c)) for c in cases], now=now)
        return len(ids)
