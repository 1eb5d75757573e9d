"""Delivering webhook events to a real HTTP server on the loopback interface.

Signed headers, retries with backoff, the last attempt, replay, the Slack body, subscriptions,
and the whole path from an ingested detractor to the receiver.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from closedloop.lib.exceptions import ConflictError
from followups.models import Case, WebhookDelivery, WebhookEndpoint
from followups.retries import WEBHOOK_RETRIES
from followups.services import team_create
from followups.services.outbox import webhook_events_queue
from followups.services.webhooks import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhooks_deliver,
)
from followups.webhooks import WebhookVerificationError, slack_message, verify
from tests.factories import make_response
from tests.servers import serving
from tests.test_outgoing import INTERNAL_URLS

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
EVENT = ("case.closed", {"id": 12, "status": "closed", "owner": "alice", "response": {"score": 3, "customer": "C-9"}})


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1 that records each POST and answers with the next queued status."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.location = ""  # where a 3xx answer points

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/closedloop"

    def events(self) -> list[str]:
        return [request.json()["type"] for request in self.received]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        reply = b"ok" if status < 300 else b"Internal trouble: " + b"x" * 5000
        self.send_response(status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args) -> None:
        pass  # keep the test output quiet


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def endpoint_for(url: str, maya=None, **fields) -> WebhookEndpoint:
    return webhook_endpoint_create(url=url, created_by=maya, **fields)


def queue(*events, now: datetime = T0) -> list[WebhookDelivery]:
    webhook_events_queue(list(events) or [EVENT], now=now)
    return list(WebhookDelivery.objects.order_by("pk"))


def test_a_delivery_is_posted_signed_with_the_endpoint_secret_and_recorded(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya)
    [delivery] = queue()

    assert webhooks_deliver(now=T0) == 1

    [request] = receiver.received
    assert request.path == "/hooks/closedloop"
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["webhook-timestamp"].isdigit()
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    verify(secret=endpoint.secret, headers=request.headers, body=request.body)
    assert request.json() == {"type": "case.closed", "timestamp": T0.isoformat(), "data": EVENT[1]}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert (delivery.last_error, delivery.delivered_at) == ("", T0)


def test_another_endpoints_secret_does_not_verify_the_delivery(receiver, maya):
    endpoint_for(receiver.url, maya)
    other = endpoint_for("https://elsewhere.example.com/hook", maya, events=["case.created"])
    queue()

    webhooks_deliver(now=T0)

    with pytest.raises(WebhookVerificationError, match="No valid signature"):
        verify(secret=other.secret, headers=receiver.received[0].headers, body=receiver.received[0].body)


def test_a_500_is_retried_after_the_first_backoff_with_the_same_webhook_id(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya)
    [delivery] = queue()
    receiver.statuses = [500]

    assert webhooks_deliver(now=T0) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert delivery.delivered_at is None

    assert webhooks_deliver(now=T0 + timedelta(seconds=29)) == 0
    assert len(receiver.received) == 1  # not due yet

    assert webhooks_deliver(now=T0 + timedelta(seconds=30)) == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    verify(secret=endpoint.secret, headers=second.headers, body=second.body)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "succeeded",
        2,
        200,
        "",
    )


def test_a_refused_connection_is_recorded_and_retried_with_backoff(closed_port_url, maya):
    endpoint_for(closed_port_url, maya)
    [delivery] = queue()

    webhooks_deliver(now=T0)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "refused" in delivery.last_error.lower()
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)

    webhooks_deliver(now=T0 + timedelta(seconds=30))
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30) + timedelta(minutes=2)


def test_a_delivery_fails_after_its_last_attempt(receiver, maya):
    endpoint_for(receiver.url, maya)
    [delivery] = queue()
    receiver.statuses = [503] * 10
    now = T0
    for delay in WEBHOOK_RETRIES.delays:
        webhooks_deliver(now=now)
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert delivery.next_attempt_at == now + delay
        now = delivery.next_attempt_at

    webhooks_deliver(now=now)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 7, 503)
    assert webhooks_deliver(now=now + timedelta(days=30)) == 0
    assert len(receiver.received) == 7
    assert [d.total_seconds() for d in WEBHOOK_RETRIES.delays] == [30, 120, 600, 3600, 4 * 3600, 12 * 3600]


def test_a_redirect_is_a_failed_attempt_not_followed(receiver, maya):
    endpoint_for(receiver.url, maya)
    [delivery] = queue()
    receiver.statuses = [307]

    webhooks_deliver(now=T0)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 307)
    assert delivery.last_error == (
        "HTTP 307 Temporary Redirect: redirects are not followed; subscribe the URL it names."
    )
    assert len(receiver.received) == 1


def test_one_endpoints_failure_does_not_stop_the_others(receiver, closed_port_url, maya):
    endpoint_for(closed_port_url, maya)
    good = endpoint_for(receiver.url, maya)
    queue(EVENT, ("case.created", {"id": 13}))

    assert webhooks_deliver(now=T0) == 2

    assert sorted(receiver.events()) == ["case.closed", "case.created"]
    assert WebhookDelivery.objects.filter(endpoint=good, status="succeeded").count() == 2
    assert WebhookDelivery.objects.exclude(endpoint=good).filter(status="pending", attempts=1).count() == 2


def test_an_endpoint_gets_its_events_in_the_order_they_happened(receiver, maya):
    endpoint_for(receiver.url, maya)
    queue(*[(event, {"id": n}) for n, event in enumerate(["case.created", "case.assigned", "case.closed"] * 3)])

    webhooks_deliver(now=T0)

    assert [request.json()["data"]["id"] for request in receiver.received] == list(range(9))


def test_more_deliveries_than_one_batch_are_all_sent(receiver, maya):
    endpoint_for(receiver.url, maya)
    queue(*[("case.created", {"id": n}) for n in range(45)])

    assert webhooks_deliver(now=T0) == 45

    assert len({request.headers["webhook-id"] for request in receiver.received}) == 45


def test_a_deactivated_endpoints_pending_delivery_fails_unsent(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya)
    [delivery] = queue()
    webhook_endpoint_update(endpoint=endpoint, active=False)

    assert webhooks_deliver(now=T0) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.last_error == "Not sent: the endpoint is inactive."
    assert receiver.received == []
    assert queue(("case.created", {"id": 1})) == [delivery]  # no new deliveries either


def test_a_replayed_delivery_is_sent_again_with_the_same_webhook_id(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya)
    [delivery] = queue()
    webhooks_deliver(now=T0)
    later = T0 + timedelta(days=2)

    replayed = webhook_delivery_replay(delivery=delivery, now=later)

    assert (replayed.status, replayed.attempts, replayed.next_attempt_at, replayed.delivered_at) == (
        "pending",
        0,
        later,
        None,
    )
    assert webhooks_deliver(now=later) == 1
    first, second = receiver.received
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert second.json() == first.json()
    verify(secret=endpoint.secret, headers=second.headers, body=second.body)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("succeeded", 1, later)


def test_a_failed_delivery_replayed_gets_a_fresh_round_of_attempts(closed_port_url, receiver, maya):
    endpoint = endpoint_for(closed_port_url, maya)
    [delivery] = queue()
    delivery.status, delivery.attempts = "failed", 7
    delivery.save()
    webhook_endpoint_update(endpoint=endpoint, url=receiver.url)

    webhook_delivery_replay(delivery=delivery, now=T0)
    webhooks_deliver(now=T0)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)


def test_a_delivery_of_an_inactive_endpoint_cannot_be_replayed(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya)
    [delivery] = queue()
    webhook_endpoint_update(endpoint=endpoint, active=False)

    with pytest.raises(ConflictError):
        webhook_delivery_replay(delivery=delivery)


def test_a_slack_endpoint_gets_a_slack_message_body(receiver, maya):
    endpoint = endpoint_for(receiver.url, maya, payload_format="slack")
    queue()

    webhooks_deliver(now=T0)

    [request] = receiver.received
    assert request.json() == slack_message("case.closed", EVENT[1])
    assert set(request.json()) == {"text", "blocks"}
    verify(secret=endpoint.secret, headers=request.headers, body=request.body)


def test_an_endpoint_subscribed_to_some_events_gets_only_those(receiver, maya):
    endpoint_for(receiver.url, maya, events=["case.closed", "case.breached"])
    every = endpoint_for("https://every.example.com/hook", maya)
    events = [(event, {"id": 1}) for event in ["response.received", "case.created", "case.closed", "case.breached"]]

    queue(*events)
    webhooks_deliver(now=T0)

    assert sorted(receiver.events()) == ["case.breached", "case.closed"]
    assert WebhookDelivery.objects.filter(endpoint=every).count() == 4


def test_the_whole_path_from_a_detractor_to_the_receiver(
    receiver, maya, alice, survey, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, maya)
    team_create(slug="service-desk", name="Service desk", members=["alice"])

    with django_capture_on_commit_callbacks(execute=True):
        response = make_response(2, customer="C-1042", comment="VPN token took a week", ticket_ref="INC-7")

    case = Case.objects.get(response=response)
    assert sorted(receiver.events()) == ["case.assigned", "case.created", "response.received"]
    for request in receiver.received:
        verify(secret=endpoint.secret, headers=request.headers, body=request.body)
    bodies = {request.json()["type"]: request.json()["data"] for request in receiver.received}
    assert bodies["response.received"]["score"] == 2
    assert bodies["response.received"]["customer"] == "C-1042"
    assert bodies["case.created"]["id"] == case.pk
    assert bodies["case.created"]["response"]["comment"] == "VPN token took a week"
    assert bodies["case.assigned"]["owner"] == "alice"
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


# Endpoint validation


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://files.example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://[::1"}, "url"),
        ({"url": "https://example.com/" + "x" * 500}, "url"),
        ({"url": "https://example.com/hook", "events": ["case.created", "case.exploded"]}, "events"),
        ({"url": "https://example.com/hook", "payload_format": "teams"}, "payload_format"),
        ({"url": "https://example.com/hook", "description": "d" * 201}, "description"),
    ],
)
def test_bad_endpoints_are_refused_with_the_field_named(fields, field, maya):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(created_by=maya, **fields)

    assert list(refused.value.message_dict) == [field]
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_gets_a_standard_webhooks_secret_and_its_events_once_each(maya):
    endpoint = endpoint_for(" https://example.com/hook ", maya, events=["case.closed", "case.closed"])

    assert endpoint.url == "https://example.com/hook"
    assert endpoint.events == ["case.closed"]
    assert endpoint.secret.startswith("whsec_")


# Internal targets (the receiver listens on 127.0.0.1, so a request that got through would show)


def _stored_endpoint(url: str, maya) -> WebhookEndpoint:
    """An endpoint stored while private targets were allowed, or before they were refused."""
    return WebhookEndpoint.objects.create(url=url, created_by=maya)


@pytest.mark.parametrize(("url", "kind"), INTERNAL_URLS)
def test_a_delivery_to_an_internal_address_is_refused_unsent(receiver, maya, settings, url, kind):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    _stored_endpoint(url.format(port=receiver.port), maya)
    [delivery] = queue()

    assert webhooks_deliver(now=T0) == 0

    assert receiver.received == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error.startswith("Refused: ")
    assert f" {kind} address" in delivery.last_error


def test_a_name_that_points_inside_by_delivery_time_is_refused(receiver, maya, settings, monkeypatch):
    # Public when subscribed, loopback when delivered: the check is on the address resolved then.
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    answers = {"desk.example.com": "93.184.215.14"}
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *rest, **kw: real(answers.get(host, host), *rest, **kw))
    endpoint_for(f"http://desk.example.com:{receiver.port}/hooks", maya)
    answers["desk.example.com"] = "127.0.0.1"
    [delivery] = queue()

    webhooks_deliver(now=T0)

    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.last_error == (
        "Refused: desk.example.com resolves to 127.0.0.1, a loopback address;"
        " requests to internal addresses are not sent."
    )


def test_private_targets_are_delivered_when_allowed(receiver, maya, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    endpoint_for(f"http://localhost:{receiver.port}/hooks", maya)
    [delivery] = queue()

    assert webhooks_deliver(now=T0) == 1

    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_a_redirect_to_an_internal_address_is_not_followed(receiver, maya, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    endpoint_for(receiver.url, maya)
    [delivery] = queue()
    with serving(Receiver()) as inside:
        receiver.statuses, receiver.location = [308], f"http://127.0.0.1:{inside.port}/admin"

        webhooks_deliver(now=T0)

        assert inside.received == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 308)
    assert delivery.last_error == "HTTP 308 Permanent Redirect: redirects are not followed; subscribe the URL it names."


def test_the_receivers_reply_is_never_stored(receiver, maya):
    endpoint_for(receiver.url, maya)
    [delivery] = queue()
    receiver.statuses = [500]

    webhooks_deliver(now=T0)

    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert "trouble" not in delivery.last_error
    assert not any("trouble" in str(value) for value in WebhookDelivery.objects.values().get().values())


@pytest.mark.parametrize(("url", "kind"), INTERNAL_URLS)
def test_an_internal_address_is_refused_when_subscribing(maya, settings, url, kind):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(url=url.format(port=8080), created_by=maya)

    [message] = refused.value.message_dict["url"]
    assert message.startswith("Refused: ") and f" {kind} address" in message
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_whose_stored_url_is_now_refused_can_still_be_deactivated(maya, settings):
    endpoint = _stored_endpoint("http://127.0.0.1:5432/", maya)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    webhook_endpoint_update(endpoint=endpoint, active=False, description="Old desk")

    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.description) == (False, "Old desk")
    with pytest.raises(ValidationError):
        webhook_endpoint_update(endpoint=endpoint, url="http://[::1]:6379/")
