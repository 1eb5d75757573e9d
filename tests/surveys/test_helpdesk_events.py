"""Help-desk events: both signature forms, stale timestamps, the two shapes, and ratings refused (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from surveys.helpdesk import UnreadableEvent, signature_valid, ticket_solved

SECRET = "s3cret"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BODY = b'{"event": "ticket.solved"}'


def ours(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-Closedloop-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def zendesk(body: bytes = BODY, *, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def test_both_signature_forms_verify():
    assert signature_valid(ours(), BODY, secret=SECRET, now=NOW)
    assert signature_valid(zendesk(), BODY, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        ours(secret="other"),
        ours(body=b"{}"),
        {"X-Closedloop-Signature": "sha256=zz"},
        zendesk(secret="other"),
        zendesk(body=b"{}"),
        zendesk(at=NOW - timedelta(minutes=6)),
        zendesk(at=NOW + timedelta(minutes=6)),
        {**zendesk(), "X-Zendesk-Webhook-Signature-Timestamp": "yesterday"},
        {"X-Zendesk-Webhook-Signature": zendesk()["X-Zendesk-Webhook-Signature"]},
    ],
)
def test_bad_missing_or_stale_signatures_are_refused(headers):
    assert not signature_valid(headers, BODY, secret=SECRET, now=NOW)


def test_a_timestamp_within_five_minutes_is_fine_and_no_secret_refuses_everything():
    assert signature_valid(zendesk(at=NOW - timedelta(minutes=4, seconds=59)), BODY, secret=SECRET, now=NOW)
    assert not signature_valid(ours(secret=""), BODY, secret="", now=NOW)


ZENDESK = "zen:event-type:ticket.status_changed"
GENERIC: dict[str, Any] = {
    "event": "ticket.solved",
    "ticket": {"id": "INC-42", "solved_at": "2026-12-01T11:00:00Z", "custom_fields": {"product": "vpn"}},
    "requester": {"external_id": "C-7", "email": " Pat@Example.com ", "name": "Pat"},
    "agent": {"email": "alice@example.com"},
    "team": "desk",
}


def test_the_generic_shape_is_read():
    event = ticket_solved(GENERIC)

    assert event is not None
    assert (event.ticket, event.agent, event.team) == ("INC-42", "alice@example.com", "desk")
    assert event.requester == {"external_id": "C-7", "email": "pat@example.com", "name": "Pat"}
    assert event.solved_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert event.custom_fields == {"product": "vpn"}


def test_a_requester_known_by_email_only_is_identified_by_it():
    event = ticket_solved({**GENERIC, "requester": {"email": "PAT@example.com"}})
    assert event is not None and event.requester == {"external_id": "pat@example.com", "email": "pat@example.com"}


def test_zendesks_ticket_event_is_read_when_the_ticket_is_solved():
    data = {
        "type": "zen:event-type:ticket.status_changed",
        "detail": {
            "id": "35436",
            "status": "SOLVED",
            "requester_id": "20978392",
            "assignee_id": "235323",
            "group_id": "98738",
            "updated_at": "2026-12-01T11:30:00Z",
        },
        "event": {"current": "SOLVED", "previous": "OPEN"},
    }
    event = ticket_solved(data)
    assert event is not None
    assert (event.ticket, event.requester) == ("35436", {"external_id": "zendesk:20978392"})
    assert event.solved_at == datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    assert ticket_solved({**data, "detail": {**data["detail"], "status": "OPEN"}}) is None


def test_events_of_other_kinds_are_nothing_to_do():
    assert ticket_solved({**GENERIC, "event": "ticket.reopened"}) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GENERIC, "satisfaction_rating": {"score": "good"}}, "not NPS scores"),
        ({**GENERIC, "ticket": {**GENERIC["ticket"], "rating": -103}}, "not NPS scores"),
        (
            {
                "type": "zen:event-type:ticket.status_changed",
                "detail": {"status": "SOLVED", "satisfaction_rating": "bad"},
            },
            "not NPS scores",
        ),
        ({**GENERIC, "ticket": {}}, "ticket.id is required"),
        ({**GENERIC, "ticket": "INC-1"}, "ticket must be an object"),
        ({**GENERIC, "requester": {"name": "Pat"}}, "external_id or an email"),
        ({**GENERIC, "ticket": {"id": "INC-1", "solved_at": "noon"}}, "solved_at"),
        ({**GENERIC, "ticket": {"id": "x" * 101}}, "longer than 100"),
        ({"hello": "world"}, "Unknown event shape"),
        ([], "JSON object"),
    ],
)
def test_unreadable_events_say_what_is_wrong(data, message):
    with pytest.raises(UnreadableEvent, match=message):
        ticket_solved(data)
