"""What agents set about themselves: away from routing, and which emails they receive."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from closedloop.lib.updates import model_update
from followups.models import AgentProfile


@transaction.atomic
def agent_profile_update(*, user: User, is_away: bool, assignment_emails: bool, digest_emails: bool) -> AgentProfile:
    """Save the agent's settings, creating their profile on first use.

    Away agents are skipped by routing from the next opened case on; their open cases stay theirs.
    """
    # Locked so two saves at once (two tabs) cannot both create the profile or interleave fields.
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    model_update(profile, {"is_away": is_away, "assignment_emails": assignment_emails, "digest_emails": digest_emails})
    return profile
