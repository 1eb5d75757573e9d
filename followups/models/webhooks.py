"""Outgoing event webhooks: subscriptions and every delivery with its outcome."""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from followups.webhooks import SECRET_PREFIX

SECRET_HINT_LENGTH = 4


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A URL a manager subscribed to lifecycle events (all events when ``events`` is empty)."""

    class Format(models.TextChoices):
        STANDARD = "standard", "JSON event (Standard Webhooks)"
        SLACK = "slack", "Slack-compatible message"

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    payload_format = models.CharField(max_length=10, choices=Format.choices, default=Format.STANDARD)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """The secret's last characters, enough to tell which one a receiver holds, never to sign."""
        return f"{SECRET_PREFIX}…{self.secret[-SECRET_HINT_LENGTH:]}"


class WebhookDelivery(models.Model):
    """One event for one endpoint: queued, attempted with backoff, and kept with its outcome."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=64, help_text="webhook-id header; the same on every retry.")
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # While a delivery run posts it, the end of its claim's lease (followups.services.outbox.Lease).
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(
        max_length=500, blank=True, help_text="Why the last attempt failed, in short; never the receiver's reply."
    )
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "message_id"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The delivery task claims pending deliveries whose attempt time has come, in this order.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="webhook_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"
