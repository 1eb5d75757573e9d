"""The manager's team pages: a team's people and its working calendar as forms, stored in the
JSON the SLA code reads, refused with the calendar code's own words when it is not usable."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client

from followups.models import Team
from followups.services import team_create
from followups.sla import team_calendar
from tests.factories import make_user

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


def week(**days: tuple[str, ...]) -> dict[str, str]:
    """The week formset's fields: ``mon=("09:00", "12:00", "13:00", "17:00")``, other days off."""
    data = {
        "hours-TOTAL_FORMS": "7",
        "hours-INITIAL_FORMS": "7",
        "hours-MIN_NUM_FORMS": "7",
        "hours-MAX_NUM_FORMS": "7",
    }
    for n, day in enumerate(WEEK):
        data[f"hours-{n}-day"] = day
        for slot, value in zip(("opens_1", "closes_1", "opens_2", "closes_2"), days.get(day, ()), strict=False):
            data[f"hours-{n}-{slot}"] = value
    return data


def days_off(*rows: tuple[str, str]) -> dict[str, str]:
    data = {
        "days_off-TOTAL_FORMS": str(len(rows)),
        "days_off-INITIAL_FORMS": "0",
        "days_off-MIN_NUM_FORMS": "0",
        "days_off-MAX_NUM_FORMS": "366",
    }
    for n, (day, label) in enumerate(rows):
        data[f"days_off-{n}-day"], data[f"days_off-{n}-label"] = day, label
    return data


def team_data(**fields) -> dict[str, object]:
    return {"name": "Americas", "slug": "americas", "time_zone": "America/New_York", "holiday_country": "us", **fields}


def test_a_manager_creates_a_team_with_its_week_and_days_off(manager, alice, bob):
    data = {
        **team_data(members=[alice.pk, bob.pk], lead=bob.pk),
        **week(mon=("09:00", "12:30", "13:30", "17:00"), fri=("08:00", "24:00")),
        **days_off(("2026-12-24", "Office party"), ("", "ignored without a date")),
    }
    reply = manager.post("/manage/teams/new/", data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    team = Team.objects.get(slug="americas")
    assert team.working_hours == {
        "mon": ["09:00-12:30", "13:30-17:00"],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": ["08:00-24:00"],
        "sat": [],
        "sun": [],
    }
    assert team.extra_holidays == ["2026-12-24"] and team.day_off_labels == {"2026-12-24": "Office party"}
    assert (team.time_zone, team.holiday_country, team.lead) == ("America/New_York", "US", bob)
    assert set(team.members.all()) == {alice, bob}
    # The SLA code reads what the form stored: Monday's break and the day off are not working time.
    calendar = team_calendar(team)
    assert calendar.weekly_hours[0][1][0].hour == 13
    assert datetime(2026, 12, 24).date() in calendar.holidays
    assert datetime(2026, 11, 26).date() in calendar.holidays  # Thanksgiving, from the country


def test_the_edit_page_shows_the_stored_calendar_as_fields_not_json(manager, alice):
    team_create(
        slug="desk", name="Desk", working_hours={"mon": ["09:00-12:30", "13:30-17:00"]}, extra_holidays=["2026-12-31"]
    )
    html = manager.get("/manage/teams/desk/").content.decode()
    assert 'value="13:30"' in html and 'value="2026-12-31"' in html
    assert "09:00-12:30" not in html and "{" not in html.split("<main")[1].split("</main>")[0].replace("{%", "")


@pytest.mark.parametrize(
    ("hours", "error"),
    [
        ({"mon": ("17:00", "09:00")}, "Monday: 17:00:00-09:00:00 ends before it starts"),
        ({"tue": ("09:00", "13:00", "12:00", "17:00")}, "Tuesday: 09:00:00-13:00:00 overlaps 12:00:00-17:00:00"),
        ({"wed": ("9h", "17:00")}, "Wednesday: &#x27;9h&#x27; is not a time of day"),
        ({"thu": ("09:00", "")}, "Thursday: interval 1 needs both"),
        ({}, "Open on at least one day"),
    ],
)
def test_an_unusable_week_is_refused_in_the_calendar_codes_words(manager, hours, error):
    reply = manager.post("/manage/teams/new/", {**team_data(), **week(**hours), **days_off()})
    assert reply.status_code == 200
    assert error in reply.content.decode()
    assert not Team.objects.exists()


def test_an_unknown_holiday_country_is_refused_and_nothing_is_stored(manager):
    reply = manager.post(
        "/manage/teams/new/", {**team_data(holiday_country="ZZ"), **week(mon=("09:00", "17:00")), **days_off()}
    )
    assert reply.status_code == 200
    assert "Not a usable business calendar" in reply.content.decode()
    assert not Team.objects.exists()


def test_editing_keeps_the_slug_and_changes_the_rest(manager, alice):
    team = team_create(slug="desk", name="Desk", members=["alice"])
    data = {**team_data(name="Front desk", slug="other", members=[]), **week(sat=("10:00", "14:00")), **days_off()}
    # The only team is the default one: unticking that is refused, with the reason.
    assert "Mark another team as default instead" in manager.post("/manage/teams/desk/", data).content.decode()
    assert manager.post("/manage/teams/desk/", {**data, "default": "on"}).status_code == 302
    team.refresh_from_db()
    assert (team.slug, team.name, team.working_hours["sat"], team.working_hours["mon"]) == (
        "desk",
        "Front desk",
        ["10:00-14:00"],
        [],
    )
    assert not team.members.exists() and team.extra_holidays == []


def test_a_duplicate_slug_is_a_form_error(manager):
    team_create(slug="americas", name="Old")
    reply = manager.post("/manage/teams/new/", {**team_data(), **week(mon=("09:00", "17:00")), **days_off()})
    assert reply.status_code == 200 and "already exists" in reply.content.decode()


@pytest.mark.parametrize("url", ["/manage/teams/", "/manage/teams/new/"])
def test_only_managers_open_the_team_pages(url, alice, client):
    client.force_login(alice)
    assert client.get(url).status_code == 403


def test_the_pages_read_a_fixed_number_of_queries(manager, alice, django_assert_num_queries):
    team_create(slug="desk", name="Desk", members=["alice"])
    with django_assert_num_queries(4) as small_list:
        manager.get("/manage/teams/")
    with django_assert_num_queries(7) as small_edit:
        manager.get("/manage/teams/desk/")
    for n in range(15):
        make_user(f"agent{n}")
        team_create(slug=f"team-{n}", name=f"Team {n}", members=[f"agent{n}", "alice"], extra_holidays=["2026-12-24"])
    Team.objects.get(slug="desk").members.add(*Team.objects.get(slug="team-3").members.all())
    with django_assert_num_queries(len(small_list.captured_queries)):
        manager.get("/manage/teams/")
    with django_assert_num_queries(len(small_edit.captured_queries)):
        manager.get("/manage/teams/desk/")
