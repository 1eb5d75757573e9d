"""What agents set about themselves: who they are, away from routing, and which emails they receive."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db import transaction

from closedloop.lib.updates import model_update
from followups.models import AgentProfile


@transaction.atomic
def agent_profile_update(
    *,
    user: User,
    is_away: bool,
    assignment_emails: bool,
    digest_emails: bool,
    away_until: date | None = None,
    manager_digest_emails: bool | None = None,
) -> AgentProfile:
    """Save the agent's settings, creating their profile on first use.

    Away agents are skipped by routing from the next opened case on, through ``away_until`` if
    given; their open cases stay theirs. A date without "away" means nothing and is not kept.
    ``manager_digest_emails`` None leaves the weekly digest setting as it is (agents are not shown it).
    """
    # Locked so two saves at once (two tabs) cannot both create the profile or interleave fields.
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    changes = {
        "is_away": is_away,
        "away_until": away_until if is_away else None,
        "assignment_emails": assignment_emails,
        "digest_emails": digest_emails,
    }
    if manager_digest_emails is not None:
        changes["manager_digest_emails"] = manager_digest_emails
    model_update(profile, changes)
    return profile


@transaction.atomic
def agent_details_update(*, user: User, first_name: str, last_name: str, email: str, time_zone: str) -> User:
    """Change the agent's name, email and time zone (empty: their team's)."""
    model_update(user, {"first_name": first_name, "last_name": last_name, "email": email})
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    model_update(profile, {"time_zone": time_zone})
    return user


@transaction.atomic
def manager_digest_stop(*, user: User) -> AgentProfile:
    """Turn the manager's weekly digest off (the link in the digest); their other emails stay as they are."""
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    model_update(profile, {"manager_digest_emails": False})
    return profile
