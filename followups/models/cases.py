"""Follow-up cases, their history and pauses, and the managed list of resolution codes."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from followups.models.rules import Priority
from followups.sla import DeadlineOutcome, deadline_outcome
from followups.workflow import OPEN_STATUSES, CaseStatus, allowed_next_statuses
from surveys.models import Response

OPEN = Q(status__in=sorted(OPEN_STATUSES))


class ResolutionCode(models.Model):
    """How a case was resolved (fixed, explained, refunded, ...): a list managers maintain."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """The follow-up of one response (a detractor, or a passive when the survey asks for it).

    Deadlines are real columns set by the services when the case opens, changes status or
    resumes from a pause, so the queue and the escalation sweep are plain indexed range scans.
    ``next_due`` is the deadline that matters now: first contact until the customer has been
    contacted, then resolution; empty while the case waits on the customer or is not open.
    """

    response = models.OneToOneField(Response, on_delete=models.PROTECT, related_name="case")
    team = models.ForeignKey("followups.Team", on_delete=models.PROTECT, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    created_at = models.DateTimeField()
    # The response's submission, copied when the case opens (it never changes): the dashboard
    # counts the cases of a period's responses without joining millions of them.
    submitted_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_contact_due = models.DateTimeField()
    resolution_due = models.DateTimeField()
    next_due = models.DateTimeField(null=True, blank=True)
    at_risk_from = models.DateTimeField(null=True, blank=True)
    at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=500, blank=True)
    resolution_code = models.ForeignKey(ResolutionCode, null=True, blank=True, on_delete=models.PROTECT)
    paused_at = models.DateTimeField(null=True, blank=True, help_text="Waiting on the customer since.")
    first_contact_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # When a breached case moves up to the team lead (level 2); set when the breach is recorded.
    reassign_at = models.DateTimeField(null=True, blank=True)
    reassign_after = models.DurationField(help_text="Time after a breach before the case moves to the lead.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(resolution_due__gte=models.F("first_contact_due")), name="case_resolution_after_contact"
            ),
        ]
        indexes = [
            # "My queue" and GET /api/v1/cases/?owner=me&open=true: an agent's open cases by deadline.
            models.Index(fields=["owner", "next_due"], condition=OPEN, name="case_owner_queue_idx"),
            # The team queue and ?team=: a team's open cases by deadline.
            models.Index(fields=["team", "next_due"], condition=OPEN, name="case_team_queue_idx"),
            # Escalation sweep, first-contact breaches: only cases not yet contacted nor breached.
            models.Index(
                fields=["first_contact_due"],
                condition=OPEN & Q(first_contacted_at__isnull=True, first_contact_breached_at__isnull=True),
                name="case_contact_breach_sweep_idx",
            ),
            # Escalation sweep, resolution breaches: running (not paused) cases not yet breached.
            models.Index(
                fields=["resolution_due"],
                condition=Q(
                    status__in=[CaseStatus.NEW, CaseStatus.CONTACTED, CaseStatus.IN_PROGRESS],
                    resolution_breached_at__isnull=True,
                ),
                name="case_resolve_breach_sweep_idx",
            ),
            # Escalation sweep, level 2: breached cases waiting to move to the lead.
            models.Index(
                fields=["reassign_at"], condition=OPEN & Q(escalation_level=1), name="case_reassign_sweep_idx"
            ),
            # At-risk sweep: open cases whose risk window has not been announced yet.
            models.Index(
                fields=["at_risk_from"],
                condition=OPEN & Q(at_risk_notified_at__isnull=True),
                name="case_at_risk_sweep_idx",
            ),
            # Reporting by creation time (SLA compliance per period).
            models.Index(fields=["created_at"], name="case_created_idx"),
            # The dashboard's inner loop: the cases of the responses submitted in its window.
            models.Index(fields=["submitted_at"], name="case_submitted_idx"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def breached(self) -> list[str]:
        """Names of the deadlines this case has breached (recorded by the sweep or by the services)."""
        return breached_deadlines(self.first_contact_breached_at, self.resolution_breached_at)

    def is_overdue(self, now: datetime) -> bool:
        return is_overdue(self.status, self.next_due, now)

    def is_at_risk(self, now: datetime) -> bool:
        return is_at_risk(self.status, self.next_due, self.at_risk_from, now)

    def allowed_next_statuses(self) -> list[CaseStatus]:
        """The statuses the workflow table lets this case move to, in the workflow's order."""
        return allowed_next_statuses(self.status)

    def first_contact_outcome(self) -> DeadlineOutcome:
        return self._outcome(self.first_contacted_at, self.first_contact_breached_at)

    def resolution_outcome(self) -> DeadlineOutcome:
        return self._outcome(self.resolved_at, self.resolution_breached_at)

    def _outcome(self, done_at: datetime | None, breached_at: datetime | None) -> DeadlineOutcome:
        return deadline_outcome(
            done_at=done_at, breached_at=breached_at, is_open=self.is_open, paused=self.paused_at is not None
        )


# The same rules on plain values, for lists read without model instances.
def breached_deadlines(
    first_contact_breached_at: datetime | None, resolution_breached_at: datetime | None
) -> list[str]:
    names = []
    if first_contact_breached_at:
        names.append("first_contact")
    if resolution_breached_at:
        names.append("resolution")
    return names


def is_overdue(status: str, next_due: datetime | None, now: datetime) -> bool:
    return next_due is not None and status in OPEN_STATUSES and next_due <= now


def is_at_risk(status: str, next_due: datetime | None, at_risk_from: datetime | None, now: datetime) -> bool:
    """Near its next deadline but not past it."""
    return (
        status in OPEN_STATUSES and next_due is not None and at_risk_from is not None and at_risk_from <= now < next_due
    )


class CaseEvent(models.Model):
    """One entry of a case's history, written in the same transaction as the change it records."""

    class Kind(models.TextChoices):
        CREATED = "created"
        ASSIGNED = "assigned"
        PRIORITY_CHANGED = "priority_changed"
        STATUS_CHANGED = "status_changed"
        NOTE = "note"
        CONTACT_LOGGED = "contact_logged"
        ROOT_CAUSES_CHANGED = "root_causes_changed"
        RESOLUTION_CODE_SET = "resolution_code_set"
        AT_RISK = "at_risk"
        BREACHED = "breached"
        ESCALATED = "escalated"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # A case's timeline, oldest first.
            models.Index(fields=["case", "at"], name="case_event_timeline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class CasePause(models.Model):
    """A stretch during which the case waited on the customer and its resolution clock stopped."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    business_time = models.DurationField(null=True, blank=True, help_text="Working time the pause added.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(ended_at__isnull=True), name="case_one_open_pause"),
        ]

    def __str__(self) -> str:
        return f"pause of case {self.case_id}"
