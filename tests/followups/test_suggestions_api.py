"""Coding any response, its suggestions and the decisions on them, and the stored classifier.

PUT /api/v1/responses/{id}/root-causes/, GET and POST /api/v1/responses/{id}/suggestions/,
GET /api/v1/suggestions/model/ and POST /api/v1/suggestions/train/; the services behind them.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from followups import selectors
from followups.models import CaseEvent, ResponseRootCause, SuggestionDecision, SuggestionModel
from followups.selectors import suggestion_classifier, suggestions_for
from followups.services.coding import root_cause_update
from followups.services.suggestions import MODELS_KEPT, suggestion_model_train
from followups.tasks import suggestions_train
from tests.factories import make_response


def codes_of(response) -> list[tuple[str, str, str | None]]:
    rows = ResponseRootCause.objects.filter(response=response).order_by("root_cause__slug")
    return list(rows.values_list("root_cause__slug", "source", "coded_by__username"))


def put_codes(client, response, slugs):
    return client.put(f"/api/v1/responses/{response.pk}/root-causes/", {"root_causes": slugs}, format="json")


def test_an_agent_codes_a_promoters_comment_and_a_manager_a_passives(agent_api, manager_api, survey, taxonomy):
    praise = make_response(10, comment="Alice sorted my laptop in minutes")
    reply = put_codes(agent_api, praise, ["hardware"])
    assert reply.status_code == 200, reply.json()
    assert reply.json()["root_causes"] == ["hardware"]
    assert reply.json()["root_cause_codes"][0]["source"] == "agent"
    assert codes_of(praise) == [("hardware", "agent", "alice")]

    passive = make_response(7, comment="ok but the vpn")
    assert put_codes(manager_api, passive, ["vpn-access", "hardware"]).status_code == 200
    assert codes_of(passive) == [("hardware", "manager", "maya"), ("vpn-access", "manager", "maya")]
    # Replacing keeps what stays, with its source, and drops the rest.
    assert put_codes(agent_api, passive, ["vpn-access"]).json()["root_causes"] == ["vpn-access"]
    assert codes_of(passive) == [("vpn-access", "manager", "maya")]


@pytest.mark.parametrize(
    ("slugs", "message"),
    [
        (["technology"], "'technology' is a category; code with one of its causes."),
        (["nope"], "No active root cause 'nope'."),
        (["hardware", "email-calendar"], "No active root cause 'email-calendar'."),
    ],
)
def test_categories_retired_and_unknown_causes_are_refused_and_nothing_is_stored(
    agent_api, survey, taxonomy, slugs, message
):
    root_cause_update(root_cause=taxonomy["email-calendar"], active=False)
    response = make_response(9, comment="fine")
    reply = put_codes(agent_api, response, slugs)
    assert reply.status_code == 400
    assert reply.json()["root_causes"] == [message]
    assert codes_of(response) == []


def test_bad_bodies_and_missing_responses_are_4xx(agent_api, survey, taxonomy):
    response = make_response(9)
    url = f"/api/v1/responses/{response.pk}/root-causes/"
    assert agent_api.put(url, {"root_causes": "hardware"}, format="json").status_code == 400
    assert agent_api.put(url, {}, format="json").status_code == 400
    assert agent_api.put(url, {"root_causes": ["x"] * 51}, format="json").status_code == 400
    assert put_codes(agent_api, type(response)(pk=10**9), ["hardware"]).status_code == 404


def test_only_agents_and_managers_code(integration_api, no_role_api, anonymous_api, survey, taxonomy):
    response = make_response(9)
    assert put_codes(integration_api, response, ["hardware"]).status_code == 403
    assert put_codes(no_role_api, response, ["hardware"]).status_code == 403
    assert put_codes(anonymous_api, response, ["hardware"]).status_code in {401, 403}
    assert codes_of(response) == []


def test_a_response_with_a_case_is_coded_through_its_case(open_case, manager_api, survey, taxonomy, alice, bob):
    case = open_case(2, comment="vpn down")
    assert put_codes(manager_api, case.response, ["vpn-access"]).status_code == 200
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.ROOT_CAUSES_CHANGED)
    assert event.details == {"added": ["vpn-access"], "removed": [], "source": "manager"}
    # The case's rights hold: an agent who neither owns it nor leads its team may not code it.
    other = bob if case.owner_id == alice.pk else alice
    client = APIClient()
    client.force_authenticate(other)
    assert put_codes(client, case.response, ["hardware"]).status_code == 403
    assert codes_of(case.response) == [("vpn-access", "manager", "maya")]


def test_keywords_suggest_causes_before_any_training(agent_api, survey, taxonomy):
    response = make_response(7, comment="The VPN drops and my Laptop is slow")
    body = agent_api.get(f"/api/v1/responses/{response.pk}/suggestions/").json()
    assert body["model_version"] is None
    found = {row["root_cause"]: row for row in body["results"]}
    assert {"vpn-access", "hardware", "slow-response"} <= set(found)
    assert found["vpn-access"] == {
        "root_cause": "vpn-access",
        "name": "VPN and remote access",
        "category": "technology",
        "source": "keyword",
        "keyword": "vpn",
        "confidence": None,
        "why": 'mentions "vpn"',
    }


def test_accepting_codes_the_response_and_rejecting_is_remembered(manager_api, survey, taxonomy):
    response = make_response(7, comment="The VPN drops and my laptop is broken")
    url = f"/api/v1/responses/{response.pk}/suggestions/"

    accepted = manager_api.post(url, {"root_cause": "vpn-access", "source": "keyword", "accepted": True}, format="json")
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["accepted"] is True and accepted.json()["decided_by"] == "maya"
    assert codes_of(response) == [("vpn-access", "suggestion", "maya")]
    again = manager_api.post(url, {"root_cause": "vpn-access", "source": "keyword", "accepted": True}, format="json")
    assert again.status_code == 200 and again.json()["id"] == accepted.json()["id"]

    rejected = manager_api.post(url, {"root_cause": "hardware", "source": "keyword", "accepted": False}, format="json")
    assert rejected.status_code == 201
    assert codes_of(response) == [("vpn-access", "suggestion", "maya")]
    offered = [row["root_cause"] for row in manager_api.get(url).json()["results"]]
    assert "hardware" not in offered and "vpn-access" not in offered
    flip = manager_api.post(url, {"root_cause": "hardware", "source": "keyword", "accepted": True}, format="json")
    assert flip.status_code == 409
    assert SuggestionDecision.objects.filter(response=response).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"root_cause": "nope", "source": "keyword", "accepted": True},
        {"root_cause": "technology", "source": "keyword", "accepted": True},
        {"root_cause": "hardware", "source": "guess", "accepted": True},
        {"root_cause": "hardware", "source": "keyword"},
        {"root_cause": "hardware", "source": "keyword", "accepted": True, "model_version": 0},
    ],
)
def test_bad_decisions_are_400_and_store_nothing(agent_api, survey, taxonomy, body):
    response = make_response(7, comment="laptop")
    reply = agent_api.post(f"/api/v1/responses/{response.pk}/suggestions/", body, format="json")
    assert reply.status_code == 400, reply.content
    assert not SuggestionDecision.objects.exists()
    assert codes_of(response) == []


def test_training_stores_a_model_every_process_picks_up_by_version(coded_comments, django_assert_num_queries):
    coded_comments(times=3)
    first = suggestion_model_train()
    assert first is not None
    assert (first.version, first.training_size) == (1, 27)
    assert first.causes == ["hardware", "slow-response", "vpn-access"]
    assert first.metrics["held_out"] == 5 and first.metrics["trained_on"] == 22

    selectors._loaded = None
    with django_assert_num_queries(2):  # the newest version, then its pipeline
        version, classifier = suggestion_classifier()
    assert version == 1 and classifier is not None
    with django_assert_num_queries(1):  # cached: the version only
        assert suggestion_classifier()[1] is classifier

    second = suggestion_model_train()
    assert second is not None and second.version == 2
    with django_assert_num_queries(2):
        version, newer = suggestion_classifier()
    assert version == 2 and newer is not classifier


def test_old_models_are_pruned(coded_comments):
    coded_comments(times=2)
    for _ in range(MODELS_KEPT + 2):
        suggestion_model_train()
    versions = list(SuggestionModel.objects.values_list("version", flat=True))
    assert versions == list(range(MODELS_KEPT + 2, 2, -1))


def test_no_model_without_two_causes_to_learn(survey, taxonomy):
    assert suggestion_model_train() is None
    assert not SuggestionModel.objects.exists()
    assert suggestion_classifier() == (None, None)


def test_the_classifier_suggests_what_keywords_miss(coded_comments, agent_api):
    coded_comments(times=3)
    model = suggestion_model_train()
    assert model is not None
    response = make_response(7, comment="nobody picked up my ticket for days")
    body = agent_api.get(f"/api/v1/responses/{response.pk}/suggestions/").json()
    assert body["model_version"] == model.version
    top = body["results"][0]
    assert (top["root_cause"], top["source"], top["keyword"]) == ("slow-response", "classifier", None)
    assert top["confidence"] >= 0.5 and top["why"].startswith("classifier ")


def test_suggestions_for_a_page_take_the_same_queries_whatever_its_size(coded_comments, django_assert_num_queries):
    coded_comments(times=2)
    suggestion_model_train()
    suggestion_classifier()  # loaded
    few = [make_response(7, comment="vpn") for _ in range(2)]
    many = few + [make_response(7, comment=f"laptop {n}") for n in range(20)]
    with django_assert_num_queries(4) as small:
        suggestions_for(few)
    with django_assert_num_queries(len(small.captured_queries)):
        result = suggestions_for(many)
    assert len(result.by_response) == 22


def test_the_model_endpoint_and_training_on_demand(
    coded_comments, manager_api, agent_api, django_capture_on_commit_callbacks
):
    assert manager_api.get("/api/v1/suggestions/model/").status_code == 404
    assert agent_api.get("/api/v1/suggestions/model/").status_code == 403
    assert agent_api.post("/api/v1/suggestions/train/").status_code == 403
    coded_comments(times=3)
    with django_capture_on_commit_callbacks(execute=True):
        reply = manager_api.post("/api/v1/suggestions/train/")
    assert reply.status_code == 202 and reply.json() == {"queued": True}
    body = manager_api.get("/api/v1/suggestions/model/").json()
    assert body["version"] == 1 and body["training_size"] == 27 and body["held_out"] == 5
    assert set(body["macro"]) == {"classifier", "keywords"}
    row = body["metrics"][0]
    assert set(row) == {"root_cause", "support", "learned", "classifier", "keywords"}


def test_the_command_and_the_task_train(coded_comments, capsys):
    coded_comments(times=3)
    call_command("train_suggestions")
    out = capsys.readouterr().out
    assert out.startswith("version 1 trained on 27 coded comments, 3 causes; held out 5:")
    assert suggestions_train() == 2


def test_the_command_says_when_there_is_nothing_to_learn(survey, taxonomy, capsys):
    call_command("train_suggestions")
    assert "not trained" in capsys.readouterr().out
    assert suggestions_train() is None


@pytest.mark.postgres  # row locks under concurrent writers
@pytest.mark.django_db(transaction=True)
def test_concurrent_codings_of_one_response_all_land_and_none_deadlocks(maya, survey):
    """Two accepted suggestions and a hand coding of one response at once: each sees the others' codes."""
    from followups.services.cases import response_root_cause_add
    from followups.services.coding import root_cause_taxonomy_seed
    from followups.services.suggestions import suggestion_decide
    from tests.concurrency import at_once

    root_cause_taxonomy_seed()
    response = make_response(7, comment="vpn, laptop and a slow queue")

    def accept(slug: str):
        return lambda: suggestion_decide(
            response=response, root_cause=slug, source="keyword", accepted=True, actor=maya
        )

    at_once(
        accept("vpn-access"),
        accept("hardware"),
        lambda: response_root_cause_add(response=response, actor=maya, slug="slow-response"),
    )
    assert [slug for slug, _, _ in codes_of(response)] == ["hardware", "slow-response", "vpn-access"]
    assert SuggestionDecision.objects.filter(response=response, accepted=True).count() == 2
