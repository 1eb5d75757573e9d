"""Help-desk events: both signature forms, stale timestamps, the two shapes, and ratings refused (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from surveys.helpdesk import TicketSolved, UnreadableEvent, signature_valid, ticket_solved

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


def refusal(data: Any) -> str:
    with pytest.raises(UnreadableEvent) as refused:
        ticket_solved(data)
    return str(refused.value)


def test_our_signature_is_read_case_and_space_insensitively_and_never_falls_back_to_zendesks():
    header = ours()["X-Closedloop-Signature"]
    assert signature_valid({"X-Closedloop-Signature": f"  {header.upper()} \n"}, BODY, secret=SECRET, now=NOW)
    assert not signature_valid({**zendesk(), "X-Closedloop-Signature": "sha256=00"}, BODY, secret=SECRET, now=NOW)
    assert not signature_valid({"X-Closedloop-Signature": header.removeprefix("sha256=")}, BODY, secret=SECRET, now=NOW)


def test_zendesks_signature_allows_surrounding_space_exactly_five_minutes_of_skew_and_an_offset_timestamp():
    padded = zendesk()
    padded["X-Zendesk-Webhook-Signature"] = f" {padded['X-Zendesk-Webhook-Signature']}\n"
    assert signature_valid(padded, BODY, secret=SECRET, now=NOW)
    for skew in (timedelta(minutes=5), -timedelta(minutes=5)):
        assert signature_valid(zendesk(at=NOW - skew), BODY, secret=SECRET, now=NOW)
    for skew in (timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)):
        assert not signature_valid(zendesk(at=NOW - skew), BODY, secret=SECRET, now=NOW)
    stamp = "2026-12-01T13:00:00+01:00"
    digest = hmac.new(SECRET.encode(), stamp.encode() + BODY, hashlib.sha256).digest()
    headers = {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    assert signature_valid(headers, BODY, secret=SECRET, now=NOW)
    assert not signature_valid(headers, BODY, secret="", now=NOW)
    naive = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": "2026-12-01T12:00:00"}
    naive["X-Zendesk-Webhook-Signature"] = base64.b64encode(
        hmac.new(SECRET.encode(), b"2026-12-01T12:00:00" + BODY, hashlib.sha256).digest()
    ).decode()
    assert not signature_valid(naive, BODY, secret=SECRET, now=NOW)
    assert not signature_valid({**headers, "X-Zendesk-Webhook-Signature": ""}, BODY, secret=SECRET, now=NOW)


def test_a_bare_generic_event_gets_the_defaults():
    event = ticket_solved({"event": "ticket.solved", "ticket": {"id": 42}, "requester": {"external_id": " C-1 "}})
    assert event == TicketSolved(ticket="42", requester={"external_id": "C-1", "email": ""})
    assert (event.solved_at, event.agent, event.team, event.survey, event.custom_fields) == (None, "", "", "", {})


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("bob", "bob"),
        (" bob ", "bob"),
        ({"username": "bob", "email": "bob@example.com"}, "bob"),
        ({"username": "", "email": "bob@example.com"}, "bob@example.com"),
        ({}, ""),
        (None, ""),
        ("", ""),
    ],
)
def test_the_agent_is_a_username_or_an_object_with_one_or_an_email(agent, expected):
    event = ticket_solved({**GENERIC, "agent": agent})
    assert event is not None and event.agent == expected


def test_the_generic_shape_reads_survey_team_offsets_and_empty_custom_fields():
    ticket = {"id": "INC-1", "solved_at": "2026-12-01T13:00:00+02:00", "custom_fields": None}
    event = ticket_solved({**GENERIC, "ticket": ticket, "survey": " relationship ", "team": " desk "})
    assert event is not None
    assert (event.survey, event.team, event.custom_fields) == ("relationship", "desk", {})
    assert event.solved_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    event = ticket_solved({**GENERIC, "ticket": {"id": "INC-1", "solved_at": ""}})
    assert event is not None and event.solved_at is None and event.custom_fields == {}


@pytest.mark.parametrize(
    ("field_name", "limit"),
    [
        ("ticket.id", 100),
        ("requester.email", 254),
        ("requester.external_id", 100),
        ("requester.name", 200),
        ("agent", 254),
        ("team", 80),
        ("survey", 80),
    ],
)
def test_each_generic_field_has_its_length_limit_counted_without_surrounding_space(field_name, limit):
    def event(value: str) -> dict[str, Any]:
        place, _, key = field_name.rpartition(".")
        if not place:
            return {**GENERIC, key: value}
        return {**GENERIC, place: {**GENERIC[place], key: value}}

    assert ticket_solved(event(" " + "a" * limit + " ")) is not None
    assert refusal(event("a" * (limit + 1))) == f"{field_name} is longer than {limit} characters."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GENERIC, "ticket": {}}, "ticket.id is required."),
        ({**GENERIC, "ticket": {"id": ""}}, "ticket.id is required."),
        ({**GENERIC, "ticket": {"id": True}}, "ticket.id must be text."),
        ({**GENERIC, "ticket": {"id": 4.2}}, "ticket.id must be text."),
        ({**GENERIC, "ticket": "INC-1"}, "ticket must be an object with an id."),
        ({**GENERIC, "requester": "pat@example.com"}, "requester must be an object with an external_id or an email."),
        ({**GENERIC, "requester": {"name": "Pat"}}, "requester needs an external_id or an email."),
        ({**GENERIC, "requester": {"email": ["pat@example.com"]}}, "requester.email must be text."),
        ({**GENERIC, "requester": {"external_id": {}}}, "requester.external_id must be text."),
        ({**GENERIC, "requester": {"email": "p@example.com", "name": False}}, "requester.name must be text."),
        ({**GENERIC, "agent": ["bob"]}, "agent must be an object or a username."),
        ({**GENERIC, "agent": {"username": 1.5}}, "agent must be text."),
        ({**GENERIC, "team": ["desk"]}, "team must be text."),
        ({**GENERIC, "survey": 1.0}, "survey must be text."),
        ({**GENERIC, "ticket": {"id": "INC-1", "custom_fields": ["vpn"]}}, "ticket.custom_fields must be an object."),
        (
            {**GENERIC, "ticket": {"id": "INC-1", "solved_at": "noon"}},
            "ticket.solved_at must be an ISO 8601 time with an offset.",
        ),
        (
            {**GENERIC, "ticket": {"id": "INC-1", "solved_at": "2026-12-01T11:00:00"}},
            "ticket.solved_at must be an ISO 8601 time with an offset.",
        ),
        (
            {**GENERIC, "ticket": {"id": "INC-1", "solved_at": 1764586800}},
            "ticket.solved_at must be an ISO 8601 time with an offset.",
        ),
        ({"hello": "world"}, 'Unknown event shape: expected "event": "ticket.solved" or a Zendesk ticket event.'),
        (
            {"type": "other", "detail": {}},
            'Unknown event shape: expected "event": "ticket.solved" or a Zendesk ticket event.',
        ),
        ([], "The body must be a JSON object."),
        ("{}", "The body must be a JSON object."),
        ({"type": ZENDESK}, "detail must be an object."),
        ({"type": ZENDESK, "detail": "solved"}, "detail must be an object."),
        ({"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1"}}, "detail.requester_id is required."),
        ({"type": ZENDESK, "detail": {"status": "SOLVED", "requester_id": "7"}}, "detail.id is required."),
        (
            {"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1", "requester_id": "7" * 91}},
            "detail.requester_id is longer than 90 characters.",
        ),
        (
            {"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1" * 101, "requester_id": "7"}},
            "detail.id is longer than 100 characters.",
        ),
        (
            {"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1", "requester_id": "7", "assignee_id": "2" * 91}},
            "detail.assignee_id is longer than 90 characters.",
        ),
        (
            {"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1", "requester_id": "7", "group_id": "3" * 81}},
            "detail.group_id is longer than 80 characters.",
        ),
    ],
)
def test_unreadable_events_say_exactly_what_is_wrong(data, message):
    assert refusal(data) == message


RATING_NAMES = ("satisfaction", "satisfaction_rating", "rating", "csat", "score")


@pytest.mark.parametrize("name", RATING_NAMES)
@pytest.mark.parametrize("value", ["good", 0, False, -103, {"score": "bad"}])
def test_every_rating_field_is_refused_wherever_it_is_sent(name, value):
    message = (
        f"This event carries a satisfaction rating ({name}). Ratings on another scale (good/bad, 1-5, "
        "-103..103) are not NPS scores and are never converted: send the ticket without it, and the "
        "requester is invited to answer the NPS question."
    )
    assert refusal({**GENERIC, name: value}) == message
    assert refusal({**GENERIC, "ticket": {**GENERIC["ticket"], name: value}}) == message
    assert refusal({"type": ZENDESK, "detail": {"status": "OPEN", name: value}}) == message


@pytest.mark.parametrize("name", RATING_NAMES)
@pytest.mark.parametrize("value", [None, "", {}])
def test_an_empty_rating_field_is_no_rating(name, value):
    assert ticket_solved({**GENERIC, name: value, "ticket": {**GENERIC["ticket"], name: value}}) is not None
    zendesk_event = {"type": ZENDESK, "detail": {"status": "SOLVED", "id": "1", "requester_id": "7", name: value}}
    assert ticket_solved(zendesk_event) is not None


def test_a_zendesk_event_reads_status_in_any_case_and_ignores_a_time_that_is_not_text():
    detail = {"id": 35436, "status": "solved", "requester_id": 20978392, "updated_at": 1764586800}
    event = ticket_solved({"type": ZENDESK, "detail": detail})
    assert event == TicketSolved(ticket="35436", requester={"external_id": "zendesk:20978392"})
    assert (event.solved_at, event.agent, event.team, event.survey, event.custom_fields) == (None, "", "", "", {})
    full = {**detail, "assignee_id": " 235323 ", "group_id": "98738", "updated_at": "2026-12-01T13:30:00+02:00"}
    event = ticket_solved({"type": ZENDESK, "detail": full})
    assert event is not None
    assert (event.agent, event.team) == ("235323", "98738")
    assert event.solved_at == datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    assert ticket_solved({"type": ZENDESK, "detail": {"id": "1", "requester_id": "7"}}) is None
    assert ticket_solved({"type": ZENDESK, "detail": {"status": "SOLVEDX", "id": "1", "requester_id": "7"}}) is None
    assert ticket_solved({"type": ZENDESK, "detail": {"status": None, "id": "1", "requester_id": "7"}}) is None
