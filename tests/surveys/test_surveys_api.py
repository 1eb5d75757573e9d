"""/api/v1/surveys/: survey settings with the defaults of API.md."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from surveys.models import Survey
from surveys.services import survey_create, survey_update


def test_a_new_survey_has_the_documented_defaults(manager_api):
    reply = manager_api.post("/api/v1/surveys/", {"slug": "support-2026", "name": "Support"}, format="json")
    assert reply.status_code == 201
    data = reply.json()
    assert data["kind"] == "transactional"
    assert data["quarantine_days"] == 90
    assert data["followup_passives"] is False
    assert data["hot_threshold"] == 3
    assert data["require_coding"] is False
    assert data["active"] is True
    assert data["question"]


def test_get_and_patch_a_survey(manager_api, agent_api):
    manager_api.post("/api/v1/surveys/", {"slug": "rel", "name": "Relationship", "kind": "relationship"}, format="json")
    assert agent_api.get("/api/v1/surveys/rel/").json()["kind"] == "relationship"
    reply = manager_api.patch("/api/v1/surveys/rel/", {"hot_threshold": 2, "followup_passives": True}, format="json")
    assert reply.status_code == 200
    survey = Survey.objects.get(slug="rel")
    assert (survey.hot_threshold, survey.followup_passives) == (2, True)


def test_bad_survey_settings_are_400s_and_change_nothing(manager_api):
    manager_api.post("/api/v1/surveys/", {"slug": "s", "name": "S"}, format="json")
    for body in [
        {"slug": "s", "name": "Again"},
        {"slug": "t", "name": "T", "kind": "weekly"},
        {"slug": "u", "name": "U", "hot_threshold": 11},
        {"slug": "v", "name": "V", "quarantine_days": -1},
        {"slug": "w w", "name": "W"},
        {"name": "No slug"},
    ]:
        assert manager_api.post("/api/v1/surveys/", body, format="json").status_code == 400, body
    assert manager_api.patch("/api/v1/surveys/s/", {"slug": "renamed"}, format="json").status_code == 400
    assert manager_api.patch("/api/v1/surveys/s/", {"hot_threshold": "high"}, format="json").status_code == 400
    assert list(Survey.objects.values_list("slug", "hot_threshold")) == [("s", 3)]
    assert manager_api.get("/api/v1/surveys/missing/").status_code == 404


def test_a_survey_slug_cannot_change_and_nothing_else_changes_with_it(manager_api):
    manager_api.post("/api/v1/surveys/", {"slug": "s", "name": "S"}, format="json")

    reply = manager_api.patch("/api/v1/surveys/s/", {"slug": "renamed", "name": "Renamed"}, format="json")

    assert reply.status_code == 400
    assert reply.json() == {"slug": ["A survey's slug cannot change."]}
    assert list(Survey.objects.values_list("slug", "name")) == [("s", "S")]


def test_the_survey_service_refuses_another_slug_whoever_calls_it(db):
    survey = survey_create(slug="s", name="S")

    with pytest.raises(ValidationError) as refused:
        survey_update(survey=survey, slug="t", name="T")

    assert refused.value.message_dict == {"slug": ["A survey's slug cannot change."]}
    assert Survey.objects.get().name == "S"


def test_an_invalid_survey_update_leaves_the_survey_as_it_was(db):
    survey = survey_create(slug="s", name="S")

    with pytest.raises(ValidationError):
        survey_update(survey=survey, name="Renamed", hot_threshold=11)

    assert (survey.name, survey.hot_threshold) == ("S", 3)
    assert Survey.objects.get().name == "S"
