"""Teams and the agents in them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from closedloop.lib.exceptions import save_unique
from closedloop.lib.updates import model_update
from followups.models import Team

UserModel = get_user_model()


def _users_by_name(field: str, usernames: Iterable[str]) -> list[User]:
    usernames = list(dict.fromkeys(usernames))
    users = {u.username: u for u in UserModel.objects.filter(username__in=usernames, is_active=True)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise ValidationError({field: [f"No active user named {name!r}." for name in missing]})
    return [users[name] for name in usernames]


# The key of the PostgreSQL advisory lock that serialises changes of the default team.
DEFAULT_TEAM_LOCK = 0x7465616D  # "team"
CALENDAR_FIELDS = (
    "time_zone",
    "working_hours",
    "holiday_country",
    "holiday_subdivision",
    "extra_holidays",
    "day_off_labels",
)


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
    team = Team(slug=slug, **_settings(name=name, lead=lead, calendar=calendar))
    people = _users_by_name("members", members)
    # The flag is settled below, under the lock; the rest is checked before anything is written.
    team.full_clean(exclude=["is_default"])
    _lock_default_flag()
    has_default = Team.objects.filter(is_default=True).exists()
    if default and has_default:
        Team.objects.filter(is_default=True).update(is_default=False)
    team.is_default = default or not has_default
    save_unique(team)
    team.members.set(people)
    return team


@transaction.atomic
def team_update(
    *,
    team: Team,
    slug: str | None = None,
    name: str | None = None,
    members: Iterable[str] | None = None,
    lead: str | None = None,
    default: bool | None = None,
    **calendar: Any,
) -> Team:
    """Change a team; marking it default takes the flag from the previous default team.

    ``calendar`` changes parts of the business calendar (CALENDAR_FIELDS), checked as a whole.
    The slug stays (outside systems refer to it): another one than the team's is refused. ``lead``
    "" removes the lead; None, like every other argument left out, changes nothing.
    """
    if slug is not None and slug != team.slug:
        raise ValidationError({"slug": ["A team's slug cannot change."]})
    if default is False and team.is_default:
        raise ValidationError({"default": ["Mark another team as default instead."]})
    changes = _settings(name=name, lead=lead, calendar=calendar)
    people = _users_by_name("members", members) if members is not None else None
    model_update(team, changes)
    if default and not team.is_default:
        _lock_default_flag()
        Team.objects.filter(is_default=True).exclude(pk=team.pk).update(is_default=False)
        model_update(team, {"is_default": True})
    if people is not None:
        team.members.set(people)
    return team


def _lock_default_flag() -> None:
    """Hold, until the transaction ends, the lock every change of the default team takes first.

    Locking the default row is not enough: there is none before the first team, and a second
    request waiting on it reads, once it is released, that no team is default any more. Every
    statement after this lock sees what the previous holder committed. SQLite runs one write
    transaction at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DEFAULT_TEAM_LOCK])


def _settings(*, name: str | None, lead: str | None, calendar: dict[str, Any]) -> dict[str, Any]:
    """The team fields the arguments set, as model values: checked, nothing changed yet."""
    unknown = set(calendar) - set(CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"not team calendar settings: {sorted(unknown)}")
    # Dates are stored as ISO strings in JSON.
    values = dict(calendar)
    if "extra_holidays" in values:
        values["extra_holidays"] = [str(day) for day in values["extra_holidays"]]
    if "day_off_labels" in values:
        values["day_off_labels"] = {str(day): label for day, label in values["day_off_labels"].items() if label}
    if name is not None:
        values["name"] = name
    if lead is not None:
        values["lead"] = _users_by_name("lead", [lead])[0] if lead else None
    return values
