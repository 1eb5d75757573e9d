"""/api/v1/users/ and /api/v1/teams/: people in roles, teams with a default."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closedloop.lib.roles import user_roles
from followups.models import Team
from followups.services.teams import team_create, team_update
from tests.factories import make_user


def test_a_manager_creates_a_user_in_a_role(manager_api):
    body = {"username": "agent2", "password": "a-decent-passphrase-7", "email": "a2@example.com", "role": "agent"}
    reply = manager_api.post("/api/v1/users/", body, format="json")
    assert reply.status_code == 201
    assert reply.json() == {"username": "agent2", "email": "a2@example.com", "role": "agent"}
    user = get_user_model().objects.get(username="agent2")
    assert user.check_password("a-decent-passphrase-7")
    assert user_roles(user) == {"agent"}


def test_users_list_shows_roles(manager_api, alice, izzy):
    rows = {u["username"]: u["role"] for u in manager_api.get("/api/v1/users/").json()["results"]}
    assert rows == {"maya": "manager", "alice": "agent", "izzy": "integration"}


def test_bad_user_bodies_are_400s_and_store_nothing(manager_api, alice):
    bodies = [
        {"username": "x", "password": "a-decent-passphrase-7", "role": "boss"},
        {"username": "x", "password": "123", "role": "agent"},
        {"username": "alice", "password": "a-decent-passphrase-7", "role": "agent"},
        {"username": "bad name!", "password": "a-decent-passphrase-7", "role": "agent"},
        {"password": "a-decent-passphrase-7", "role": "agent"},
    ]
    for body in bodies:
        reply = manager_api.post("/api/v1/users/", body, format="json")
        assert reply.status_code == 400, body
        assert reply.json()
    assert get_user_model().objects.count() == 2


def test_the_first_team_is_the_default_until_another_is_marked(manager_api, alice, bob):
    first = manager_api.post(
        "/api/v1/teams/", {"slug": "emea", "name": "EMEA", "members": ["alice", "bob"], "lead": "alice"}, format="json"
    )
    assert first.status_code == 201
    summary = {key: first.json()[key] for key in ("slug", "name", "members", "lead", "default")}
    assert summary == {"slug": "emea", "name": "EMEA", "members": ["alice", "bob"], "lead": "alice", "default": True}
    assert first.json()["time_zone"] == "UTC"  # the default calendar: Monday to Friday, 9 to 5 UTC
    second = manager_api.post("/api/v1/teams/", {"slug": "amer", "name": "Americas"}, format="json").json()
    assert second["default"] is False
    marked = manager_api.patch("/api/v1/teams/amer/", {"default": True}, format="json").json()
    assert marked["default"] is True
    assert manager_api.get("/api/v1/teams/emea/").json()["default"] is False
    assert Team.objects.filter(is_default=True).count() == 1


def test_patching_members_and_lead(manager_api, alice, bob):
    manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "EMEA", "members": ["alice"]}, format="json")
    reply = manager_api.patch(
        "/api/v1/teams/emea/", {"members": ["bob"], "lead": "bob", "name": "EMEA desk"}, format="json"
    )
    assert reply.status_code == 200
    assert reply.json()["members"] == ["bob"]
    assert reply.json()["lead"] == "bob"
    assert reply.json()["name"] == "EMEA desk"


def test_bad_team_bodies_are_400s(manager_api, alice):
    manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "EMEA"}, format="json")
    bad = [
        {"slug": "emea", "name": "Again"},
        {"slug": "x", "name": "X", "members": ["nobody"]},
        {"slug": "y", "name": "Y", "lead": "ghost"},
        {"slug": "not a slug", "name": "Z"},
    ]
    for body in bad:
        assert manager_api.post("/api/v1/teams/", body, format="json").status_code == 400, body
    assert Team.objects.count() == 1
    assert manager_api.patch("/api/v1/teams/emea/", {"default": False}, format="json").status_code == 400
    assert manager_api.get("/api/v1/teams/nope/").status_code == 404


def test_agents_read_teams_but_do_not_change_them(agent_api, manager_api):
    manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "EMEA"}, format="json")
    assert agent_api.get("/api/v1/teams/").status_code == 200
    assert agent_api.patch("/api/v1/teams/emea/", {"name": "Mine"}, format="json").status_code == 403
    assert agent_api.post("/api/v1/teams/", {"slug": "x", "name": "X"}, format="json").status_code == 403


def test_an_inactive_user_cannot_join_a_team(manager_api):
    user = make_user("gone", "agent")
    user.is_active = False
    user.save()
    reply = manager_api.post("/api/v1/teams/", {"slug": "t", "name": "T", "members": ["gone"]}, format="json")
    assert reply.status_code == 400
    assert "members" in reply.json()


def test_a_team_carries_its_business_calendar(manager_api):
    body = {
        "slug": "apac",
        "name": "APAC",
        "time_zone": "Asia/Tokyo",
        "working_hours": {"mon": ["08:30-12:00", "13:00-17:30"], "tue": ["08:30-17:30"]},
        "holiday_country": "JP",
        "extra_holidays": ["2026-12-28"],
    }
    data = manager_api.post("/api/v1/teams/", body, format="json").json()
    assert data["time_zone"] == "Asia/Tokyo"
    assert data["working_hours"] == body["working_hours"]
    assert data["holiday_country"] == "JP"
    assert data["extra_holidays"] == ["2026-12-28"]
    patched = manager_api.patch("/api/v1/teams/apac/", {"time_zone": "Australia/Sydney"}, format="json").json()
    assert patched["time_zone"] == "Australia/Sydney"
    assert patched["working_hours"] == body["working_hours"]


@pytest.mark.parametrize(
    "calendar",
    [
        {"time_zone": "Mars/Olympus"},
        {"working_hours": {"mon": ["25:00-26:00"]}},
        {"working_hours": {"mon": ["17:00-09:00"]}},
        {"working_hours": {"funday": ["09:00-17:00"]}},
        {"working_hours": {"mon": [], "tue": []}},
        {"holiday_country": "XX"},
        {"extra_holidays": ["not a date"]},
    ],
)
def test_a_calendar_deadlines_cannot_be_computed_in_is_a_400(manager_api, calendar):
    manager_api.post("/api/v1/teams/", {"slug": "desk", "name": "Desk"}, format="json")
    reply = manager_api.patch("/api/v1/teams/desk/", calendar, format="json")
    assert reply.status_code == 400, reply.json()
    assert Team.objects.get(slug="desk").time_zone == "UTC"
    created = manager_api.post("/api/v1/teams/", {"slug": "other", "name": "Other", **calendar}, format="json")
    assert created.status_code == 400
    assert not Team.objects.filter(slug="other").exists()


def test_a_team_slug_cannot_change_and_nothing_else_changes_with_it(manager_api, alice):
    manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "EMEA"}, format="json")

    reply = manager_api.patch("/api/v1/teams/emea/", {"slug": "apac", "name": "APAC", "lead": "alice"}, format="json")

    assert reply.status_code == 400
    assert reply.json() == {"slug": ["A team's slug cannot change."]}
    assert list(Team.objects.values_list("slug", "name", "lead")) == [("emea", "EMEA", None)]
    assert (
        manager_api.patch("/api/v1/teams/emea/", {"slug": "emea", "name": "Europe"}, format="json").status_code == 200
    )


def test_the_team_service_refuses_another_slug_whoever_calls_it(alice):
    team = team_create(slug="emea", name="EMEA")

    with pytest.raises(ValidationError) as refused:
        team_update(team=team, slug="apac", name="APAC")

    assert refused.value.message_dict == {"slug": ["A team's slug cannot change."]}
    assert (team.name, Team.objects.get().name) == ("EMEA", "EMEA")


def test_a_team_update_saves_only_the_fields_it_changes(alice):
    team = team_create(slug="emea", name="EMEA")

    with CaptureQueriesContext(connection) as queries:
        team_update(team=team, name="Europe", time_zone="UTC")
    updates = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]

    assert len(updates) == 1
    assert '"name"' in updates[0] and '"time_zone"' not in updates[0] and '"slug"' not in updates[0]
