"""Help-desk "ticket solved" events: who signed them, and what they say. Pure, no database.

Two signatures are accepted on the raw body: closedloop's own (``X-Closedloop-Signature:
sha256=<hex>``, HMAC-SHA256 of the body) and Zendesk's (``X-Zendesk-Webhook-Signature``:
base64 of HMAC-SHA256 over the ``X-Zendesk-Webhook-Signature-Timestamp`` value followed by the
body), whose timestamp must be within ``MAX_SKEW`` of now so a captured request cannot be
replayed later. Two shapes are read: the generic one documented in the README, and Zendesk's
ticket event webhook (``zen:event-type:ticket.status_changed``, ``detail`` object, format
version 2022-11-06), where a solved ticket has status ``SOLVED``. A satisfaction rating sent
along (Zendesk's good/bad, Freshdesk's -103..103) is never turned into an NPS score: the event
is refused, saying why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_SKEW = timedelta(minutes=5)
CLOSEDLOOP_HEADER = "X-Closedloop-Signature"
ZENDESK_HEADER = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
ZENDESK_STATUS_CHANGED = "zen:event-type:ticket.status_changed"
# Fields in which help desks send their own satisfaction ratings.
RATING_FIELDS = ("satisfaction", "satisfaction_rating", "rating", "csat", "score")
CSAT_REFUSED = (
    "This event carries a satisfaction rating ({field}). Ratings on another scale (good/bad, 1-5, "
    "-103..103) are not NPS scores and are never converted: send the ticket without it, and the "
    "requester is invited to answer the NPS question."
)


class UnreadableEvent(ValueError):
    """A well-signed event this endpoint cannot read; the message says what is wrong."""


@dataclass(frozen=True)
class TicketSolved:
    ticket: str
    requester: dict[str, Any]
    solved_at: datetime | None = None
    agent: str = ""
    team: str = ""
    survey: str = ""
    custom_fields: dict[str, Any] = field(default_factory=dict)


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _timestamp(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def signature_valid(headers: Mapping[str, str], body: bytes, *, secret: str, now: datetime) -> bool:
    """Whether the body was signed with ``secret`` in either accepted form (and, for Zendesk's, lately)."""
    if not secret:
        return False
    ours = headers.get(CLOSEDLOOP_HEADER)
    if ours:
        expected = "sha256=" + _digest(secret, body).hex()
        return hmac.compare_digest(ours.strip().lower(), expected)
    theirs, stamp = headers.get(ZENDESK_HEADER), headers.get(ZENDESK_TIMESTAMP_HEADER, "")
    moment = _timestamp(stamp)
    if not theirs or moment is None or abs(now - moment) > MAX_SKEW:
        return False
    expected = base64.b64encode(_digest(secret, stamp.encode() + body)).decode()
    return hmac.compare_digest(theirs.strip(), expected)


def _text(value: Any, name: str, *, max_length: int, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise UnreadableEvent(f"{name} is required.")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UnreadableEvent(f"{name} must be text.")
    text = str(value).strip()
    if len(text) > max_length:
        raise UnreadableEvent(f"{name} is longer than {max_length} characters.")
    return text


def _refuse_ratings(*objects: Any) -> None:
    for each in objects:
        if isinstance(each, dict):
            for name in RATING_FIELDS:
                if each.get(name) not in (None, "", {}):
                    raise UnreadableEvent(CSAT_REFUSED.format(field=name))


def _generic(data: dict[str, Any]) -> TicketSolved | None:
    if data.get("event") != "ticket.solved":
        return None
    ticket, requester, agent = data.get("ticket"), data.get("requester"), data.get("agent") or {}
    if not isinstance(ticket, dict):
        raise UnreadableEvent("ticket must be an object with an id.")
    if not isinstance(requester, dict):
        raise UnreadableEvent("requester must be an object with an external_id or an email.")
    if not isinstance(agent, (dict, str)):
        raise UnreadableEvent("agent must be an object or a username.")
    _refuse_ratings(data, ticket)
    custom = ticket.get("custom_fields") or {}
    if not isinstance(custom, dict):
        raise UnreadableEvent("ticket.custom_fields must be an object.")
    solved = ticket.get("solved_at")
    solved_at = _timestamp(solved) if isinstance(solved, str) else None
    if solved not in (None, "") and solved_at is None:
        raise UnreadableEvent("ticket.solved_at must be an ISO 8601 time with an offset.")
    agent_name = agent if isinstance(agent, str) else agent.get("username") or agent.get("email")
    return TicketSolved(
        ticket=_text(ticket.get("id"), "ticket.id", max_length=100, required=True),
        requester=_requester(requester),
        solved_at=solved_at,
        agent=_text(agent_name, "agent", max_length=254),
        team=_text(data.get("team"), "team", max_length=80),
        survey=_text(data.get("survey"), "survey", max_length=80),
        custom_fields=custom,
    )


def _requester(value: dict[str, Any]) -> dict[str, Any]:
    email = _text(value.get("email"), "requester.email", max_length=254).lower()
    external_id = _text(value.get("external_id"), "requester.external_id", max_length=100) or email
    if not external_id:
        raise UnreadableEvent("requester needs an external_id or an email.")
    customer: dict[str, Any] = {"external_id": external_id, "email": email}
    name = _text(value.get("name"), "requester.name", max_length=200)
    if name:
        customer["name"] = name
    return customer


def _zendesk(data: dict[str, Any]) -> TicketSolved | None:
    detail = data.get("detail")
    if not isinstance(detail, dict):
        raise UnreadableEvent("detail must be an object.")
    _refuse_ratings(detail)
    if str(detail.get("status")).upper() != "SOLVED":
        return None
    requester = _text(detail.get("requester_id"), "detail.requester_id", max_length=90, required=True)
    updated = detail.get("updated_at")
    return TicketSolved(
        ticket=_text(detail.get("id"), "detail.id", max_length=100, required=True),
        # Zendesk's event names the requester by id only; a customer known by it keeps their address.
        requester={"external_id": f"zendesk:{requester}"},
        solved_at=_timestamp(updated) if isinstance(updated, str) else None,
        agent=_text(detail.get("assignee_id"), "detail.assignee_id", max_length=90),
        team=_text(detail.get("group_id"), "detail.group_id", max_length=80),
    )


def ticket_solved(data: Any) -> TicketSolved | None:
    """The solved ticket an event reports; None for an event of another kind (nothing to do)."""
    if not isinstance(data, dict):
        raise UnreadableEvent("The body must be a JSON object.")
    if data.get("type") == ZENDESK_STATUS_CHANGED:
        return _zendesk(data)
    if "event" not in data:
        raise UnreadableEvent('Unknown event shape: expected "event": "ticket.solved" or a Zendesk ticket event.')
    return _generic(data)
