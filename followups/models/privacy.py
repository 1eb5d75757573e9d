"""The record of what was done with a customer's data at their request or by the retention rule."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from surveys.models import Customer


class CustomerPrivacyRecord(models.Model):
    """One export or erasure of a customer's data: who asked, when, and what it covered.

    It outlives the erasure it records, so it holds no personal data: the customer row it points
    to is anonymised, and the id the customer was known by is kept only as a SHA-256 digest, which
    answers "was this person erased, and when?" for someone who knows the id, and nothing else.
    """

    class Kind(models.TextChoices):
        EXPORT = "export", "Export (right of access)"
        ERASURE = "erasure", "Erasure"
        RETENTION = "retention", "Anonymised by the retention rule"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, related_name="privacy_records")
    external_id_sha256 = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()
    # What the request covered: how many responses, cases, updates... were exported or erased.
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} of customer {self.customer_id} at {self.at:%Y-%m-%d %H:%M}"
