"""The case endpoints of API.md: filters, order, detail, actions, errors and the role matrix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followups.models import Case
from followups.services.cases import case_root_causes_set, case_transition
from followups.services.coding import resolution_code_create
from followups.services.teams import team_update
from tests.factories import make_cause, make_user

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def cases(open_case, alice, bob):
    """Three cases, opened an hour apart: alice owns the first (hot), bob the second, lena the third."""
    made = [open_case(2, now=MONDAY_10), open_case(5, now=MONDAY_10 + timedelta(hours=1))]
    made += [open_case(6, now=MONDAY_10 + timedelta(hours=2))]
    return made


def test_list_is_ordered_by_the_next_deadline_and_filters_by_owner(agent_api, cases, alice):
    data = agent_api.get("/api/v1/cases/?owner=me").json()
    ids = [row["id"] for row in data["results"]]
    mine = Case.objects.filter(owner=alice).order_by("next_due")
    assert ids == [case.pk for case in mine]
    assert set(data) >= {"next", "previous", "results"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("priority=hot", lambda cs: [c for c in cs if c.priority == "hot"]),
        ("status=new", lambda cs: cs),
        ("status=contacted,resolved", lambda cs: []),
        ("open=true", lambda cs: cs),
        ("open=false", lambda cs: []),
        ("team=desk", lambda cs: cs),
        ("owner=bob", lambda cs: [c for c in cs if c.owner.username == "bob"]),
        ("owner=none", lambda cs: []),
    ],
)
def test_filters(manager_api, cases, query, expected):
    got = {row["id"] for row in manager_api.get(f"/api/v1/cases/?{query}").json()["results"]}
    assert got == {case.pk for case in expected(cases)}


def test_overdue_filter_and_flags(manager_api, cases):
    first = cases[0]
    with time_machine.travel(first.first_contact_due + timedelta(minutes=1), tick=False):
        rows = manager_api.get("/api/v1/cases/?overdue=true").json()["results"]
    assert [row["id"] for row in rows] == [first.pk]
    assert rows[0]["overdue"] is True


def test_at_risk_shows_before_the_deadline(manager_api, cases):
    case = cases[0]
    with time_machine.travel(case.first_contact_due - timedelta(minutes=10), tick=False):
        row = manager_api.get(f"/api/v1/cases/{case.pk}/").json()
    assert row["at_risk"] is True
    assert row["overdue"] is False
    with time_machine.travel(case.created_at + timedelta(minutes=1), tick=False):
        assert manager_api.get(f"/api/v1/cases/{case.pk}/").json()["at_risk"] is False


def test_detail_has_the_documented_fields(agent_api, cases):
    case = cases[0]
    data = agent_api.get(f"/api/v1/cases/{case.pk}/").json()
    for field in [
        "response",
        "owner",
        "team",
        "status",
        "priority",
        "first_contact_due",
        "resolution_due",
        "first_contacted_at",
        "resolved_at",
        "closed_at",
        "breached",
        "root_causes",
        "events",
        "at_risk",
    ]:
        assert field in data, field
    assert data["response"]["customer"]["external_id"] == case.response.customer.external_id
    assert data["response"]["score"] == 2
    assert data["owner"] == "alice"
    assert data["team"] == "desk"
    assert data["breached"] == []
    assert [e["kind"] for e in data["events"]] == ["created", "assigned"]
    assert data["allowed_transitions"] == ["contacted", "closed"]


@time_machine.travel(MONDAY_10 + timedelta(hours=3))
def test_the_whole_loop_through_the_api(agent_api, cases):
    resolution_code_create(slug="fixed", name="Fixed")
    make_cause("vpn", "VPN")
    case = cases[0]
    url = f"/api/v1/cases/{case.pk}/"
    assert (
        agent_api.post(
            url + "transition/", {"to": "contacted", "note": "Called, apologised"}, format="json"
        ).status_code
        == 200
    )
    assert agent_api.post(url + "notes/", {"text": "Token reset"}, format="json").status_code == 201
    reply = agent_api.put(url + "root-causes/", {"root_causes": ["vpn"]}, format="json")
    assert reply.json()["root_causes"] == ["vpn"]
    reply = agent_api.post(url + "transition/", {"to": "resolved", "resolution_code": "fixed"}, format="json")
    assert reply.json()["status"] == "resolved"
    assert reply.json()["resolution_code"] == "fixed"
    events = agent_api.get(url + "events/").json()["results"]
    assert [e["kind"] for e in events] == [
        "created",
        "assigned",
        "status_changed",
        "note",
        "root_causes_changed",
        "status_changed",
    ]
    assert events[2]["details"] == {"note": "Called, apologised"}
    assert events[2]["actor"] == "alice"
    assert agent_api.get("/api/v1/resolution-codes/").json()["results"][0]["slug"] == "fixed"


def test_invalid_moves_are_409_and_bad_bodies_400(agent_api, cases):
    url = f"/api/v1/cases/{cases[0].pk}/"
    reply = agent_api.post(url + "transition/", {"to": "resolved"}, format="json")
    assert reply.status_code == 409
    assert "detail" in reply.json()
    assert agent_api.post(url + "transition/", {"to": "done"}, format="json").status_code == 400
    assert agent_api.post(url + "transition/", {}, format="json").status_code == 400
    assert agent_api.post(url + "transition/", {"to": "closed"}, format="json").json() == {
        "reason": ["Say why a case closes without resolution."]
    }
    assert agent_api.post(url + "notes/", {"text": ""}, format="json").status_code == 400
    assert agent_api.put(url + "root-causes/", {"root_causes": "vpn"}, format="json").status_code == 400
    assert agent_api.put(url + "root-causes/", {"root_causes": ["nope"]}, format="json").status_code == 400
    assert agent_api.post(url + "assign/", {"owner": "ghost"}, format="json").status_code in (400, 403)
    assert agent_api.post(url + "transition/", "not json", content_type="application/json").status_code == 400
    assert agent_api.get("/api/v1/cases/?status=lost").status_code == 400
    assert agent_api.get("/api/v1/cases/?open=maybe").json() == {"open": ["Must be true or false."]}
    assert agent_api.get("/api/v1/cases/?overdue=2").status_code == 400
    assert agent_api.get("/api/v1/cases/999999/").status_code == 404
    assert Case.objects.get(pk=cases[0].pk).status == "new"


ROLE_MATRIX = [
    # client, read list/detail, act on alice's case, reassign alice's case to bob
    ("manager_api", 200, 200, 200),
    ("agent_api", 200, 200, 403),  # alice: her own case; reassigning it is for leads and managers
    ("integration_api", 403, 403, 403),
    ("no_role_api", 403, 403, 403),
    ("anonymous_api", 401, 401, 401),
]


@pytest.mark.parametrize(("client", "read", "act", "reassign"), ROLE_MATRIX)
def test_role_matrix(request, cases, client, read, act, reassign):
    api = request.getfixturevalue(client)
    case = cases[0]
    url = f"/api/v1/cases/{case.pk}/"
    assert api.get("/api/v1/cases/").status_code == read
    assert api.get(url).status_code == read
    assert api.get(url + "events/").status_code == read
    assert api.post(url + "notes/", {"text": "hello"}, format="json").status_code == (201 if act == 200 else act)
    assert api.post(url + "transition/", {"to": "contacted"}, format="json").status_code == act
    assert api.post(url + "assign/", {"owner": "bob"}, format="json").status_code == reassign


def test_an_agent_cannot_act_on_a_colleagues_case(cases, bob):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(bob)
    alices = cases[0]
    url = f"/api/v1/cases/{alices.pk}/"
    assert api.post(url + "transition/", {"to": "contacted"}, format="json").status_code == 403
    assert api.post(url + "notes/", {"text": "x"}, format="json").status_code == 403
    assert api.post(url + "assign/", {"owner": "bob"}, format="json").status_code == 403


def test_agents_may_take_unowned_cases_and_leads_reassign(cases, bob, lena):
    from rest_framework.test import APIClient

    Case.objects.filter(pk=cases[0].pk).update(owner=None)
    as_bob, as_lena = APIClient(), APIClient()
    as_bob.force_authenticate(bob)
    as_lena.force_authenticate(lena)
    url = f"/api/v1/cases/{cases[0].pk}/assign/"
    assert as_bob.post(url, {"owner": "lena"}, format="json").status_code == 403  # only for himself
    assert as_bob.post(url, {"owner": "bob"}, format="json").json()["owner"] == "bob"
    assert as_lena.post(url, {"owner": "alice"}, format="json").json()["owner"] == "alice"  # the team lead


def test_assigning_to_someone_who_cannot_own_cases_is_400(manager_api, cases, izzy):
    reply = manager_api.post(f"/api/v1/cases/{cases[0].pk}/assign/", {"owner": "izzy"}, format="json")
    assert reply.status_code == 400
    assert "owner" in reply.json()


def test_list_queries_do_not_grow_with_cases(open_case, manager_api, alice):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_api.get("/api/v1/cases/?page_size=200").status_code == 200
        return len(captured)

    for _ in range(5):
        open_case(3)
    manager_api.get("/api/v1/cases/")
    few = queries()
    for _ in range(30):
        open_case(3)
    assert queries() == few


def test_closing_through_the_api_closes_the_case(agent_api, cases):
    case = case_transition(case=cases[0], to_status="contacted", actor=cases[0].owner)
    reply = agent_api.post(
        f"/api/v1/cases/{case.pk}/transition/", {"to": "closed", "reason": "Unreachable"}, format="json"
    )
    assert reply.status_code == 200
    assert reply.json()["closed_at"] is not None


# The zone the API writes times in, and the offset it must show (New York's depends on the date).
@pytest.mark.parametrize(("zone", "offset"), [("UTC", "Z"), ("Asia/Kolkata", "+05:30"), ("America/New_York", "")])
def test_the_quick_case_rendering_matches_the_declared_fields(cases, zone, offset):
    from django.utils import timezone
    from rest_framework import serializers

    from followups.apis.cases import CaseDetailSerializer, serializer_context
    from followups.selectors import case_detail

    case_transition(case=cases[0], to_status="contacted", actor=cases[0].owner)
    make_cause("vpn", "VPN")
    make_cause("callback", "No call back")
    case_root_causes_set(case=cases[0], actor=cases[0].owner, slugs=["vpn", "callback"])
    case = case_detail(case_id=cases[0].pk)
    with timezone.override(zone):
        serializer = CaseDetailSerializer(context=serializer_context())
        declared = serializers.Serializer.to_representation(serializer, case)  # DRF's generic walk
        assert serializer.to_representation(case) == declared
    assert set(declared) == set(serializer.fields)
    assert declared["root_causes"] == ["callback", "vpn"]
    assert declared["first_contacted_at"].endswith(offset)


def test_each_listed_case_is_its_detail_without_the_detail_fields(manager_api, cases):
    make_cause("vpn", "VPN")
    make_cause("callback", "No call back")
    case_root_causes_set(case=cases[0], actor=cases[0].owner, slugs=["vpn", "callback"])
    case_transition(case=cases[1], to_status="contacted", actor=cases[1].owner)
    case_transition(case=cases[1], to_status="waiting_on_customer", actor=cases[1].owner)
    Case.objects.filter(pk=cases[2].pk).update(owner=None, first_contact_breached_at=MONDAY_10)
    with time_machine.travel(cases[0].first_contact_due - timedelta(minutes=10), tick=False):
        listed = manager_api.get("/api/v1/cases/").json()["results"]
        details = {case.pk: manager_api.get(f"/api/v1/cases/{case.pk}/").json() for case in cases}
    assert len(listed) == 3
    for row in listed:
        assert row == {name: details[row["id"]][name] for name in row}
    by_id = {row["id"]: row for row in listed}
    assert by_id[cases[0].pk]["root_causes"] == ["callback", "vpn"]
    assert by_id[cases[0].pk]["at_risk"] is True
    assert by_id[cases[1].pk]["paused_since"] is not None
    assert (by_id[cases[2].pk]["owner"], by_id[cases[2].pk]["breached"]) == (None, ["first_contact"])


def test_a_queue_page_by_token_is_three_queries(alice, maya, cases):
    """The token with the user's roles, the page of cases, and the page's root causes (if any case)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    for user, expected in ((alice, 3), (maya, 2)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        with CaptureQueriesContext(connection) as captured:
            reply = client.get("/api/v1/cases/?owner=me&open=true")
        assert reply.status_code == 200
        assert [row["id"] for row in reply.json()["results"]] == [c.pk for c in cases if c.owner == user]
        assert len(captured) == expected, [query["sql"] for query in captured.captured_queries]


def test_the_filter_form_is_built_once_and_each_request_gets_its_own_errors(manager_api, cases):
    from followups.selectors import CaseFilter

    first = manager_api.get("/api/v1/cases/?overdue=maybe")
    assert (first.status_code, set(first.json())) == (400, {"overdue"})
    built = CaseFilter._form_class
    reply = manager_api.get("/api/v1/cases/?priority=urgent")
    assert (reply.status_code, set(reply.json())) == (400, {"priority"})
    assert CaseFilter._form_class is built is not None
    assert len(manager_api.get("/api/v1/cases/?priority=hot").json()["results"]) == 1


@pytest.mark.parametrize("outsider", ["nina", "maya"])
def test_a_case_can_only_go_to_an_agent_or_manager_of_its_team(manager_api, cases, maya, outsider):
    make_user("nina", "agent")  # an agent of no team
    case = cases[0]

    reply = manager_api.post(f"/api/v1/cases/{case.pk}/assign/", {"owner": outsider}, format="json")

    assert reply.status_code == 400
    assert reply.json() == {"owner": [f"{outsider} cannot own cases of Service desk."]}
    assert Case.objects.get(pk=case.pk).owner.username == "alice"


def test_a_lead_of_the_team_may_own_its_cases_without_being_a_member(manager_api, cases, desk):
    make_user("lee", "agent")
    team_update(team=desk, lead="lee")

    reply = manager_api.post(f"/api/v1/cases/{cases[0].pk}/assign/", {"owner": "lee"}, format="json")

    assert reply.status_code == 200
    assert reply.json()["owner"] == "lee"
