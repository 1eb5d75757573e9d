"""Configuration that decides where a new case goes and how long it may take."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from surveys.models import Account, Survey


class Priority(models.TextChoices):
    HOT = "hot", "Hot"
    NORMAL = "normal", "Normal"


class RoutingRule(models.Model):
    """One ordered rule: when every condition it sets matches a response, its team takes the case.

    Empty conditions match everything; the first active rule (lowest position) that matches wins.
    """

    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.CASCADE)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE)
    attribute_name = models.CharField(max_length=64, blank=True, help_text="Customer segment attribute, e.g. region.")
    attribute_value = models.CharField(max_length=200, blank=True)
    score_min = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    score_max = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    keywords = models.JSONField(default=list, blank=True, help_text="Any of these words in the comment matches.")
    team = models.ForeignKey("followups.Team", on_delete=models.CASCADE, related_name="routing_rules")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score_min__isnull=True) | Q(score_max__isnull=True) | Q(score_min__lte=F("score_max")),
                name="routing_rule_score_range",
                violation_error_message="The lowest score must not be above the highest.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Business hours allowed for first contact and resolution, per priority.

    A policy may be limited to a survey and/or a customer segment; the most specific active
    policy wins. Without any policy the defaults of ``followups.sla.DEFAULT_TARGETS`` apply.
    """

    name = models.CharField(max_length=200)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.CASCADE)
    attribute_name = models.CharField(max_length=64, blank=True)
    attribute_value = models.CharField(max_length=200, blank=True)
    first_contact_hours = models.DecimalField(max_digits=6, decimal_places=2)
    resolution_hours = models.DecimalField(max_digits=6, decimal_places=2)
    # This many clock hours after a missed deadline the case moves to the team lead: escalation
    # does not wait for office hours (the sweep computes it in SQL, set-based).
    reassign_after_hours = models.DecimalField(max_digits=6, decimal_places=2, default=8)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_contact_hours__gt=0, resolution_hours__gt=0, reassign_after_hours__gte=0),
                name="sla_policy_positive_hours",
                violation_error_message="Hours to first contact and to resolve must be above 0, the delay 0 or more.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
