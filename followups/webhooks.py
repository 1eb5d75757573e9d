"""Outgoing webhooks without the database: Standard Webhooks signatures and the Slack body.

Every delivery carries three headers, as the Standard Webhooks specification says
(https://www.standardwebhooks.com/):

- ``webhook-id``: the delivery's message id, the same on every retry and replay, so a receiver
  can drop a message it already handled;
- ``webhook-timestamp``: Unix seconds when the attempt was signed;
- ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}." + body``,
  keyed with the base64-decoded part of the endpoint's ``whsec_...`` secret.

A receiver recomputes the signature over the raw body (before parsing the JSON), compares it in
constant time, and refuses timestamps outside a few minutes of its own clock so a captured request
cannot be replayed later. ``verify`` does exactly that; any Standard Webhooks library does too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
# How far a delivery's timestamp may be from the receiver's clock, either way (the specification's 5 minutes).
TOLERANCE_SECONDS = 5 * 60
COMMENT_SNIPPET = 300

# Each event a manager may subscribe to, with the title people read in Slack and on the pages.
EVENT_TITLES: dict[str, str] = {
    "response.received": "New response",
    "case.created": "Case opened",
    "case.assigned": "Case assigned",
    "case.status_changed": "Case status changed",
    "case.at_risk": "Case at risk of breaching its SLA",
    "case.breached": "Case breached its SLA",
    "case.escalated": "Case escalated",
    "case.closed": "Case closed",
    "improvement.shipped": "Improvement shipped",
    "customer_update.sent": "Customer update sent",
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_TITLES)


class WebhookVerificationError(Exception):
    """A delivery whose headers or signature do not prove it came from the secret's holder."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional, as receivers paste it)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise WebhookVerificationError("The secret is not base64 after its whsec_ prefix.") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt: ``v1,`` + base64(HMAC-SHA256)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The HTTP headers of one signed JSON delivery."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "Content-Type": "application/json",
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise WebhookVerificationError unless ``body`` was signed with ``secret`` within ``tolerance``.

    ``headers`` may use any letter case. The signature header may list several space-separated
    signatures (senders rotating secrets); one valid ``v1`` signature is enough.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp_text = lowered.get("webhook-timestamp", "")
    if not message_id or not timestamp_text.isdigit():
        raise WebhookVerificationError("Missing webhook-id or webhook-timestamp header.")
    timestamp = int(timestamp_text)
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("The webhook-timestamp is outside the tolerance window.")
    expected = sign(secret, message_id, timestamp, body).encode()
    offered = lowered.get("webhook-signature", "").split()
    # compare_digest on every candidate: the time taken must not reveal how much of one matched.
    if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in offered):
        raise WebhookVerificationError("No valid signature.")


def slack_message(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook body for one event: a ``text`` fallback and ``blocks``.

    ``payload`` is the event's data: a case (with its ``response``) or, for response.received,
    the response itself. Customer text is escaped, so a comment cannot mention a channel or
    fake a link, and shortened to a snippet.
    """
    response = payload.get("response") or payload
    title = EVENT_TITLES.get(event_type, event_type)
    link = payload.get("url")
    subject = f"Case #{payload['id']}" if "response" in payload and "id" in payload else ""
    summary = _summary(response)
    heading = f"*{_escape(title)}*"
    if link and subject:
        heading += f" · <{link}|{subject}>"
    text = " · ".join(part for part in (title, subject, summary) if part)
    blocks: list[dict[str, Any]] = [_section(heading)]
    fields = _fields(payload, response)
    if fields:
        facts = [_mrkdwn(f"*{label}*\n{_escape(value)}") for label, value in fields]
        blocks.append({"type": "section", "fields": facts})
    comment = " ".join(str(response.get("comment") or "").split())
    if comment:
        snippet = comment if len(comment) <= COMMENT_SNIPPET else comment[: COMMENT_SNIPPET - 1] + "…"
        blocks.append(_section(f">{_escape(snippet)}"))
    return {"text": _escape(text), "blocks": blocks}


def _summary(response: Mapping[str, Any]) -> str:
    if response.get("score") is None:
        return ""
    return f"{_score(response)} from {response.get('customer') or 'an unknown customer'}"


def _score(response: Mapping[str, Any]) -> str:
    category = response.get("category")
    return f"{response['score']}/10" + (f" ({category})" if category else "")


def _fields(payload: Mapping[str, Any], response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Label and value pairs for the facts present in this event (later events may lack some)."""
    fields = []
    if response.get("score") is not None:
        fields.append(("Score", _score(response)))
    if response.get("customer"):
        fields.append(("Customer", str(response["customer"])))
    if payload.get("status"):
        was = payload.get("from_status")
        fields.append(("Status", f"{was} → {payload['status']}" if was else str(payload["status"])))
    if "owner" in payload:
        fields.append(("Owner", payload["owner"] or "unassigned"))
    if payload.get("team"):
        fields.append(("Team", str(payload["team"])))
    if response.get("ticket_ref"):
        fields.append(("Ticket", str(response["ticket_ref"])))
    return fields


def _escape(text: str) -> str:
    # The three characters Slack asks senders to escape; the rest of mrkdwn stays readable.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}
