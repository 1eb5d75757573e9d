"""Webhook endpoints and the delivery of their events.

``followups.services.outbox.webhook_events_queue`` writes one pending delivery per event and
subscribed endpoint; ``webhooks_deliver`` posts them. Each run claims a small batch in a short
transaction by moving the rows' next attempt past a lease, posts them with no lock held, then
records each outcome: succeeded on a 2xx, otherwise another attempt after a growing delay, and
failed once the delays are used up. A worker that dies mid-batch leaves its rows to be claimed
again when the lease ends; receivers drop the duplicate by its ``webhook-id``.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.lib.exceptions import ConflictError
from followups.models import WebhookDelivery, WebhookEndpoint
from followups.services.outbox import deliver_on_commit
from followups.webhooks import EVENT_TYPES, headers, slack_message

Status = WebhookDelivery.Status

# Waits before the 2nd, 3rd, ... attempt; a delivery that fails after the last is marked failed.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
)
BATCH = 20
# A claimed batch must be recorded before its lease ends, or another run posts it again: 20
# deliveries to one endpoint that times out on connect and on read take at most 400 seconds.
LEASE = timedelta(minutes=10)
TIMEOUT_SECONDS = 10
# A run stops claiming batches after this long (the task timeout is 300 s); the schedule resumes.
RUN_SECONDS = 120
# Endpoints posted to at once; one endpoint's deliveries go one after another, in order.
SENDERS = 8
ERROR_MAX = 500
BODY_PREVIEW = 200
USER_AGENT = "closedloop-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhooks_deliver(*, now: datetime | None = None) -> int:
    """Post every pending delivery whose attempt time has come; return how many succeeded."""
    started = time.monotonic()
    succeeded = 0
    while time.monotonic() - started < RUN_SECONDS:
        current = now or timezone.now()
        batch, lease_until = _claim(current)
        for delivery, outcome in _post_all(batch):
            succeeded += _record(delivery, outcome, lease_until=lease_until, now=now or timezone.now())
        if len(batch) < BATCH:
            break
    return succeeded


@transaction.atomic
def _claim(now: datetime) -> tuple[list[WebhookDelivery], datetime]:
    """Lease up to BATCH due deliveries; those of deactivated endpoints fail without being sent."""
    rows = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:BATCH]
    )
    lease_until = now + LEASE
    inactive = [row.pk for row in rows if not row.endpoint.active]
    WebhookDelivery.objects.filter(pk__in=inactive).update(
        status=Status.FAILED, last_error="Not sent: the endpoint is inactive."
    )
    batch = [row for row in rows if row.endpoint.active]
    WebhookDelivery.objects.filter(pk__in=[row.pk for row in batch]).update(next_attempt_at=lease_until)
    return batch, lease_until


def _post_all(batch: list[WebhookDelivery]) -> list[tuple[WebhookDelivery, Outcome]]:
    """Post the batch, endpoints in parallel; the threads do HTTP only, never the database."""
    if not batch:
        return []
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in batch:
        by_endpoint[delivery.endpoint_id].append(delivery)
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        groups = pool.map(_post_in_order, by_endpoint.values())
        return [pair for group in groups for pair in group]


def _post_in_order(deliveries: list[WebhookDelivery]) -> list[tuple[WebhookDelivery, Outcome]]:
    return [(delivery, _post(delivery)) for delivery in deliveries]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is the receiver's answer, recorded as a failed attempt: following it would
    # turn the POST into a GET and send the event somewhere the manager never subscribed.
    def redirect_request(self, *args, **kwargs) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> Outcome:
    endpoint = delivery.endpoint
    try:
        body = _body(delivery)
        signed = headers(secret=endpoint.secret, message_id=delivery.message_id, timestamp=int(time.time()), body=body)
        request = urllib.request.Request(
            endpoint.url, data=body, headers={**signed, "User-Agent": USER_AGENT}, method="POST"
        )
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as reply:
            return Outcome(reply.status)
    except urllib.error.HTTPError as exc:
        return Outcome(exc.code, f"HTTP {exc.code} {exc.reason}: {_preview(exc)}"[:ERROR_MAX])
    except Exception as exc:  # refused, timed out, bad TLS, unparsable URL...: recorded, never raised
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Outcome(None, f"{type(exc).__name__}: {reason}"[:ERROR_MAX])


def _preview(reply: urllib.error.HTTPError) -> str:
    """The start of an error reply's body, on one line: enough to see why, never a dump."""
    try:
        return " ".join(reply.read(BODY_PREVIEW).decode(errors="replace").split())
    except (OSError, http.client.HTTPException):  # the receiver hung up or stalled while sending it
        return ""


def _body(delivery: WebhookDelivery) -> bytes:
    if delivery.endpoint.payload_format == WebhookEndpoint.Format.SLACK:
        message = slack_message(delivery.event_type, delivery.payload.get("data", {}))
    else:
        message = delivery.payload
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def _record(delivery: WebhookDelivery, outcome: Outcome, *, lease_until: datetime, now: datetime) -> bool:
    """Store one attempt's outcome; return whether it succeeded."""
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.succeeded:
        fields.update(status=Status.SUCCEEDED, delivered_at=now)
    elif attempts > len(RETRY_DELAYS):
        fields["status"] = Status.FAILED
    else:
        fields["next_attempt_at"] = now + RETRY_DELAYS[attempts - 1]
    # Only while the row is still under this run's lease: a replay meanwhile starts a new round.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING, next_attempt_at=lease_until).update(**fields)
    return outcome.succeeded


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # such as an unclosed "[" of an IPv6 host
        return ""


def _validate(endpoint: WebhookEndpoint) -> None:
    errors: dict[str, list[str]] = {}
    if _scheme(endpoint.url) not in {"http", "https"}:
        errors["url"] = ["Enter an http:// or https:// URL."]
    unknown = [event for event in endpoint.events if event not in EVENT_TYPES]
    if unknown:
        errors["events"] = [f"Unknown event {event!r}; choose from {', '.join(EVENT_TYPES)}." for event in unknown]
    try:
        endpoint.full_clean(exclude=list(errors))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    events: Iterable[str] = (),
    payload_format: str = WebhookEndpoint.Format.STANDARD,
    description: str = "",
    created_by: AbstractUser | None,
) -> WebhookEndpoint:
    """Subscribe ``url`` to ``events`` (none: every event), with a new signing secret."""
    endpoint = WebhookEndpoint(
        url=url.strip(),
        events=list(dict.fromkeys(events)),
        payload_format=payload_format,
        description=description.strip(),
        created_by=created_by,
    )
    _validate(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    payload_format: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change the given fields. An inactive endpoint gets no new events; its due ones fail unsent."""
    if url is not None:
        endpoint.url = url.strip()
    if events is not None:
        endpoint.events = list(dict.fromkeys(events))
    if payload_format is not None:
        endpoint.payload_format = payload_format
    if description is not None:
        endpoint.description = description.strip()
    if active is not None:
        endpoint.active = active
    _validate(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its delivery history."""
    endpoint.delete()


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again now, with the same ``webhook-id`` and a fresh round of attempts."""
    delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.active:
        raise ConflictError("Activate the endpoint before replaying its deliveries.")
    delivery.status = Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now or timezone.now()
    delivery.delivered_at = None
    delivery.full_clean()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    deliver_on_commit("followups.tasks.webhooks_deliver")
    return delivery


# Reads shared by the API and the pages.
