"""Teams of agents, their business calendars, and per-agent settings."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from followups.sla import team_calendar


def default_working_hours() -> dict[str, list[str]]:
    """Monday to Friday, nine to five, in the team's time zone."""
    weekdays = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    return {**weekdays, "sat": [], "sun": []}


class Team(models.Model):
    """A group of agents that owns follow-up cases. Exactly one team is the default.

    The calendar (time zone, weekly hours, public holidays of a country plus the team's own
    dates) turns SLA business hours into deadlines.
    """

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams_led"
    )
    is_default = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, default="UTC")
    working_hours = models.JSONField(
        default=default_working_hours, help_text='Per weekday, e.g. {"mon": ["09:00-12:30", "13:30-17:00"]}.'
    )
    holiday_country = models.CharField(max_length=2, blank=True, help_text="ISO country code for public holidays.")
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    extra_holidays = models.JSONField(default=list, blank=True, help_text="The team's own days off (YYYY-MM-DD).")
    # What each of extra_holidays is, for people only: the calendar reads the dates alone.
    day_off_labels = models.JSONField(
        default=dict, blank=True, help_text='Per day off, e.g. {"2026-12-24": "Office party"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="team_single_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse a calendar that deadlines could not be computed in (bad hours, zone or country)."""
        try:
            team_calendar(self)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError({"working_hours": [f"Not a usable business calendar: {exc}"]}) from exc


class AgentProfile(models.Model):
    """What an agent can set about themselves: away (not routed to), their time zone and which emails they get."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    is_away = models.BooleanField(default=False, help_text="Away agents get no new cases.")
    away_until = models.DateField(
        null=True, blank=True, help_text="The last day away; from the day after, routing gives them cases again."
    )
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the team's time zone.")
    assignment_emails = models.BooleanField(default=True, help_text="Email me when a case is assigned to me.")
    digest_emails = models.BooleanField(default=True, help_text="Send me a daily digest of my open cases.")
    # Read for managers only: the weekly digest goes to the manager role.
    manager_digest_emails = models.BooleanField(
        default=True, help_text="Send me the weekly digest of NPS, themes, overdue cases and improvements shipped."
    )

    def __str__(self) -> str:
        return f"profile of {self.user_id}"

    def clean(self) -> None:
        if self.time_zone and self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": [f"Unknown time zone {self.time_zone!r}."]})
