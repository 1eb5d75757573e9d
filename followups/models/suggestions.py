"""The suggestion classifier as trained, and what people decided about each suggestion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from followups.models.coding import RootCause
from surveys.models import Response


class SuggestionModel(models.Model):
    """One trained text classifier, stored so that every web and task process uses the same one.

    The newest version is the one in use; older ones stay as the record of what suggested what
    (a decision names the version). ``pipeline`` is the pickled scikit-learn pipeline this
    product trained itself (``followups.learning``): never load one from elsewhere.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    # Coded comments the stored model learned from, and the causes it knows (the others are
    # left to keywords, having too few examples).
    training_size = models.PositiveIntegerField()
    causes = models.JSONField(default=list)
    pipeline = models.BinaryField()
    # Held-out evaluation: {"held_out": n, "causes": {slug: {"support", "classifier": {...}, "keywords": {...}}}, ...}
    metrics = models.JSONField(default=dict)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"suggestion model v{self.version}"


class SuggestionDecision(models.Model):
    """A person accepted or rejected a suggested root cause for a response.

    Accepting also codes the response (source ``suggestion``); a rejected suggestion is not
    offered again for that response. One decision per response and root cause.
    """

    class Source(models.TextChoices):
        KEYWORD = "keyword", "Keyword"
        CLASSIFIER = "classifier", "Classifier"

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="suggestion_decisions")
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="suggestion_decisions")
    source = models.CharField(max_length=20, choices=Source.choices)
    # The classifier's version when it suggested (or was consulted alongside the keywords).
    model_version = models.PositiveIntegerField(null=True, blank=True)
    accepted = models.BooleanField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["response", "root_cause"], name="suggestion_decided_once"),
        ]

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else "rejected"
        return f"{self.response_id} -> {self.root_cause_id} {verdict}"
