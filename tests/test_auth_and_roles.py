"""Token sign-in, anonymous access, and the three roles of API.md across the endpoints."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import PASSWORD, response_item


def test_the_token_endpoint_trades_credentials_for_a_token_that_works(maya, survey):
    client = APIClient()
    reply = client.post("/api/v1/auth/token/", {"username": "maya", "password": PASSWORD}, format="json")
    assert reply.status_code == 200
    token = reply.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/surveys/").status_code == 200


def test_wrong_credentials_get_a_400_and_no_token(maya):
    reply = APIClient().post("/api/v1/auth/token/", {"username": "maya", "password": "nope"}, format="json")
    assert reply.status_code == 400
    assert "token" not in reply.json()


def test_a_bad_token_is_a_401(survey):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert client.get("/api/v1/surveys/").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/responses/",
        "/api/v1/nps/",
        "/api/v1/surveys/",
        "/api/v1/users/",
        "/api/v1/teams/",
        "/api/v1/root-causes/",
        "/api/v1/themes/",
    ],
)
def test_anonymous_clients_get_401(anonymous_api, db, url):
    assert anonymous_api.get(url).status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/docs/"])
def test_schema_and_docs_are_public(anonymous_api, db, url):
    assert anonymous_api.get(url).status_code == 200


def test_the_schema_describes_the_contract(anonymous_api, db):
    schema = anonymous_api.get("/api/v1/schema/?format=json").json()
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/responses/",
        "/api/v1/responses/bulk/",
        "/api/v1/nps/",
        "/api/v1/surveys/",
        "/api/v1/surveys/{slug}/",
        "/api/v1/users/",
        "/api/v1/teams/",
        "/api/v1/teams/{slug}/",
        "/api/v1/root-causes/",
        "/api/v1/root-causes/{slug}/",
        "/api/v1/root-causes/{slug}/merge/",
        "/api/v1/themes/",
        "/api/v1/responses/{response_id}/root-causes/",
        "/api/v1/responses/{response_id}/suggestions/",
        "/api/v1/suggestions/model/",
        "/api/v1/suggestions/train/",
    ]:
        assert path in schema["paths"], path


ROLE_MATRIX = [
    # (client fixture, may ingest, may read responses and NPS, may manage users)
    ("manager_api", True, True, True),
    ("agent_api", False, True, False),
    ("integration_api", True, True, False),
    ("no_role_api", False, False, False),
]


@pytest.mark.parametrize(("client", "ingest", "read", "manage"), ROLE_MATRIX)
def test_each_role_gets_exactly_its_permissions(request, survey, client, ingest, read, manage):
    api = request.getfixturevalue(client)
    posted = api.post("/api/v1/responses/", response_item(5), format="json")
    assert posted.status_code == (201 if ingest else 403)
    bulk = api.post("/api/v1/responses/bulk/", {"responses": [response_item(5)]}, format="json")
    assert bulk.status_code == (200 if ingest else 403)
    for url in ["/api/v1/responses/", "/api/v1/nps/", "/api/v1/surveys/"]:
        assert api.get(url).status_code == (200 if read else 403), url
    assert api.get("/api/v1/users/").status_code == (200 if manage else 403)
    created = api.post("/api/v1/surveys/", {"slug": f"s-{client}", "name": "S"}, format="json")
    assert created.status_code == (201 if manage else 403)


def test_a_superuser_counts_as_a_manager(db, survey):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    api = APIClient()
    api.force_authenticate(root)
    assert api.get("/api/v1/users/").status_code == 200
    assert api.post("/api/v1/responses/", response_item(3), format="json").status_code == 201


def test_createsuperuser_noinput_works_from_the_environment(db, monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password-1")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    call_command("createsuperuser", "--noinput", verbosity=0)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("a-long-admin-password-1")


def test_managers_use_the_admin_and_agents_cannot(client, maya, alice, survey):
    client.force_login(maya)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/surveys/survey/").status_code == 200
    assert client.get(f"/admin/surveys/survey/{survey.pk}/change/").status_code == 200
    client.force_login(alice)
    assert client.get("/admin/surveys/survey/").status_code == 302  # to the admin sign-in


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nps/?group_by=attribute:a%00b",
        "/api/v1/responses/?root_cause=%00",
        "/api/v1/responses/?customer=x%00",
        "/api/v1/teams/a%00/",
        "/queue/?status=%00",
    ],
)
def test_nul_characters_in_a_request_are_a_400(manager_api, survey, url):
    reply = manager_api.get(url)
    assert reply.status_code == 400
    assert reply.json() == {"detail": "NUL characters are not allowed in a request."}


def test_a_page_number_past_any_list_is_a_404_not_an_error(manager_api, survey):
    assert manager_api.get("/api/v1/cases/?page=999999999999999999999").status_code == 404
    assert manager_api.get("/api/v1/cases/?page=abc").status_code == 200


def _token_client(user) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_a_token_brings_every_role_of_its_user_and_only_those(alice, survey):
    """The token query reads the user's groups in the same query: one row per group."""
    from django.contrib.auth.models import Group

    assert _token_client(alice).post("/api/v1/responses/", response_item(5), format="json").status_code == 403
    alice.groups.add(Group.objects.get_or_create(name="integration")[0], Group.objects.create(name="vip"))
    api = _token_client(alice)
    assert api.post("/api/v1/responses/", response_item(5), format="json").status_code == 201
    assert api.get("/api/v1/cases/").status_code == 200  # still an agent
    assert api.get("/api/v1/users/").status_code == 403  # "vip" is no role


def test_a_token_of_a_user_without_groups_or_inactive(olga, maya, survey):
    from django.contrib.auth import get_user_model

    assert _token_client(olga).get("/api/v1/surveys/").status_code == 403
    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    assert _token_client(root).get("/api/v1/users/").status_code == 200
    api = _token_client(maya)
    # An update that bypasses save() (and so the token's revocation) still leaves it powerless.
    get_user_model().objects.filter(pk=maya.pk).update(is_active=False)
    reply = api.get("/api/v1/surveys/")
    assert (reply.status_code, reply.json()) == (401, {"detail": "User inactive or deleted."})
