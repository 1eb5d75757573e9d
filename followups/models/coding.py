"""The root-cause taxonomy and the codes it puts on responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from surveys.models import Response


class RootCause(models.Model):
    """A node of the fishbone-style taxonomy (people, process, technology, ...)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    # Words that suggest this root cause when they appear in a comment.
    keywords = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class ResponseRootCause(models.Model):
    """A response coded with a root cause; a case's root causes are its response's codes."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="root_cause_codes")
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="response_codes")
    coded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    coded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "root_cause"], name="response_root_cause_once"),
        ]
        indexes = [
            # Themes and ?root_cause= filters go from a root cause to its responses.
            models.Index(fields=["root_cause", "response"], name="root_cause_response_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id} -> {self.root_cause_id}"
