"""Standard Webhooks signatures and the Slack message body (pure functions, no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followups.webhooks import (
    EVENT_TYPES,
    WebhookVerificationError,
    headers,
    sign,
    slack_message,
    verify,
)

# The test vector published with the Standard Webhooks specification (and Svix's libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_900_000_000


def signed_headers(body: bytes, *, secret: str = SECRET, message_id: str = "msg_1", timestamp: int = NOW) -> dict:
    return headers(secret=secret, message_id=message_id, timestamp=timestamp, body=body)


def test_the_signature_matches_the_specifications_test_vector():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_specifications_vector_verifies():
    vector = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE}

    verify(secret=SPEC_SECRET, headers=vector, body=SPEC_BODY, now=SPEC_TIMESTAMP)


@given(message_id=st.text(min_size=1, max_size=40), timestamp=st.integers(0, 2**40), body=st.binary(max_size=500))
def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body(message_id, timestamp, body):
    key = b"0123456789abcdef0123456789abcdef"
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()

    assert sign(SECRET, message_id, timestamp, body) == "v1," + base64.b64encode(digest).decode()


def test_headers_carry_id_timestamp_signature_and_content_type():
    assert signed_headers(b"{}") == {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(SECRET, "msg_1", NOW, b"{}"),
        "Content-Type": "application/json",
    }


def test_a_signed_body_verifies_within_the_tolerance_and_in_any_header_case():
    body = b'{"type": "case.created"}'
    sent = {name.upper(): value for name, value in signed_headers(body).items()}

    verify(secret=SECRET, headers=sent, body=body, now=NOW + 299)
    verify(secret=SECRET, headers=sent, body=body, now=NOW - 299)


def test_one_valid_signature_among_several_is_enough():
    body = b"{}"
    sent = signed_headers(body)
    sent["webhook-signature"] = f"v1,bm90IHRoaXMgb25l {sent['webhook-signature']}"

    verify(secret=SECRET, headers=sent, body=body, now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"body": b'{"score": 10}'}, id="body"),
        pytest.param({"webhook-id": "msg_2"}, id="message id"),
        pytest.param({"webhook-timestamp": str(NOW + 1)}, id="timestamp"),
        pytest.param({"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}, id="signature"),
        pytest.param({"webhook-signature": ""}, id="no signature"),
        pytest.param({"webhook-id": ""}, id="no id"),
        pytest.param({"webhook-timestamp": "soon"}, id="timestamp not a number"),
        pytest.param({"secret": "whsec_" + base64.b64encode(b"another key").decode()}, id="other secret"),
    ],
)
def test_tampering_fails_verification(change):
    body = b'{"score": 2}'
    sent = signed_headers(body)
    secret = change.pop("secret", SECRET)
    body = change.pop("body", body)
    sent.update(change)

    with pytest.raises(WebhookVerificationError):
        verify(secret=secret, headers=sent, body=body, now=NOW)


@pytest.mark.parametrize("now", [NOW + 301, NOW - 301])
def test_a_timestamp_outside_the_tolerance_fails(now):
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(secret=SECRET, headers=signed_headers(b"{}"), body=b"{}", now=now)


# The Slack-compatible body

CASE = {
    "id": 12,
    "url": "https://nps.example.com/cases/12/",
    "status": "in_progress",
    "from_status": "contacted",
    "priority": "hot",
    "team": "service-desk",
    "owner": "alice",
    "response": {
        "id": 7,
        "survey": "support-2026",
        "score": 2,
        "category": "detractor",
        "comment": "Took a week to reset my VPN token <!channel> & nobody called",
        "ticket_ref": "INC-20931",
        "customer": "C-1042",
    },
}


def _facts(message: dict) -> dict[str, str]:
    fields = next(block["fields"] for block in message["blocks"] if "fields" in block)
    return dict(field["text"].split("\n", 1) for field in fields)


def test_a_case_event_becomes_a_slack_message_with_score_customer_status_owner_and_link():
    message = slack_message("case.status_changed", CASE)

    assert message["text"] == "Case status changed · Case #12 · 2/10 (detractor) from C-1042"
    assert (
        message["blocks"][0]["text"]["text"] == "*Case status changed* · <https://nps.example.com/cases/12/|Case #12>"
    )
    assert _facts(message) == {
        "*Score*": "2/10 (detractor)",
        "*Customer*": "C-1042",
        "*Status*": "contacted → in_progress",
        "*Owner*": "alice",
        "*Team*": "service-desk",
        "*Ticket*": "INC-20931",
    }
    json.dumps(message)  # a JSON body as it is


def test_the_customers_comment_is_quoted_escaped_so_it_cannot_mention_anyone():
    quote = slack_message("case.created", CASE)["blocks"][-1]["text"]["text"]

    assert quote == ">Took a week to reset my VPN token &lt;!channel&gt; &amp; nobody called"


def test_a_long_comment_becomes_a_one_line_snippet():
    case = {**CASE, "response": {**CASE["response"], "comment": "slow\n" * 200}}

    quote = slack_message("case.created", case)["blocks"][-1]["text"]["text"]

    assert len(quote) == 1 + 300
    assert quote.endswith("…")
    assert "\n" not in quote


def test_an_unassigned_case_says_so():
    assert _facts(slack_message("case.created", {**CASE, "owner": None}))["*Owner*"] == "unassigned"


def test_a_response_event_summarises_the_response():
    response = {"id": 7, "survey": "support-2026", "score": 9, "category": "promoter", "comment": "", "customer": "C-1"}

    message = slack_message("response.received", response)

    assert message["text"] == "New response · 9/10 (promoter) from C-1"
    assert _facts(message) == {"*Score*": "9/10 (promoter)", "*Customer*": "C-1"}
    assert len(message["blocks"]) == 2  # no empty comment quote


def test_every_event_type_has_a_slack_title():
    assert {slack_message(event, CASE)["text"].split(" · ")[0] for event in EVENT_TYPES} == {
        "New response",
        "Case opened",
        "Case assigned",
        "Case status changed",
        "Case at risk of breaching its SLA",
        "Case breached its SLA",
        "Case escalated",
        "Case closed",
        "Improvement shipped",
        "Customer update sent",
    }
