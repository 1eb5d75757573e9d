"""Template context for the site's navigation: which entries the signed-in user may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from closedloop.lib.roles import AGENT, MANAGER, user_roles
from followups.permissions import can_see_team_queue


def navigation(request: HttpRequest) -> dict[str, Any]:
    roles = user_roles(request.user)
    is_manager = MANAGER in roles
    return {
        "is_manager": is_manager,
        "is_agent": AGENT in roles or is_manager,
        # A lazy value, so pages that never show the navigation run no query for it.
        "is_lead": SimpleLazyObject(lambda: can_see_team_queue(request.user)),
    }
