"""The outbox of emails to staff: each message is a row first, delivered afterwards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    """An email to an agent or lead, recorded before it is sent and rendered when it is.

    ``dedupe_key`` makes "notify once" a database fact: a sweep that runs twice, or two sweeps
    at once, cannot queue the same breach alert twice.
    """

    class Kind(models.TextChoices):
        CASE_ASSIGNED = "case_assigned"
        HOT_CASE = "hot_case"
        BREACHED = "breached"
        ESCALATED = "escalated"
        DIGEST = "digest"
        MANAGER_DIGEST = "manager_digest"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        # Not sent: the recipient turned this kind of email off, or left, after it was queued.
        SUPPRESSED = "suppressed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    email = models.EmailField()
    case = models.ForeignKey("followups.Case", null=True, blank=True, on_delete=models.CASCADE)
    # What the template needs beyond the case and recipient (the missed deadline, the day).
    context = models.JSONField(default=dict, blank=True)
    # Rendered when sent, not when queued: a sweep that queues thousands stays quick, and the
    # email shows the case as it is when it goes out. Kept as the record of what was sent.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    suppressed_reason = models.CharField(max_length=40, blank=True)
    # While a delivery run sends the row, the end of its claim's lease: a row a dead run had
    # claimed is due again then (followups.services.outbox.Lease).
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The delivery task claims pending rows whose attempt time has come, in this order.
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="notification_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.email} ({self.status})"
