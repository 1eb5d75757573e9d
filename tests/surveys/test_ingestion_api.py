"""POST /api/v1/responses/: one response in, exactly as API.md fixes it."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from surveys.models import Customer, Response
from surveys.services import responses_ingest
from surveys.signals import responses_ingested
from tests.concurrency import at_once
from tests.factories import response_item

URL = "/api/v1/responses/"


def test_it_stores_a_detractor_and_answers_201_with_the_stored_response(integration_api, survey):
    body = response_item(
        3,
        customer="C-1042",
        comment="Took a week to reset my VPN token",
        channel="email",
        submitted_at="2026-11-20T10:00:00+00:00",
        external_id="zd-rating-991",
        ticket_ref="INC-20931",
    )
    body["customer"].update(email="ana@example.com", name="Ana Silva", attributes={"plan": "gold", "region": "EU"})

    reply = integration_api.post(URL, body, format="json")

    assert reply.status_code == 201, reply.json()
    data = reply.json()
    stored = Response.objects.get()
    assert data["id"] == stored.pk
    assert data["category"] == "detractor"
    assert data["survey"] == "support-2026"
    assert data["score"] == 3
    assert data["comment"] == "Took a week to reset my VPN token"
    assert data["channel"] == "email"
    assert data["submitted_at"] == "2026-11-20T10:00:00Z"
    assert data["external_id"] == "zd-rating-991"
    assert data["ticket_ref"] == "INC-20931"
    assert data["customer"] == {
        "external_id": "C-1042",
        "email": "ana@example.com",
        "name": "Ana Silva",
        "attributes": {"plan": "gold", "region": "EU"},
    }
    assert "case" in data


@pytest.mark.parametrize(("score", "category"), [(0, "detractor"), (6, "detractor"), (7, "passive"), (9, "promoter")])
def test_the_category_follows_the_score(integration_api, survey, score, category):
    reply = integration_api.post(URL, response_item(score), format="json")
    assert reply.status_code == 201
    assert reply.json()["category"] == category
    assert Response.objects.get().category == category


def test_defaults_are_api_channel_and_now(integration_api, survey):
    before = timezone.now()
    data = integration_api.post(URL, response_item(8), format="json").json()
    stored = Response.objects.get(pk=data["id"])
    assert stored.channel == "api"
    assert before <= stored.submitted_at <= timezone.now()


def test_replaying_an_external_id_stores_nothing_and_answers_200_with_the_first(integration_api, survey):
    first = integration_api.post(URL, response_item(2, external_id="k-1", customer="C-1"), format="json")
    again = integration_api.post(URL, response_item(10, external_id="k-1", customer="C-1"), format="json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["score"] == 2
    assert Response.objects.count() == 1


def test_the_same_external_id_in_another_survey_is_a_new_response(integration_api, survey):
    from tests.factories import make_survey

    make_survey("onboarding")
    integration_api.post(URL, response_item(2, external_id="k-1"), format="json")
    reply = integration_api.post(URL, response_item(2, external_id="k-1", survey="onboarding"), format="json")
    assert reply.status_code == 201
    assert Response.objects.count() == 2


def test_a_known_customer_is_updated_not_duplicated(integration_api, survey):
    first = response_item(9, customer="C-7")
    first["customer"].update(email="old@example.com", attributes={"plan": "basic", "region": "EU"})
    integration_api.post(URL, first, format="json")
    second = response_item(4, customer="C-7")
    second["customer"].update(name="Ana", attributes={"plan": "gold"})
    integration_api.post(URL, second, format="json")

    customer = Customer.objects.get()
    assert customer.email == "old@example.com"  # not given the second time: kept
    assert customer.name == "Ana"
    assert customer.attributes == {"plan": "gold", "region": "EU"}
    assert customer.responses.count() == 2


BAD_BODIES = {
    "score 11": ({"score": 11}, "score"),
    "score -1": ({"score": -1}, "score"),
    "score as a string": ({"score": "7"}, "score"),
    "fractional score": ({"score": 7.5}, "score"),
    "boolean score": ({"score": True}, "score"),
    "null score": ({"score": None}, "score"),
    "no customer": ({"customer": None}, "customer"),
    "customer without external id": ({"customer": {"email": "a@example.com"}}, "customer"),
    "unknown survey": ({"survey": "no-such-survey"}, "survey"),
    "5,001-character comment": ({"comment": "x" * 5001}, "comment"),
    "future submitted_at": ({"submitted_at": (timezone.now() + timedelta(days=1)).isoformat()}, "submitted_at"),
    "submitted_at without offset": ({"submitted_at": "2026-11-20T10:00:00"}, "submitted_at"),
    "garbage submitted_at": ({"submitted_at": "yesterday"}, "submitted_at"),
    "unknown channel": ({"channel": "pigeon"}, "channel"),
    "NUL in comment": ({"comment": "a\x00b"}, "comment"),
    "NUL in survey": ({"survey": "support\x00-2026"}, "survey"),
    "NUL in submitted_at": ({"submitted_at": "2026-11-20T10:00:00+00:00\x00junk"}, "submitted_at"),
    "bad email": ({"customer": {"external_id": "C-1", "email": "not-an-email"}}, "customer"),
    "attributes not an object": ({"customer": {"external_id": "C-1", "attributes": ["gold"]}}, "customer"),
}


@pytest.mark.parametrize("case", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(integration_api, survey, case):
    change, field = case
    body = {**response_item(3, customer="C-1"), **change}
    reply = integration_api.post(URL, body, format="json")
    assert reply.status_code == 400
    assert field in reply.json()
    assert reply.json()[field]
    assert Response.objects.count() == 0
    assert Customer.objects.count() == 0


LONE_SURROGATE = "broken \ud800 text"  # JSON can spell it; UTF-8, and so the database, cannot
SURROGATE_BODIES = {
    "comment": ({"comment": LONE_SURROGATE}, "comment"),
    "ticket_ref": ({"ticket_ref": LONE_SURROGATE}, "ticket_ref"),
    "external_id": ({"external_id": LONE_SURROGATE}, "external_id"),
    "survey": ({"survey": LONE_SURROGATE}, "survey"),
    "customer name": ({"customer": {"external_id": "C-1", "name": LONE_SURROGATE}}, "customer"),
    "customer id": ({"customer": {"external_id": LONE_SURROGATE}}, "customer"),
    "attribute value": ({"customer": {"external_id": "C-1", "attributes": {"plan": LONE_SURROGATE}}}, "customer"),
    "attribute name": ({"customer": {"external_id": "C-1", "attributes": {LONE_SURROGATE: "gold"}}}, "customer"),
}


@pytest.mark.parametrize("case", SURROGATE_BODIES.values(), ids=SURROGATE_BODIES.keys())
def test_a_lone_surrogate_makes_the_body_a_400_and_stores_nothing(integration_api, survey, case):
    change, _field = case
    body = {**response_item(3, customer="C-1"), **change}
    # json.dumps writes the surrogate as the escape \ud800, as a client's encoder would. The JSON
    # parser refuses such a body whole, as it refuses a body that is not UTF-8.
    single = integration_api.post(URL, json.dumps(body), content_type="application/json")
    bulk = integration_api.post(f"{URL}bulk/", json.dumps({"responses": [body] * 3}), content_type="application/json")
    for reply in (single, bulk):
        assert reply.status_code == 400
        assert "lone surrogate" in reply.json()["detail"]
    assert Response.objects.count() == 0
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("case", SURROGATE_BODIES.values(), ids=SURROGATE_BODIES.keys())
def test_intake_names_the_field_holding_a_lone_surrogate_whoever_calls_it(survey, case):
    change, field = case
    result = responses_ingest(items=[{**response_item(3, customer="C-1"), **change}] * 3)

    assert [outcome.status for outcome in result.outcomes] == ["rejected"] * 3
    assert all(field in outcome.errors for outcome in result.outcomes)
    assert Response.objects.count() == 0
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("copies", [1, 3], ids=["one item", "three items (COPY)"])
def test_intake_refuses_a_non_finite_attribute_whoever_calls_it(survey, number, copies):
    # The JSON parser refuses these in request bodies; intake holds the rule for every caller.
    items = [response_item(3, customer=f"C-{index}") for index in range(copies)]
    for item in items:
        item["customer"]["attributes"] = {"plan": "gold", "seats": number}

    result = responses_ingest(items=items)

    assert [outcome.errors for outcome in result.outcomes] == [
        {"customer": {"attributes": ["Attribute 'seats' must be a finite number."]}}
    ] * copies
    assert not Customer.objects.exists()


@pytest.mark.parametrize("change", [{"survey": "support\x00-2026"}, {"submitted_at": "2026-11-20T10:00:00\x00Z"}])
def test_a_nul_in_a_bulk_item_rejects_that_item_alone(integration_api, survey, change):
    items = [response_item(3, external_id="fine"), {**response_item(3, external_id="bad"), **change}]

    reply = integration_api.post(f"{URL}bulk/", {"responses": items}, format="json")

    assert reply.status_code == 200
    assert reply.json()["created"] == 1
    assert [rejected["index"] for rejected in reply.json()["rejected"]] == [1]
    assert list(Response.objects.values_list("external_id", flat=True)) == ["fine"]


def test_a_5000_character_comment_is_accepted(integration_api, survey):
    reply = integration_api.post(URL, response_item(3, comment="y" * 5000), format="json")
    assert reply.status_code == 201


@pytest.mark.parametrize("body", ['{"survey": "support-2026", "score": 3', "[1, 2", "not json"])
def test_malformed_json_is_a_400(integration_api, survey, body):
    reply = integration_api.post(URL, body, content_type="application/json")
    assert reply.status_code == 400
    assert "detail" in reply.json()
    assert Response.objects.count() == 0


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object_is_a_400(integration_api, survey, body):
    reply = integration_api.post(URL, body, content_type="application/json")
    assert reply.status_code == 400
    assert Response.objects.count() == 0


def test_the_extension_point_fires_once_after_commit_with_the_new_ids(
    integration_api, survey, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, response_ids, **kwargs):
        received.append(list(response_ids))

    responses_ingested.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            reply = integration_api.post(URL, response_item(1, external_id="e-1"), format="json")
        assert received == []  # nothing before the transaction commits
        for callback in callbacks:
            callback()
        assert received == [[reply.json()["id"]]]
        integration_api.post(URL, response_item(1, external_id="e-1"), format="json")
        assert received == [[reply.json()["id"]]]  # a duplicate creates nothing and signals nothing
    finally:
        responses_ingested.disconnect(listener)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_external_id_store_one_response(survey, izzy):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=izzy).key

    def replay() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post(URL, response_item(2, external_id="race-1", customer="C-race"), format="json").status_code

    statuses = at_once(*[replay] * 8)

    assert Response.objects.filter(external_id="race-1").count() == 1
    assert Customer.objects.filter(external_id="C-race").count() == 1
    assert sorted(statuses) == [200] * 7 + [201]
