"""Who may do what to a case: the role rules of API.md, in one place for the API, UI and admin.

Managers act on every case. Agents read cases and act on their own; the lead of a team also
acts on the team's cases and reassigns them; an agent of its team may take an unowned case.
Integration accounts never see cases. A case's owner is an active agent or manager of its team.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from closedloop.lib.roles import AGENT, MANAGER, user_roles
from followups.models import Case, Team

AnyUser = User | AnonymousUser
UserModel = get_user_model()


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


def can_prioritize_case(user: AnyUser, case: Case) -> bool:
    """Managers and the team's lead decide which cases are hot."""
    roles = user_roles(user)
    return MANAGER in roles or (AGENT in roles and leads_team(user, case))


def queue_teams(user: AnyUser, teams: QuerySet[Team]) -> QuerySet[Team]:
    """The teams among ``teams`` whose queue ``user`` sees: all for a manager, those an agent leads."""
    roles = user_roles(user)
    if MANAGER in roles:
        return teams
    return teams.filter(lead=user.pk) if AGENT in roles else teams.none()


def can_see_team_queue(user: AnyUser) -> bool:
    """Managers see every team's queue (even before there is a team); an agent, those of the teams they lead."""
    return MANAGER in user_roles(user) or queue_teams(user, Team.objects.all()).exists()


def case_owners(team: Team) -> QuerySet[User]:
    """Who may own the cases of ``team``: its members and its lead, active and agents or managers.

    The one rule of ownership: ``case_assign`` refuses anyone else and the pages offer only these.
    A superuser counts as a manager, as everywhere (``user_roles``).
    """
    in_team = Q(teams=team) | Q(teams_led=team)
    has_role = Q(groups__name__in=[AGENT, MANAGER]) | Q(is_superuser=True)
    return UserModel.objects.filter(in_team, has_role, is_active=True).distinct().order_by("username")


def may_own_case(user: AnyUser, case: Case) -> bool:
    return user.is_authenticated and case_owners(case.team).filter(pk=user.pk).exists()


def improvement_owners() -> QuerySet[User]:
    """Who may own an improvement: active staff, agents and managers (a superuser counts as a manager)."""
    has_role = Q(groups__name__in=[AGENT, MANAGER]) | Q(is_superuser=True)
    return UserModel.objects.filter(has_role, is_active=True).distinct().order_by("username")


def may_own_improvement(user: AnyUser) -> bool:
    return user.is_authenticated and improvement_owners().filter(pk=user.pk).exists()
