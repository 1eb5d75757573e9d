"""Wording of a case's deadlines and history for the agent pages.

Every state is written out in words ("overdue by 2 h") as well as coloured by the stylesheet,
so nobody has to tell states apart by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template
from django.utils.dateparse import parse_datetime

from followups.forms import CHANNEL_CHOICES, OUTCOME_CHOICES
from followups.models import Case
from followups.workflow import CaseStatus

register = template.Library()

DEADLINE_NAMES = {"first_contact": "First contact", "resolution": "Resolution"}


@dataclass(frozen=True)
class DeadlineState:
    """``key`` names the state for the stylesheet (overdue, at_risk, on_track, paused, none)."""

    key: str
    text: str


@register.filter
def duration(delta: timedelta) -> str:
    """A span of time as people say it in a queue: "45 min", "3 h", "4 d" (rounded down)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "less than 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


@register.simple_tag
def deadline_state(case: Case, now: datetime) -> DeadlineState:
    """Where the case stands against its next deadline at ``now``."""
    due = case.next_due
    if due is not None and case.is_overdue(now):
        return DeadlineState("overdue", f"overdue by {duration(now - due)}")
    if due is not None and case.is_at_risk(now):
        return DeadlineState("at_risk", f"at risk, {duration(due - now)} left")
    if case.is_open and due is not None:
        return DeadlineState("on_track", f"{duration(due - now)} left")
    if case.is_open:
        return DeadlineState("paused", "paused, waiting on the customer")
    return DeadlineState("none", "no open deadline")


@register.filter
def name_of(names: dict[str, str], key: object) -> object:
    """The display name of a slug or username from ``case_event_names``; the key itself when unknown."""
    return names.get(key, key) if isinstance(key, str) else key


@register.filter
def names_of(names: dict[str, str], keys: object) -> str:
    """``name_of`` each of a list of slugs, joined with commas."""
    return ", ".join(str(name_of(names, key)) for key in keys) if isinstance(keys, list) else ""


@register.filter
def status_label(value: str) -> str:
    """A status value as its display name ("in_progress" -> "In progress")."""
    try:
        return CaseStatus(value).label
    except ValueError:
        return value


@register.filter
def deadline_name(value: str) -> str:
    return DEADLINE_NAMES.get(value, value)


@register.filter
def iso_datetime(value: str) -> datetime | None:
    """A time stored as ISO 8601 text in an event's details, for the ``date`` filter."""
    try:
        return parse_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


@register.filter
def since(start: datetime, now: datetime) -> str:
    """How long ago ``start`` was at ``now`` ("3 h"): a case's age."""
    return duration(now - start)


@register.filter
def contact_channel(value: str) -> str:
    return dict(CHANNEL_CHOICES).get(value, value)


@register.filter
def contact_outcome(value: str) -> str:
    return dict(OUTCOME_CHOICES).get(value, value)
