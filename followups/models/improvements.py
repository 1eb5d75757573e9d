"""Improvements that remove a root cause, and the "you said, we did" updates they send."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from followups.improvement_status import ImprovementStatus
from followups.models.coding import RootCause
from surveys.models import Customer, Response


class Improvement(models.Model):
    """An owned initiative against one or more root causes; shipping it tells every customer who raised them."""

    Status = ImprovementStatus

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="improvements"
    )
    root_causes = models.ManyToManyField(RootCause, through="ImprovementRootCause", related_name="improvements")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    target_date = models.DateField(null=True, blank=True)
    # What the update email says was done, in the customer's terms.
    customer_message = models.TextField(blank=True)
    # A manager's own priority in place of the computed one, and why.
    priority_override = models.FloatField(null=True, blank=True)
    priority_override_reason = models.CharField(max_length=500, blank=True)
    # Shipping reaches customers whose coded response is at most this old.
    lookback_days = models.PositiveIntegerField(default=365)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    # "Did it work": the customers its update reached are asked again this many days after
    # shipping (empty: never); checkins_sent_at records that they were, so it happens once.
    checkin_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    checkins_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority_override__isnull=True) | ~Q(priority_override_reason=""),
                name="priority_override_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(shipped_at__isnull=True) | Q(status="shipped"), name="shipped_at_only_when_shipped"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ImprovementRootCause(models.Model):
    """An improvement's link to a root cause; a merge moves it to the survivor."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="root_cause_links")
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="improvement_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["improvement", "root_cause"], name="improvement_root_cause_once"),
        ]

    def __str__(self) -> str:
        return f"{self.improvement_id} -> {self.root_cause_id}"


class ImprovementStatusChange(models.Model):
    """One step of an improvement's status history: who moved it, when, from and to; never changed after."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="status_changes")
    # Empty for the creation of the improvement.
    from_status = models.CharField(max_length=20, choices=Improvement.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Improvement.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.improvement_id}: {self.from_status or '-'} -> {self.to_status}"


class CustomerUpdate(models.Model):
    """One "you said, we did" email to one customer about one improvement: the customer outbox row.

    Recorded set-based when the improvement ships (one per customer, whatever the number of its
    causes they raised), rendered and sent by the delivery task, and kept as the record of what
    was sent. ``response`` is what the customer said that the email quotes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    class SuppressedReason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed from updates"
        NO_ADDRESS = "no_address", "No email address"
        ERASED = "erased", "Erased"

    # Without an index of their own: customer_update_once and customer_update_customer_idx begin
    # with them, and every index is written again when a sent update is marked.
    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="updates", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="updates", db_index=False)
    response = models.ForeignKey(Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    suppressed_reason = models.CharField(max_length=20, choices=SuppressedReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When the row is next due; while a delivery run sends it, the end of its claim's lease.
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["improvement", "customer"], name="customer_update_once"),
            models.CheckConstraint(
                condition=Q(status="suppressed", suppressed_reason__gt="")
                | (~Q(status="suppressed") & Q(suppressed_reason="")),
                name="suppressed_update_has_reason",
            ),
        ]
        indexes = [
            # The claim's order, so that taking a batch reads only that batch even when a whole fan-out
            # shares one attempt time.
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="customer_update_pending_idx"
            ),
            models.Index(fields=["customer", "-created_at"], name="customer_update_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.improvement_id} to {self.customer_id} ({self.status})"
