"""Bad input on every endpoint: JSON the product refuses, bodies too large, times out of range,
unique values claimed by several requests at once. Each is a clear 4xx that stores nothing."""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from closedloop.lib.parsers import MAX_DEPTH, JSONInputError, parse_json
from followups.models import ResolutionCode, RootCause, Team
from surveys.models import Customer, ImportJob, Response, Survey
from surveys.services.imports import import_job_create, import_job_run
from tests.concurrency import at_once
from tests.factories import response_item

RESPONSES = "/api/v1/responses/"
BULK = "/api/v1/responses/bulk/"
TOKEN = "/api/v1/auth/token/"
# Django's default body limit, which every endpoint but the bulk one keeps.
DEFAULT_LIMIT = 2_621_440


def post_text(client: APIClient, url: str, text: str | bytes) -> Any:
    return client.post(url, text, content_type="application/json")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# The JSON parser


def test_json_nested_a_thousand_levels_deep_is_a_400_even_signing_in(anonymous_api, db):
    body = '{"username": ' + nested(1000) + ', "password": "x"}'

    reply = post_text(anonymous_api, TOKEN, body)

    assert reply.status_code == 400
    assert reply.json() == {"detail": f"JSON parse error - Nested deeper than {MAX_DEPTH} levels."}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_a_400_at_ingestion_and_stores_nothing(integration_api, survey, depth):
    item = json.dumps(response_item(3, customer="C-1"))
    body = item[:-1] + ', "extra": ' + nested(depth) + "}"

    for url, text in ((RESPONSES, body), (BULK, '{"responses": [' + body + "]}")):
        reply = post_text(integration_api, url, text)
        assert reply.status_code == 400, url
        assert "Nested deeper than" in reply.json()["detail"]
    assert not Response.objects.exists()


def test_the_depth_limit_counts_every_container():
    assert parse_json(nested(MAX_DEPTH)) is not None
    assert parse_json('{"a": ' * (MAX_DEPTH - 1) + "[]" + "}" * (MAX_DEPTH - 1))
    with pytest.raises(JSONInputError, match="Nested deeper"):
        parse_json('{"a": ' * MAX_DEPTH + "[]" + "}" * MAX_DEPTH)


def test_a_key_repeated_in_an_object_is_a_400_and_stores_nothing(integration_api, survey):
    body = '{"survey": "support-2026", "customer": {"external_id": "C-1"}, "score": 3, "score": 9}'

    single = post_text(integration_api, RESPONSES, body)
    bulk = post_text(integration_api, BULK, '{"responses": [' + body + "]}")

    for reply in (single, bulk):
        assert reply.status_code == 400
        assert reply.json() == {"detail": "JSON parse error - Duplicate key 'score' in an object."}
    assert not Response.objects.exists()
    assert not Customer.objects.exists()


def test_a_repeated_key_is_refused_in_nested_objects_and_on_every_endpoint(manager_api, anonymous_api, survey):
    team = post_text(manager_api, "/api/v1/teams/", '{"slug": "emea", "name": "EMEA", "slug": "apac"}')
    sign_in = post_text(anonymous_api, TOKEN, '{"username": "maya", "password": "x", "password": "y"}')
    customer = post_text(
        manager_api,
        RESPONSES,
        '{"survey": "support-2026", "score": 3, "customer": {"external_id": "C-1", "external_id": "C-2"}}',
    )

    assert [reply.status_code for reply in (team, sign_in, customer)] == [400, 400, 400]
    assert "Duplicate key 'external_id'" in customer.json()["detail"]
    assert not Team.objects.exists()


def item_with_seats(index: int, number: str) -> str:
    """An item whose customer has the attribute ``seats``, the number written as given."""
    item = response_item(3, customer=f"C-{index}")
    item["customer"]["attributes"] = {"plan": "gold", "seats": 0}
    return json.dumps(item).replace('"seats": 0', f'"seats": {number}')


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("copies", [1, 3], ids=["one item", "three items (COPY)"])
def test_a_non_finite_number_in_attributes_is_a_400_and_stores_nothing(integration_api, survey, number, copies):
    items = [item_with_seats(index, number) for index in range(copies)]

    replies = [post_text(integration_api, BULK, '{"responses": [' + ", ".join(items) + "]}")]
    if copies == 1:
        replies.append(post_text(integration_api, RESPONSES, items[0]))

    for reply in replies:
        assert reply.status_code == 400
        assert "numbers must be finite" in reply.json()["detail"]
    assert not Customer.objects.exists()


def test_large_finite_numbers_and_long_integers_are_json_as_usual():
    assert parse_json('{"a": 1e308, "b": -2.5e-300, "c": 123456789012345678901234567890}') == {
        "a": 1e308,
        "b": -2.5e-300,
        "c": 123456789012345678901234567890,
    }
    with pytest.raises(JSONInputError, match="too many digits"):
        parse_json("1" * 5000)


def test_text_that_is_not_utf8_is_a_400(integration_api, survey):
    reply = post_text(integration_api, RESPONSES, b'{"survey": "\xff"}')

    assert reply.status_code == 400
    assert reply.json() == {"detail": "JSON parse error - the body is not utf-8 text."}


@pytest.mark.parametrize("charset", ["bz2_codec", "base64"])
def test_a_charset_that_is_not_a_text_encoding_is_a_400(integration_api, survey, charset):
    """Django ignores a charset it does not know; these it knows, as codecs that do not decode text."""
    body = json.dumps(response_item(3)).encode()

    reply = integration_api.post(RESPONSES, body, content_type=f"application/json; charset={charset}")

    assert reply.status_code == 400
    assert reply.json() == {"detail": f"Unsupported charset '{charset}' in the Content-Type header."}
    assert not Response.objects.exists()


# Body size


def test_a_body_over_the_limit_is_a_json_413_on_api_endpoints(integration_api, anonymous_api, survey):
    item = response_item(3, customer="C-1", external_id="big")
    body = json.dumps(item) + " " * DEFAULT_LIMIT

    ingest = post_text(integration_api, RESPONSES, body)
    sign_in = post_text(anonymous_api, TOKEN, '{"username": "maya", "password": "x"}' + " " * DEFAULT_LIMIT)

    for reply in (ingest, sign_in):
        assert reply.status_code == 413
        assert reply.json() == {"detail": "The request body is larger than this endpoint accepts (2.62 MB at most)."}
    assert not Response.objects.exists()


def test_a_body_just_under_the_limit_is_read(integration_api, survey):
    body = json.dumps(response_item(3, customer="C-1"))

    reply = post_text(integration_api, RESPONSES, body + " " * (DEFAULT_LIMIT - len(body)))

    assert reply.status_code == 201


@pytest.mark.parametrize("encoding", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_form_over_the_limit_is_a_413_page(client, maya, encoding):
    fields = {"username": "maya", "password": "x" * DEFAULT_LIMIT}
    if encoding == "multipart/form-data":
        reply = client.post(reverse("login"), fields)  # the test client's default encoding
    else:
        reply = client.post(reverse("login"), urlencode(fields), content_type=encoding)

    assert reply.status_code == 413
    assert reply["Content-Type"].startswith("text/html")
    assert b"What you sent is too large" in reply.content
    assert b"2.62 MB at most" in reply.content


def test_multipart_fields_over_the_limit_are_a_json_413(manager_api):
    reply = manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "x" * DEFAULT_LIMIT}, format="multipart")

    assert reply.status_code == 413
    assert reply.json() == {"detail": "The request body is larger than this endpoint accepts (2.62 MB at most)."}
    assert not Team.objects.exists()


def test_a_multipart_body_under_the_limit_is_read_as_before(manager_api):
    # The middleware reads multipart bodies first; the view must still find the fields.
    reply = manager_api.post("/api/v1/teams/", {"slug": "emea", "name": "EMEA"}, format="multipart")

    assert reply.status_code == 201
    assert Team.objects.get().name == "EMEA"


def test_a_form_body_over_the_site_limit_is_a_json_413_on_the_bulk_endpoint(integration_api, survey):
    """The bulk endpoint reads large JSON bodies; a form body goes through Django's own limit."""
    body = urlencode({"responses": "x" * DEFAULT_LIMIT})

    reply = integration_api.post(BULK, body, content_type="application/x-www-form-urlencoded")

    assert reply.status_code == 413
    assert reply.json() == {"detail": "The request body is larger than this endpoint accepts (2.62 MB at most)."}


def test_a_form_of_too_many_fields_is_a_json_400(manager_api):
    fields = "&".join(f"f{n}=1" for n in range(1001))

    reply = manager_api.post("/api/v1/teams/", fields, content_type="application/x-www-form-urlencoded")

    assert reply.status_code == 400
    assert reply.json() == {"detail": "Too many fields: at most 1000."}


# Times out of range


EARLY_TIMES = ["0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00-05:00", "1999-12-31T23:59:59Z"]


@pytest.mark.parametrize("submitted_at", [*EARLY_TIMES, "2000-01-01T04:00:00+05:00"])
def test_a_time_before_2000_is_refused_by_the_api(integration_api, survey, submitted_at):
    item = response_item(3, customer="C-1", submitted_at=submitted_at)

    single = integration_api.post(RESPONSES, item, format="json")
    bulk = integration_api.post(BULK, {"responses": [item] * 3}, format="json")

    assert single.status_code == 400
    assert single.json() == {"submitted_at": ["Must not be before 2000-01-01 (UTC)."]}
    assert bulk.status_code == 200
    assert [rejected["index"] for rejected in bulk.json()["rejected"]] == [0, 1, 2]
    assert not Response.objects.exists()


def test_midnight_of_2000_in_utc_is_accepted(integration_api, survey):
    reply = integration_api.post(RESPONSES, response_item(3, submitted_at="2000-01-01T00:00:00Z"), format="json")

    assert reply.status_code == 201


def test_a_csv_row_from_year_one_is_a_row_error(survey):
    data = b"customer_id,score,submitted_at\nC-1,3,0001-01-01T00:00:00+05:00\nC-2,9,0001-01-01\nC-3,8,2026-11-20\n"
    job = import_job_create(survey=survey, data=data, file_name="old.csv", enqueue=False)

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJob.Status.DONE
    assert job.created == 1
    assert [row["line"] for row in job.rejected] == [2, 3]
    assert job.rejected[0]["errors"] == {"submitted_at": ["Must not be before 2000-01-01 (UTC)."]}
    assert list(Response.objects.values_list("customer__external_id", flat=True)) == ["C-3"]


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00-05:00", "9999-12-31T23:59:59-05:00", "99999-01-01"]
)
@pytest.mark.parametrize(
    "url", [RESPONSES, "/api/v1/nps/", "/api/v1/nps/?group_by=day", "/api/v1/nps/?group_by=quarter"]
)
@pytest.mark.parametrize("name", ["submitted_after", "submitted_before"])
def test_time_filters_at_the_ends_of_the_calendar_never_fail(manager_api, survey, url, name, value):
    """A guard: filters compare in SQL, where year 1 and 9999 at any offset are ordinary times."""
    separator = "&" if "?" in url else "?"

    reply = manager_api.get(url + separator, {name: value})

    assert reply.status_code in {200, 400}


# Unique values claimed at once


def _create_at_once(maya, url: str, body: dict[str, Any], times: int = 8) -> list[Any]:
    def create() -> Any:
        client = APIClient()
        client.force_authenticate(maya)
        return client.post(url, body, format="json")

    return at_once(*[create] * times)


CREATES = {
    "survey": ("/api/v1/surveys/", {"slug": "pulse", "name": "Pulse"}, "slug", Survey.objects),
    "team": ("/api/v1/teams/", {"slug": "emea", "name": "EMEA"}, "slug", Team.objects),
    # The default taxonomy may be stored too (a flushed database lacks it): count only this slug.
    "root cause": (
        "/api/v1/root-causes/",
        {"slug": "vpn", "name": "VPN"},
        "slug",
        RootCause.objects.filter(slug="vpn"),
    ),
    "resolution code": (
        "/api/v1/resolution-codes/",
        {"slug": "done", "name": "Done"},
        "slug",
        ResolutionCode.objects,
    ),
    "user": (
        "/api/v1/users/",
        {"username": "agent9", "password": "a-decent-passphrase-7", "role": "agent"},
        "username",
        get_user_model().objects.exclude(username="maya"),
    ),
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("create", CREATES.values(), ids=CREATES.keys())
def test_eight_managers_creating_the_same_one_at_once_get_one_201_and_400s(maya, create):
    url, body, field, stored = create

    replies = _create_at_once(maya, url, body)

    assert sorted(reply.status_code for reply in replies) == [201] + [400] * 7
    for reply in replies:
        if reply.status_code == 400:
            assert "already exists" in reply.json()[field][0]
    assert stored.count() == 1


def test_creating_one_that_exists_is_the_same_400(manager_api):
    for url, body, field, _stored in CREATES.values():
        assert manager_api.post(url, body, format="json").status_code == 201
        again = manager_api.post(url, body, format="json")
        assert again.status_code == 400
        assert "already exists" in again.json()[field][0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_first_teams_created_at_once_are_all_created_and_one_is_the_default(maya):
    def create(number: int) -> Any:
        client = APIClient()
        client.force_authenticate(maya)
        return client.post("/api/v1/teams/", {"slug": f"team-{number}", "name": f"Team {number}"}, format="json")

    replies = at_once(*[partial(create, number) for number in range(8)])

    assert [reply.status_code for reply in replies] == [201] * 8
    assert Team.objects.count() == 8
    assert Team.objects.filter(is_default=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_teams_marked_default_at_once_leave_exactly_one_default(maya):
    for number in range(8):
        Team.objects.create(slug=f"team-{number}", name=f"Team {number}", is_default=number == 0)

    def mark(number: int) -> Any:
        client = APIClient()
        client.force_authenticate(maya)
        return client.patch(f"/api/v1/teams/team-{number}/", {"default": True}, format="json")

    replies = at_once(*[partial(mark, number) for number in range(1, 8)])

    assert [reply.status_code for reply in replies] == [200] * 7
    assert Team.objects.filter(is_default=True).count() == 1
