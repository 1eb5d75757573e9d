"""Writing to the customer from a case: the templates managers maintain, and the outbox of sent messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from followups.models.cases import Case
from surveys.models import Customer


class CustomerMessageTemplate(models.Model):
    """A message agents start from. ``subject`` and ``body`` may hold the placeholders
    {customer_name}, {case_number} and {survey}, filled in by plain substitution (never rendered
    as a Django template: managers' text is not code)."""

    name = models.CharField(max_length=100, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseMessage(models.Model):
    """One email an agent wrote to the case's customer: the outbox row, kept as the record of what was sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="case_messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reply_to = models.EmailField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    suppressed_reason = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When the row is next due; while a delivery run sends it, the end of its claim's lease.
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="suppressed", suppressed_reason__gt="")
                | (~Q(status="suppressed") & Q(suppressed_reason="")),
                name="suppressed_case_message_has_reason",
            ),
        ]
        indexes = [
            # The delivery task claims pending messages in this order.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="case_message_due_idx")
        ]

    def __str__(self) -> str:
        return f"message on case {self.case_id}"
