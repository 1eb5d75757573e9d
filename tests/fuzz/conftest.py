"""The world the API fuzz tests send requests into: one of everything an endpoint can name.

A manager, an agent and an integration account, each with an API token (anonymous requests send
none); a team, a survey with responses, an open case with a history, a root cause, a resolution
code, a webhook endpoint with one delivery, and an improvement against the root cause. Generated
path parameters are pointed at these objects, so the fuzzers reach the views' bodies rather than
stopping at a 404.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from closedloop.lib.roles import AGENT, INTEGRATION, MANAGER
from followups.models import Case, Improvement, ResponseRootCause, RootCause, WebhookDelivery
from followups.services import team_create
from followups.services.coding import resolution_code_create
from followups.services.improvements import improvement_create, improvement_move
from followups.services.opening import cases_open_for_responses
from followups.services.outbox import webhook_events_queue
from followups.services.webhooks import webhook_endpoint_create
from surveys.services.invitations import invitation_create
from tests.factories import make_cause, make_response, make_survey, make_user

# Examples per operation: small enough for `make test`; FUZZ_SCALE=10 searches ten times as long.
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, INTEGRATION, AGENT, MANAGER)
# Body fields that name another object, and the object of the world they are pointed at.
REFERENCES = {
    "survey": "support-2026",
    "owner": "alice",
    "root_causes": ["vpn"],
    "root_cause": "vpn",
    "resolution_code": "fixed",
}


@dataclass
class FuzzWorld:
    tokens: dict[str, str]
    # By collection (the path's first segment under /api/v1/): the path parameters of a real object.
    objects: dict[str, dict[str, str | int]]

    def headers(self, role: str) -> dict[str, str]:
        """The Authorization header a client in ``role`` sends (none for anonymous)."""
        return {"Authorization": f"Token {self.tokens[role]}"} if role in self.tokens else {}

    def path_parameters(self, path: str) -> dict[str, str | int]:
        """The path parameters that name this world's object on ``path`` (an operation's template)."""
        collection = path.removeprefix("/api/v1/").split("/", 1)[0]
        return self.objects.get(collection, {})

    def aim(self, body: object) -> None:
        """Point a generated body's references (survey, owner, root causes) at this world's objects.

        Random slugs and usernames name nothing, so without this every ingestion and assignment
        would stop at "unknown survey" or "no such user". Values of another type (the negative
        mode's wrong types) and the other fields stay as generated.
        """
        items = body.get("responses") if isinstance(body, dict) else None
        for item in [body, *(items if isinstance(items, list) else [])]:
            if isinstance(item, dict):
                item.update({key: value for key, value in REFERENCES.items() if isinstance(item.get(key), type(value))})


def _open_case() -> Case:
    response = make_response(2, comment="VPN token reset took a week", ticket_ref="INC-1")
    make_response(9, comment="Quick and kind")
    make_response(7)
    return cases_open_for_responses(response_ids=[response.pk])[0]


def _improvement(case: Case, root_cause: RootCause, manager: User) -> Improvement:
    """An improvement in progress against the cause the case's response is coded to: shipping reaches someone."""
    ResponseRootCause.objects.create(response=case.response, root_cause=root_cause)
    improvement = improvement_create(
        title="VPN tokens reset in a day",
        actor=manager,
        root_causes=[root_cause],
        owner=manager,
        customer_message="Resets now take a day.",
    )
    return improvement_move(improvement=improvement, to_status="in_progress", actor=manager)


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """Requests sent to the WSGI app keep the test's database connection, as Django's test client does.

    Django closes a connection that is not in autocommit when a request starts or finishes; the
    test's transaction is such a connection, and the next query would find it closed.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db) -> FuzzWorld:
    users = {
        MANAGER: make_user("maya", MANAGER, email="maya@example.com"),
        AGENT: make_user("alice", AGENT, email="alice@example.com"),
        INTEGRATION: make_user("izzy", INTEGRATION),
    }
    survey = make_survey()
    team = team_create(slug="desk", name="Service desk", members=["alice"], lead="alice")
    root_cause = make_cause("vpn", "VPN")
    resolution_code_create(slug="fixed", name="Fixed")
    case = _open_case()
    invitation = invitation_create(
        survey=survey, customer={"external_id": "C-fuzz", "email": "f@example.com"}
    ).invitation
    endpoint = webhook_endpoint_create(url="https://hooks.example.com/closedloop", created_by=users[MANAGER])
    webhook_events_queue([("case.created", {"case": case.pk})])
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    improvement = _improvement(case, root_cause, users[MANAGER])
    return FuzzWorld(
        tokens={role: Token.objects.get_or_create(user_id=user.pk)[0].key for role, user in users.items()},
        objects={
            "cases": {"case_id": case.pk},
            "invitations": {"pk": invitation.pk},
            "customers": {"external_id": case.response.customer.external_id},
            "responses": {"response_id": case.response_id},
            "surveys": {"slug": survey.slug},
            "teams": {"slug": team.slug},
            "root-causes": {"slug": root_cause.slug},
            "webhooks": {"id": endpoint.pk},
            "webhook-deliveries": {"id": delivery.pk},
            "improvements": {"id": improvement.pk},
        },
    )
