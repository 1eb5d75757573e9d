"""The manager's team pages: list the teams, create one, change its people and working calendar.

The calendar is three forms on one page (the team, its week, its own days off) saved by one
service call, so a refusal stores nothing and shows every error where it belongs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from followups.models import Team
from followups.models.teams import default_working_hours
from followups.services.teams import team_create, team_update
from followups.team_forms import DaysOffFormSet, TeamForm, WeekFormSet
from followups.views.access import manager_page
from followups.weekly_hours import day_rows, working_hours

# Where a service's calendar error is shown: the week, unless it names another field.
_FORM_FIELDS = frozenset({"name", "slug", "members", "lead", "time_zone", "holiday_country", "default"})


def _teams() -> Any:
    return Team.objects.select_related("lead").annotate(member_count=Count("members")).order_by("name")


@manager_page
def team_settings_list(request: HttpRequest) -> HttpResponse:
    return render(request, "followups/manage/teams.html", {"teams": _teams()})


@manager_page
def team_settings_create(request: HttpRequest) -> HttpResponse:
    return _team_page(request, None)


@manager_page
def team_settings_edit(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team.objects.prefetch_related(Prefetch("members")), slug=slug)
    return _team_page(request, team)


def _team_page(request: HttpRequest, team: Team | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    forms = _forms(data, team)
    if data is not None and all(form.is_valid() for form in forms.values()) and (saved := _saved(forms, team)):
        messages.success(request, f"Team {saved.name} is saved.")
        return redirect("team-settings-list")
    return render(request, "followups/manage/team_form.html", {**forms, "team": team})


def _forms(data: Any, team: Team | None) -> dict[str, Any]:
    if team is None:
        initial, hours, days_off = {}, default_working_hours(), []
    else:
        initial = {
            "name": team.name,
            "slug": team.slug,
            "members": list(team.members.all()),
            "lead": team.lead_id,
            "time_zone": team.time_zone,
            "holiday_country": team.holiday_country,
            "default": team.is_default,
        }
        hours = team.working_hours
        labels = team.day_off_labels or {}
        days_off = [
            {"day": date.fromisoformat(day), "label": labels.get(day, "")} for day in sorted(team.extra_holidays)
        ]
    return {
        "form": TeamForm(data, initial=initial, editing=team is not None),
        "week": WeekFormSet(data, initial=day_rows(hours), prefix="hours"),
        "days_off": DaysOffFormSet(data, initial=days_off, prefix="days_off"),
    }


def _saved(forms: dict[str, Any], team: Team | None) -> Team | None:
    """Create or change the team from valid forms; None with the service's errors on the forms."""
    data = dict(forms["form"].cleaned_data)
    days_off = forms["days_off"].days_off()
    settings = {
        "name": data["name"],
        "members": [user.username for user in data["members"]],
        "lead": data["lead"].username if data["lead"] else "",
        "default": data["default"],
        "time_zone": data["time_zone"],
        "holiday_country": data["holiday_country"],
        "working_hours": working_hours(form.cleaned_data for form in forms["week"].forms),
        "extra_holidays": list(days_off),
        "day_off_labels": days_off,
    }
    try:
        if team is None:
            return team_create(slug=data["slug"], **{**settings, "lead": settings["lead"] or None})
        return team_update(team=team, **settings)
    except ValidationError as exc:
        _place_errors(forms, exc)
        return None


def _place_errors(forms: dict[str, Any], exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        if field in _FORM_FIELDS:
            forms["form"].add_error(field, errors)
        else:
            forms["form"].add_error(None, errors)
