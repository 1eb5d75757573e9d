"""Pages of the inner loop for agents, team leads and managers (server-rendered, htmx-enhanced)."""

from __future__ import annotations

from followups.views.cases import (
    case_assign_view,
    case_contact_view,
    case_note_view,
    case_page,
    case_root_causes_view,
    case_transition_view,
)
from followups.views.profiles import agent_settings
from followups.views.queues import my_queue, team_queue

__all__ = [
    "agent_settings",
    "case_assign_view",
    "case_contact_view",
    "case_note_view",
    "case_page",
    "case_root_causes_view",
    "case_transition_view",
    "my_queue",
    "team_queue",
]
