"""POST /api/v1/webhooks/helpdesk/: a signed "ticket solved" invites the requester once, after the delay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from surveys.models import Customer, Invitation
from tests.factories import make_user

URL = "/api/v1/webhooks/helpdesk/"
SECRET = "helpdesk-secret"


@pytest.fixture(autouse=True)
def configured(settings, db):
    settings.HELPDESK_WEBHOOK_SECRET = SECRET
    caches["throttle"].clear()


def event(**changes) -> dict:
    solved = timezone.now().replace(microsecond=0)
    body = {
        "event": "ticket.solved",
        "ticket": {"id": "INC-42", "solved_at": solved.isoformat(), "custom_fields": {"product": "vpn"}},
        "requester": {"external_id": "C-7", "email": "pat@example.com", "name": "Pat"},
        "agent": {"email": "alice@example.com"},
        "team": "desk",
    }
    body.update(changes)
    return body


def send(client, body, *, secret: str = SECRET, zendesk_at=None):
    raw = json.dumps(body).encode()
    if zendesk_at is None:
        headers = {
            "HTTP_X_CLOSEDLOOP_SIGNATURE": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        }
    else:
        stamp = zendesk_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).digest()
        headers = {
            "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE": base64.b64encode(digest).decode(),
            "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP": stamp,
        }
    return client.post(URL, raw, content_type="application/json", **headers)


def test_a_solved_ticket_invites_its_requester_after_the_surveys_delay_with_agent_and_team(client, survey, alice):
    body = event()
    response = send(client, body)

    assert response.status_code == 202, response.content
    invitation = Invitation.objects.get(pk=response.json()["invitation"])
    assert (invitation.status, invitation.channel, invitation.ticket_ref) == ("scheduled", "email", "INC-42")
    assert (invitation.agent, invitation.team, invitation.ticket_fields) == ("alice", "desk", {"product": "vpn"})
    solved = timezone.datetime.fromisoformat(body["ticket"]["solved_at"])
    assert invitation.send_at == solved + timedelta(minutes=survey.invite_delay_minutes)
    assert invitation.customer.email == "pat@example.com"


def test_however_often_a_ticket_is_solved_it_is_invited_once(client, survey):
    first = send(client, event())
    again = send(client, event())

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["invitation"] == first.json()["invitation"]
    assert Invitation.objects.count() == 1


def test_zendesks_signature_and_shape_are_accepted(client, survey):
    Customer.objects.create(external_id="zendesk:20978392", email="pat@example.com")
    body = {
        "type": "zen:event-type:ticket.status_changed",
        "detail": {"id": "35436", "status": "SOLVED", "requester_id": "20978392", "updated_at": "2026-12-01T11:30:00Z"},
    }
    response = send(client, body, zendesk_at=timezone.now())

    assert response.status_code == 202
    assert Invitation.objects.get().customer.email == "pat@example.com"


@pytest.mark.parametrize("how", ["wrong secret", "no signature", "stale zendesk", "body changed"])
def test_a_wrong_missing_or_stale_signature_is_a_401_and_stores_nothing(client, survey, how):
    if how == "wrong secret":
        response = send(client, event(), secret="guess")
    elif how == "no signature":
        response = client.post(URL, event(), content_type="application/json")
    elif how == "stale zendesk":
        response = send(client, event(), zendesk_at=timezone.now() - timedelta(minutes=10))
    else:
        raw = json.dumps(event()).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = client.post(URL, raw + b" ", content_type="application/json", HTTP_X_CLOSEDLOOP_SIGNATURE=signature)

    assert response.status_code == 401
    assert not Invitation.objects.exists() and not Customer.objects.exists()


def test_without_a_configured_secret_nothing_is_accepted(client, survey, settings):
    settings.HELPDESK_WEBHOOK_SECRET = ""
    assert send(client, event(), secret="").status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (event(satisfaction_rating={"score": "good"}), "not NPS scores"),
        (event(ticket={"id": "INC-1", "rating": 103}), "not NPS scores"),
        (event(requester={}), "external_id or an email"),
        (event(survey="nope"), "No survey"),
        ({"hello": 1}, "Unknown event shape"),
    ],
)
def test_a_well_signed_event_that_cannot_be_read_is_a_400_saying_why(client, survey, body, message):
    response = send(client, body)

    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert not Invitation.objects.exists()


def test_a_body_that_is_not_json_is_a_400(client, survey):
    raw = b"{not json"
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = client.post(URL, raw, content_type="application/json", HTTP_X_CLOSEDLOOP_SIGNATURE=signature)
    assert response.status_code == 400


def test_other_events_are_acknowledged_and_ignored(client, survey):
    response = send(client, event(event="ticket.reopened"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert not Invitation.objects.exists()


def test_an_agents_own_ticket_and_internal_customers_are_not_surveyed(client, survey):
    make_user("agentpat", "agent", email="pat@example.com")
    assert send(client, event()).json()["reason"] == "staff"
    internal = event(ticket={"id": "INC-43"}, requester={"external_id": "C-8", "email": "it@example.com"})
    Customer.objects.create(external_id="C-8", attributes={"tags": "internal"})
    assert send(client, internal).json()["reason"] == "excluded"


def test_without_a_survey_to_invite_to_the_event_says_so(client, survey, settings):
    survey.active = False
    survey.save()
    response = send(client, event())
    assert response.status_code == 400
    assert "HELPDESK_SURVEY" in json.dumps(response.json())


def test_a_request_from_no_known_address_is_counted_not_a_server_error(client, survey):
    response = client.post(URL, event(), content_type="application/json", REMOTE_ADDR=None)
    assert response.status_code == 401
