"""Teams and the agents in them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction

from followups.models import Team

User = get_user_model()


def _users_by_name(field: str, usernames: Iterable[str]) -> list[AbstractUser]:
    usernames = list(dict.fromkeys(usernames))
    users = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise ValidationError({field: [f"No active user named {name!r}." for name in missing]})
    return [users[name] for name in usernames]


CALENDAR_FIELDS = ("time_zone", "working_hours", "holiday_country", "holiday_subdivision", "extra_holidays")


@transaction.atomic
def team_create(
    *,
    slug: str,
    name: str,
    members: Iterable[str] = (),
    lead: str | None = None,
    default: bool = False,
    **calendar: Any,
) -> Team:
    """Create a team. The first team becomes the default until another is marked default.

    ``calendar`` may set the business calendar (CALENDAR_FIELDS); unset parts keep the defaults.
    """
    team = Team(slug=slug, name=name)
    team.full_clean()
    # Lock the current default row so two first teams created at once cannot both be default.
    has_default = Team.objects.select_for_update().filter(is_default=True).exists()
    return team_update(team=team, members=members, lead=lead, default=default or not has_default, **calendar)


@transaction.atomic
def team_update(
    *,
    team: Team,
    name: str | None = None,
    members: Iterable[str] | None = None,
    lead: str | None = None,
    default: bool | None = None,
    **calendar: Any,
) -> Team:
    """Change a team; marking it default takes the flag from the previous default team.

    ``calendar`` changes parts of the business calendar (CALENDAR_FIELDS), checked as a whole.
    """
    unknown = set(calendar) - set(CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"not team calendar settings: {sorted(unknown)}")
    for field, value in calendar.items():
        # Dates are stored as ISO strings in JSON.
        setattr(team, field, [str(day) for day in value] if field == "extra_holidays" else value)
    if name is not None:
        team.name = name
    if lead is not None:
        team.lead = _users_by_name("lead", [lead])[0] if lead else None
    if default:
        Team.objects.filter(is_default=True).exclude(pk=team.pk).update(is_default=False)
        team.is_default = True
    elif default is False and team.is_default:
        raise ValidationError({"default": ["Mark another team as default instead."]})
    team.full_clean()
    team.save()
    if members is not None:
        team.members.set(_users_by_name("members", members))
    return team
