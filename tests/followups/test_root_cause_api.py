"""/api/v1/root-causes/: the taxonomy for every role that reads, its changes and merges for managers."""

from __future__ import annotations

import pytest

from followups.models import ResponseRootCause, RootCause, RootCauseMerge
from tests.factories import make_response

pytestmark = pytest.mark.django_db

LIST = "/api/v1/root-causes/"


def _detail(slug: str) -> str:
    return f"{LIST}{slug}/"


def _all(api, query: str = "") -> list[dict]:
    reply = api.get(LIST + "?page_size=500" + query)
    assert reply.status_code == 200, reply.json()
    return reply.json()["results"]


# Reading


@pytest.mark.parametrize("client", ["manager_api", "agent_api", "integration_api"])
def test_every_role_that_reads_responses_reads_the_taxonomy(request, taxonomy, client):
    api = request.getfixturevalue(client)
    hardware = api.get(_detail("hardware")).json()
    assert hardware == {
        "slug": "hardware",
        "name": "Laptop and hardware",
        "parent": "technology",
        "description": taxonomy["hardware"].description,
        "keywords": taxonomy["hardware"].keywords,
        "active": True,
        "merged_into": None,
    }
    assert {row["slug"] for row in _all(api)} >= {"people", "hardware", "vpn-access"}


def test_no_role_and_anonymous_clients_read_nothing(no_role_api, anonymous_api, taxonomy):
    assert no_role_api.get(LIST).status_code == 403
    assert no_role_api.get(_detail("hardware")).status_code == 403
    assert anonymous_api.get(_detail("hardware")).status_code == 401


def test_the_list_filters_by_active_parent_and_kind(agent_api, taxonomy):
    RootCause.objects.filter(slug="network").update(active=False)

    technology = {row["slug"] for row in _all(agent_api, "&parent=technology")}
    assert technology == {"hardware", "vpn-access", "password-reset", "email-calendar", "network"}
    active = {row["slug"] for row in _all(agent_api, "&parent=technology&active=true")}
    assert active == technology - {"network"}
    assert {row["slug"] for row in _all(agent_api, "&active=false")} >= {"network"}
    assert all(row["parent"] is None for row in _all(agent_api, "&kind=category"))
    assert all(row["parent"] is not None for row in _all(agent_api, "&kind=cause"))
    assert agent_api.get(LIST + "?active=maybe").json() == {"active": ["Must be true or false."]}
    assert agent_api.get(LIST + "?kind=bone").status_code == 400


def test_an_unknown_slug_is_a_404(agent_api, manager_api, taxonomy):
    assert agent_api.get(_detail("nope")).status_code == 404
    assert manager_api.patch(_detail("nope"), {"name": "X"}, format="json").status_code == 404
    assert manager_api.post(_detail("nope") + "merge/", {"into": "hardware"}, format="json").status_code == 404


# Creating and changing


def test_a_manager_creates_a_cause_under_a_category(manager_api, taxonomy):
    body = {"slug": "toner", "name": "Toner", "parent": "technology", "keywords": ["Toner", "ink"]}

    reply = manager_api.post(LIST, body, format="json")

    assert reply.status_code == 201
    assert reply.json() == {
        "slug": "toner",
        "name": "Toner",
        "parent": "technology",
        "description": "",
        "keywords": ["toner", "ink"],
        "active": True,
        "merged_into": None,
    }


def test_a_cause_under_a_cause_is_a_400_naming_the_parent(manager_api, taxonomy):
    reply = manager_api.post(LIST, {"slug": "ink", "name": "Ink", "parent": "hardware"}, format="json")

    assert reply.status_code == 400
    assert list(reply.json()) == ["parent"]
    assert not RootCause.objects.filter(slug="ink").exists()


def test_a_manager_renames_moves_and_deactivates_a_cause(manager_api, taxonomy):
    url = _detail("email-calendar")

    reply = manager_api.patch(url, {"name": "Mail", "parent": "product", "keywords": ["mail"]}, format="json")
    assert reply.status_code == 200
    assert (reply.json()["name"], reply.json()["parent"], reply.json()["keywords"]) == ("Mail", "product", ["mail"])

    reply = manager_api.patch(url, {"active": False, "slug": "email-calendar"}, format="json")
    assert (reply.status_code, reply.json()["active"]) == (200, False)
    reply = manager_api.patch(url, {"parent": None}, format="json")
    assert (reply.status_code, reply.json()["parent"]) == (200, None)


@pytest.mark.parametrize(
    ("slug", "body", "field"),
    [
        ("hardware", {"slug": "laptops"}, "slug"),
        ("hardware", {"parent": "network"}, "parent"),
        ("people", {"parent": "process"}, "parent"),
        ("hardware", {"parent": "ghost"}, "parent"),
        ("hardware", {"name": ""}, "name"),
        ("hardware", {"keywords": "vpn"}, "keywords"),
    ],
)
def test_bad_changes_are_400s_naming_the_field_and_change_nothing(manager_api, taxonomy, slug, body, field):
    before = RootCause.objects.values().get(slug=slug)

    reply = manager_api.patch(_detail(slug), body, format="json")

    assert reply.status_code == 400
    assert list(reply.json()) == [field]
    assert RootCause.objects.values().get(slug=slug) == before


def test_agents_and_integrations_cannot_change_the_taxonomy(agent_api, integration_api, taxonomy):
    for api in (agent_api, integration_api):
        assert api.post(LIST, {"slug": "x", "name": "X"}, format="json").status_code == 403
        assert api.patch(_detail("hardware"), {"name": "X"}, format="json").status_code == 403
        assert api.post(_detail("hardware") + "merge/", {"into": "network"}, format="json").status_code == 403
    assert RootCause.objects.get(slug="hardware").name == "Laptop and hardware"
    assert not RootCauseMerge.objects.exists()


# Merging


def test_a_manager_merges_a_cause_and_gets_the_survivor_and_the_codes_moved(manager_api, maya, taxonomy, survey):
    a, b = make_response(2), make_response(3)
    ResponseRootCause.objects.bulk_create(
        [
            ResponseRootCause(response=a, root_cause=taxonomy["network"]),
            ResponseRootCause(response=b, root_cause=taxonomy["network"]),
            ResponseRootCause(response=b, root_cause=taxonomy["vpn-access"]),
        ]
    )

    reply = manager_api.post(_detail("network") + "merge/", {"into": "vpn-access"}, format="json")

    assert reply.status_code == 200
    body = reply.json()
    assert body["into"]["slug"] == "vpn-access" and body["into"]["active"] is True
    assert (body["merged"]["slug"], body["merged"]["active"], body["merged"]["merged_into"]) == (
        "network",
        False,
        "vpn-access",
    )
    assert (body["codes_moved"], body["duplicates_collapsed"], body["causes_moved"]) == (1, 1, 0)
    assert body["merged_by"] == "maya"
    assert manager_api.get(_detail("network")).json()["merged_into"] == "vpn-access"
    listed = manager_api.get("/api/v1/responses/?root_cause=vpn-access").json()["results"]
    assert {row["id"] for row in listed} == {a.pk, b.pk}


@pytest.mark.parametrize(
    ("slug", "into", "status", "key"),
    [
        ("network", "network", 400, "into"),
        ("network", "ghost", 400, "into"),
        ("network", "technology", 400, "into"),
        ("network", "", 400, "into"),
    ],
)
def test_bad_merges_are_400s(manager_api, taxonomy, slug, into, status, key):
    reply = manager_api.post(_detail(slug) + "merge/", {"into": into}, format="json")

    assert (reply.status_code, list(reply.json())) == (status, [key])
    assert not RootCauseMerge.objects.exists()
    assert RootCause.objects.get(slug=slug).active


def test_merging_into_a_retired_cause_or_reactivating_a_merged_one_is_a_409(manager_api, taxonomy):
    manager_api.patch(_detail("hardware"), {"active": False}, format="json")
    assert manager_api.post(_detail("network") + "merge/", {"into": "hardware"}, format="json").status_code == 409

    assert manager_api.post(_detail("network") + "merge/", {"into": "vpn-access"}, format="json").status_code == 200
    assert manager_api.post(_detail("network") + "merge/", {"into": "email-calendar"}, format="json").status_code == 409
    assert manager_api.post(_detail("password-reset") + "merge/", {"into": "network"}, format="json").status_code == 409
    reply = manager_api.patch(_detail("network"), {"active": True}, format="json")
    assert (reply.status_code, list(reply.json())) == (409, ["detail"])
    assert RootCauseMerge.objects.count() == 1


# Codes on cases


def test_a_cases_codes_say_who_coded_them_how_and_when(open_case, alice, maya, taxonomy):
    from rest_framework.test import APIClient

    case = open_case()
    url = f"/api/v1/cases/{case.pk}/"
    as_agent, as_manager = APIClient(), APIClient()
    as_agent.force_authenticate(alice)
    as_manager.force_authenticate(maya)

    assert as_agent.put(url + "root-causes/", {"root_causes": ["hardware"]}, format="json").status_code == 200
    reply = as_manager.put(url + "root-causes/", {"root_causes": ["hardware", "network"]}, format="json")

    codes = {code["root_cause"]: code for code in reply.json()["root_cause_codes"]}
    assert reply.json()["root_causes"] == ["hardware", "network"]
    assert (codes["hardware"]["source"], codes["hardware"]["coded_by"]) == ("agent", "alice")
    assert (codes["network"]["source"], codes["network"]["coded_by"]) == ("manager", "maya")
    assert codes["network"]["coded_at"]
    assert as_agent.put(url + "root-causes/", {"root_causes": ["hardware"]}, format="json").status_code == 200
    assert [c["source"] for c in as_agent.get(url).json()["root_cause_codes"]] == ["agent"]
