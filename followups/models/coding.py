"""The root-cause taxonomy, the codes it puts on responses, and the record of merges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from surveys.models import Response


class RootCause(models.Model):
    """A node of the fishbone-style taxonomy, two levels deep.

    A category (people, process, technology, ...) has no parent; a cause has a category as its
    parent and no children of its own (``followups.services.coding`` holds that rule). A retired
    node stays, with its codes: ``active`` False hides it from pickers, and ``merged_into`` names
    the node a merge moved its codes to.
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    # Words that suggest this root cause when they appear in a comment.
    keywords = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from", editable=False
    )

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=Q(merged_into__isnull=True) | Q(active=False), name="merged_is_inactive"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="root_cause_not_own_parent"),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="root_cause_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_category(self) -> bool:
        return self.parent_id is None


class ResponseRootCause(models.Model):
    """A response coded with a root cause; a case's root causes are its response's codes."""

    class Source(models.TextChoices):
        """Who put the code on: people working the case, the customer, a suggestion accepted as is,
        or the tags of the tool a response was imported from."""

        AGENT = "agent", "Agent"
        MANAGER = "manager", "Manager"
        CUSTOMER = "customer", "Customer"
        SUGGESTION = "suggestion", "Suggestion"
        IMPORT = "import", "Import"

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="root_cause_codes")
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="response_codes")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT)
    coded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    coded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "root_cause"], name="response_root_cause_once"),
        ]
        indexes = [
            # Themes and ?root_cause= filters go from a root cause to its responses; a merge moves them.
            models.Index(fields=["root_cause", "response"], name="root_cause_response_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id} -> {self.root_cause_id}"


class RootCauseMerge(models.Model):
    """One merge of a root cause into another: who, when, from, into, and what moved.

    Written by ``root_cause_merge`` in the transaction that moves the codes; never changed after.
    """

    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="merges_out")
    into = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="merges_in")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    merged_at = models.DateTimeField(default=timezone.now)
    # Codes re-pointed at ``into``, and codes dropped because the response already had ``into``.
    codes_moved = models.PositiveIntegerField(default=0)
    duplicates_collapsed = models.PositiveIntegerField(default=0)
    # A category's causes, moved under ``into``.
    causes_moved = models.PositiveIntegerField(default=0)
    # Improvement links re-pointed at ``into`` (one already linked to ``into`` is dropped instead).
    improvement_links_moved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.root_cause_id} -> {self.into_id}"
