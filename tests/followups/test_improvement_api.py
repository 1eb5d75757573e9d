"""The improvements API: the board ranked by priority, creating, reading and changing one, who may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from followups.models import Improvement, ImprovementStatusChange, ResponseRootCause, RootCause
from tests.factories import make_response

LIST = "/api/v1/improvements/"


def detail(pk: int) -> str:
    return f"{LIST}{pk}/"


def respond(score: int, *slugs: str, customer: str | None = None):
    response = make_response(score, customer=customer, submitted_at=timezone.now() - timedelta(days=3))
    causes = RootCause.objects.in_bulk(slugs, field_name="slug")
    ResponseRootCause.objects.bulk_create(ResponseRootCause(response=response, root_cause=causes[s]) for s in slugs)


@pytest.fixture
def created(manager_api, taxonomy, alice) -> dict:
    reply = manager_api.post(
        LIST,
        {
            "title": "Answer within the hour",
            "description": "More people on the morning shift.",
            "root_causes": ["slow-response", "no-updates"],
            "owner": "alice",
            "target_date": "2027-01-31",
            "customer_message": "We now answer within an hour.",
        },
        format="json",
    )
    assert reply.status_code == 201, reply.json()
    return reply.json()


def test_a_manager_creates_an_improvement_with_its_first_history_step(created):
    assert created["title"] == "Answer within the hour"
    assert created["root_causes"] == ["no-updates", "slow-response"]
    assert created["owner"] == "alice"
    assert created["status"] == "proposed"
    assert created["target_date"] == "2027-01-31"
    assert created["lookback_days"] == 365
    assert created["shipped_at"] is None
    assert [(s["from"], s["to"], s["actor"]) for s in created["status_history"]] == [("", "proposed", "maya")]
    assert created["deliveries"] == {"pending": 0, "sent": 0, "failed": 0, "suppressed": 0}
    assert created["priority"] == {
        "score": 0.0,
        "computed": 0.0,
        "override": None,
        "reason": "",
        "explanation": "Raised by no customer yet; score 0.",
    }


def test_the_list_is_ranked_by_priority_and_filtered(manager_api, agent_api, taxonomy, survey, created):
    respond(0, "vpn-access", customer="A")
    respond(0, "vpn-access", customer="B")
    respond(1, "slow-response", customer="C")
    respond(10, customer="D")
    vpn = manager_api.post(LIST, {"title": "VPN", "root_causes": ["technology"]}, format="json").json()
    manager_api.post(LIST, {"title": "Nothing yet"}, format="json")

    page = agent_api.get(LIST).json()
    assert page["count"] == 3
    assert [row["title"] for row in page["results"]] == ["VPN", "Answer within the hour", "Nothing yet"]
    assert page["results"][0]["priority"]["explanation"].startswith("Raised by 2 customers; their themes cost")

    assert [r["id"] for r in agent_api.get(LIST, {"root_cause": "vpn-access"}).json()["results"]] == [vpn["id"]]
    assert [r["id"] for r in agent_api.get(LIST, {"owner": "alice"}).json()["results"]] == [created["id"]]
    assert agent_api.get(LIST, {"owner": "none"}).json()["count"] == 2
    assert agent_api.get(LIST, {"status": "planned,declined"}).json()["count"] == 0
    assert agent_api.get(LIST, {"status": "done"}).status_code == 400


def test_patch_changes_fields_status_and_priority_together(manager_api, created):
    reply = manager_api.patch(
        detail(created["id"]),
        {
            "title": "Answer in an hour",
            "owner": None,
            "status": "planned",
            "priority": {"override": 90, "reason": "CEO"},
        },
        format="json",
    )
    assert reply.status_code == 200, reply.json()
    body = reply.json()
    assert (body["title"], body["owner"], body["status"]) == ("Answer in an hour", None, "planned")
    assert [(s["from"], s["to"]) for s in body["status_history"]] == [("", "proposed"), ("proposed", "planned")]
    assert body["priority"]["score"] == 90 and body["priority"]["reason"] == "CEO"
    assert body["priority"]["explanation"].startswith("Score 90 set by a manager: CEO. Computed: raised by")

    cleared = manager_api.patch(detail(created["id"]), {"priority": {"override": None}}, format="json").json()
    assert cleared["priority"]["override"] is None and cleared["priority"]["score"] == 0


def test_patch_to_shipped_is_a_400_naming_the_ship_endpoint(manager_api, created):
    reply = manager_api.patch(detail(created["id"]), {"status": "shipped", "title": "Changed"}, format="json")
    assert reply.status_code == 400
    assert f"POST /api/v1/improvements/{created['id']}/ship/" in reply.json()["status"][0]
    assert Improvement.objects.get(pk=created["id"]).title == "Answer within the hour"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"root_causes": ["nope"]}, "root_causes", 400),
        ({"owner": "ghost"}, "owner", 400),
        ({"priority": {"override": 5}}, "reason", 400),
        ({"lookback_days": 0}, "lookback_days", 400),
        ({"title": ""}, "title", 400),
        ({"status": "declined", "owner": "ghost"}, "owner", 400),
    ],
)
def test_bad_changes_are_4xx_naming_the_field_and_store_nothing(manager_api, created, body, field, code):
    reply = manager_api.patch(detail(created["id"]), body, format="json")
    assert reply.status_code == code
    assert field in str(reply.json())
    assert manager_api.get(detail(created["id"])).json() == created | {"priority": created["priority"]}
    assert ImprovementStatusChange.objects.count() == 1


def test_a_move_the_lifecycle_forbids_is_a_409(manager_api, created):
    manager_api.patch(detail(created["id"]), {"status": "declined"}, format="json")
    reply = manager_api.patch(detail(created["id"]), {"status": "in_progress"}, format="json")
    assert reply.status_code == 409
    assert "declined to in_progress" in reply.json()["detail"]


def test_agents_read_and_only_managers_write(agent_api, integration_api, anonymous_api, created):
    assert agent_api.get(detail(created["id"])).json()["id"] == created["id"]
    assert agent_api.patch(detail(created["id"]), {"title": "x"}, format="json").status_code == 403
    assert agent_api.post(LIST, {"title": "x"}, format="json").status_code == 403
    assert integration_api.get(LIST).status_code == 403
    assert anonymous_api.get(LIST).status_code in {401, 403}
    assert agent_api.get(detail(created["id"] + 1000)).status_code == 404


def test_a_merge_moves_improvement_links_and_the_taxonomy_page_counts_them(manager_api, maya, created, client):
    reply = manager_api.post("/api/v1/root-causes/no-updates/merge/", {"into": "no-time-estimate"}, format="json")
    assert reply.status_code == 200, reply.json()
    assert reply.json()["improvement_links_moved"] == 1
    assert manager_api.get(detail(created["id"])).json()["root_causes"] == ["no-time-estimate", "slow-response"]
    client.force_login(maya)
    html = client.get("/taxonomy/").content.decode()
    assert '<td class="num" data-label="Improvement links moved">1</td>' in html
