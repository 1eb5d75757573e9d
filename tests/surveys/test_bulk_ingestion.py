"""POST /api/v1/responses/bulk/: many responses, valid ones stored, invalid ones reported by index."""

from __future__ import annotations

import gc
import json
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError
from surveys.intake import parse_response_item
from surveys.models import Customer, Response
from surveys.services import responses_ingest
from surveys.services.ingestion import MAX_BATCH, MAX_BATCH_BYTES, responses_ingest_parsed
from surveys.signals import responses_ingested
from tests.concurrency import at_once
from tests.factories import response_item

URL = "/api/v1/responses/bulk/"


def test_valid_items_are_stored_and_invalid_ones_reported_by_index(integration_api, survey):
    items = [
        response_item(9, external_id="a"),
        response_item(11, external_id="b"),
        response_item(5, external_id="c"),
        {"survey": "nope", "customer": {"external_id": "C-x"}, "score": 5},
        "not an object",
    ]
    reply = integration_api.post(URL, {"responses": items}, format="json")

    assert reply.status_code == 200
    data = reply.json()
    assert data["created"] == 2
    assert data["duplicates"] == 0
    assert [r["index"] for r in data["rejected"]] == [1, 3, 4]
    assert "score" in data["rejected"][0]["errors"]
    assert "survey" in data["rejected"][1]["errors"]
    assert set(Response.objects.values_list("external_id", flat=True)) == {"a", "c"}
    assert not Customer.objects.filter(external_id="C-x").exists()


def test_replayed_and_repeated_keys_are_duplicates(integration_api, survey):
    integration_api.post(URL, {"responses": [response_item(3, external_id="k1")]}, format="json")
    items = [response_item(3, external_id="k1"), response_item(4, external_id="k2"), response_item(4, external_id="k2")]
    data = integration_api.post(URL, {"responses": items}, format="json").json()
    assert data == {"created": 1, "duplicates": 2, "rejected": []}
    assert Response.objects.count() == 2


def test_one_customer_several_times_in_a_batch_is_created_once_with_the_latest_details(integration_api, survey):
    first = response_item(3, customer="C-1")
    first["customer"]["attributes"] = {"plan": "basic", "region": "EU"}
    second = response_item(9, customer="C-1")
    second["customer"].update(email="ana@example.com", attributes={"plan": "gold"})
    integration_api.post(URL, {"responses": [first, second]}, format="json")
    customer = Customer.objects.get()
    assert customer.email == "ana@example.com"
    assert customer.attributes == {"plan": "gold", "region": "EU"}
    assert customer.responses.count() == 2


@pytest.mark.parametrize("body", [{}, {"responses": "x"}, {"responses": {"a": 1}}, [1, 2]])
def test_a_body_without_a_list_of_responses_is_a_400(integration_api, survey, body):
    reply = integration_api.post(URL, body, format="json")
    assert reply.status_code == 400
    assert "responses" in reply.json()


def test_more_than_10000_items_is_a_400_storing_nothing(integration_api, survey):
    items = [response_item(5, customer="C-1")] * (MAX_BATCH + 1)
    reply = integration_api.post(URL, {"responses": items}, format="json")
    assert reply.status_code == 400
    assert reply.json()["responses"] == [f"At most {MAX_BATCH} responses per batch."]
    assert Response.objects.count() == 0


def test_the_service_refuses_a_batch_over_the_limit_whoever_calls_it(survey):
    with pytest.raises(ApplicationError) as refused:
        responses_ingest(items=[response_item(5, customer="C-1")] * (MAX_BATCH + 1))

    assert refused.value.errors == {"responses": [f"At most {MAX_BATCH} responses per batch."]}
    assert Response.objects.count() == 0


def test_items_checked_ahead_are_stored_as_the_same_batch_would_be(survey):
    now = timezone.now()
    raw = [response_item(9, external_id="a"), response_item(11, external_id="b"), response_item(9, external_id="a")]

    result = responses_ingest_parsed(
        parsed=[parse_response_item(item, now=now) for item in raw], default_channel="import", now=now
    )

    assert [outcome.status for outcome in result.outcomes] == ["created", "rejected", "duplicate"]
    stored = Response.objects.get()
    assert (stored.external_id, stored.channel, stored.submitted_at) == ("a", "import", now)


def test_a_checked_batch_over_the_limit_is_refused_whole(survey):
    now = timezone.now()
    parsed = [parse_response_item(response_item(5, customer="C-1"), now=now)] * (MAX_BATCH + 1)
    with pytest.raises(ApplicationError):
        responses_ingest_parsed(parsed=parsed, default_channel="import", now=now)
    assert Response.objects.count() == 0


def test_10000_items_are_accepted(integration_api, survey):
    items = [response_item(i % 11, external_id=f"x{i}") for i in range(MAX_BATCH)]
    data = integration_api.post(URL, {"responses": items}, format="json").json()
    assert data["created"] == MAX_BATCH
    assert Response.objects.count() == MAX_BATCH
    assert Customer.objects.count() == MAX_BATCH


# A full-length comment as customers write them: mostly ASCII, a few accented words, which
# json.dumps writes as \u escapes.
FULL_COMMENT = ("The agent was friendly, but the laptop still crashes after the update; the café wifi is fine. " * 60)[
    :5000
]


def realistic_item(index: int) -> dict:
    """An item with every field, the longest comment allowed and a customer with a few attributes."""
    item = response_item(
        index % 11,
        customer=f"C-{index:07d}",
        comment=FULL_COMMENT,
        channel="email",
        submitted_at="2026-11-20T10:00:00.123456+00:00",
        external_id=f"zd-rating-{index:09d}",
        ticket_ref=f"INC-{index:08d}",
    )
    item["customer"].update(
        email=f"customer{index}@example.com",
        name=f"Customer Number {index}",
        phone="+1 555 0100 1234",
        attributes={"plan": "platinum", "region": "EMEA", "segment": "enterprise", "seats": 1200, "tier": 2},
    )
    return item


@pytest.fixture(scope="module")
def full_batch() -> bytes:
    """The body of the largest batch the contract promises to take."""
    body = json.dumps({"responses": [realistic_item(index) for index in range(MAX_BATCH)]}).encode()
    assert len(FULL_COMMENT) == 5000
    # Far over Django's default limit of 2.5 MB, which refused it; under the endpoint's own.
    assert 50_000_000 < len(body) <= MAX_BATCH_BYTES
    return body


def test_a_full_batch_of_realistic_items_is_accepted(integration_api, survey, full_batch):
    reply = integration_api.post(URL, full_batch, content_type="application/json")

    assert reply.status_code == 200
    assert reply.json() == {"created": MAX_BATCH, "duplicates": 0, "rejected": []}
    assert Response.objects.count() == MAX_BATCH
    assert Response.objects.filter(comment=FULL_COMMENT).count() == MAX_BATCH


def test_a_body_over_the_bulk_limit_is_a_json_413_storing_nothing(integration_api, survey, full_batch):
    # The full batch again, padded with spaces (still valid JSON) to one byte over the limit.
    body = full_batch + b" " * (MAX_BATCH_BYTES + 1 - len(full_batch))

    reply = integration_api.post(URL, body, content_type="application/json")

    assert reply.status_code == 413
    assert reply.json() == {"detail": "The request body is larger than this endpoint accepts (81.9 MB at most)."}
    assert Response.objects.count() == 0


def _queries_for(n: int, offset: int) -> int:
    items = [response_item(i % 11, external_id=f"q{offset + i}") for i in range(n)]
    # Half the customers exist already, so both the insert and the update paths run.
    known = [response_item(5, customer=f"C-known-{i}") for i in range(n // 2)]
    responses_ingest(items=known)
    for i, item in enumerate(items[: n // 2]):
        item["customer"] = {"external_id": f"C-known-{i}", "name": f"Name {i}"}
    with CaptureQueriesContext(connection) as captured:
        result = responses_ingest(items=items)
    assert result.count("created") == n
    return len(captured)


@pytest.mark.postgres  # SQLite caps parameters per statement, so Django splits its inserts there
def test_the_number_of_queries_does_not_grow_with_the_batch(survey):
    small = _queries_for(10, 0)
    large = _queries_for(2000, 10_000)  # large enough for the COPY path on PostgreSQL
    assert large <= small + 2  # COPY takes its ids from the sequence in one extra query
    assert large <= 10


def test_a_batch_signals_once_with_every_created_id(survey, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, response_ids, **kwargs):
        received.append(sorted(response_ids))

    responses_ingested.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = responses_ingest(items=[response_item(i % 11) for i in range(50)])
    finally:
        responses_ingested.disconnect(listener)
    assert received == [sorted(result.created_ids)]
    assert len(received[0]) == 50


def test_imported_rows_keep_their_channel_default(survey):
    result = responses_ingest(items=[response_item(4)], default_channel="import")
    assert Response.objects.get(pk=result.created_ids[0]).channel == "import"


def test_a_batch_is_stored_without_cyclic_garbage_collections(survey):
    # A bulk request's objects hold no cycles; collecting while it runs only costs time.
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    items = [response_item(i % 11, external_id=f"gc{i}") for i in range(3000)]
    gc.collect()
    gc.callbacks.append(count)
    try:
        result = responses_ingest(items=items)
    finally:
        gc.callbacks.remove(count)
    assert result.count("created") == 3000
    # At most the one collection the allocations made meanwhile start as soon as it resumes;
    # with the collector running, a batch this size starts dozens.
    assert len(collections) <= 1
    assert gc.isenabled()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_one_batch_store_it_once(survey):
    # Large enough for COPY: a key another request stored first fails the COPY with a unique
    # violation, and the batch's retry must find those rows as duplicates.
    items = [response_item(i % 11, external_id=f"race-{i}", customer=f"C-race-{i % 40}") for i in range(200)]
    results = at_once(*[partial(responses_ingest, items=items)] * 4)

    assert Response.objects.count() == 200
    assert Customer.objects.count() == 40
    # Every request accounts for every item, and between them each was created exactly once.
    assert all(r.count("created") + r.count("duplicate") == 200 for r in results)
    assert sum(r.count("created") for r in results) == 200
