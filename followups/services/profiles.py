"""What agents set about themselves: away from routing, and which emails they receive."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction

from followups.models import AgentProfile


@transaction.atomic
def agent_profile_update(
    *, user: AbstractUser, is_away: bool, assignment_emails: bool, digest_emails: bool
) -> AgentProfile:
    """Save the agent's settings, creating their profile on first use.

    Away agents are skipped by routing from the next opened case on; their open cases stay theirs.
    """
    # Locked so two saves at once (two tabs) cannot both create the profile or interleave fields.
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    profile.is_away = is_away
    profile.assignment_emails = assignment_emails
    profile.digest_emails = digest_emails
    profile.full_clean()
    profile.save()
    return profile
