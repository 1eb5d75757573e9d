"""Who may do what to a case: the role rules of API.md, in one place for the API, UI and admin.

Managers act on every case. Agents read cases and act on their own; the lead of a team also
acts on the team's cases and reassigns them; any agent may take an unowned case. Integration
accounts never see cases.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from closedloop.lib.roles import AGENT, MANAGER, user_roles
from followups.models import Case, Team

AnyUser = AbstractBaseUser | AnonymousUser


def can_read_cases(user: AnyUser) -> bool:
    return bool({AGENT, MANAGER} & user_roles(user))


def leads_team(user: AnyUser, case: Case) -> bool:
    return user.is_authenticated and case.team.lead_id == user.pk


def can_work_case(user: AnyUser, case: Case) -> bool:
    """Change status, add notes and contacts, code root causes."""
    roles = user_roles(user)
    if MANAGER in roles:
        return True
    return AGENT in roles and (case.owner_id == user.pk or leads_team(user, case))


def can_assign_case(user: AnyUser, case: Case, new_owner_id: int | None) -> bool:
    """Managers and the team's lead assign freely; an agent may take an unowned case for themselves."""
    roles = user_roles(user)
    if MANAGER in roles or (AGENT in roles and leads_team(user, case)):
        return True
    return AGENT in roles and case.owner_id is None and new_owner_id == user.pk


def can_see_team_queue(user: AnyUser) -> bool:
    """Managers see every team's queue; an agent sees the queues of the teams they lead."""
    roles = user_roles(user)
    if MANAGER in roles:
        return True
    return AGENT in roles and Team.objects.filter(lead=user.pk).exists()
