"""Webhook endpoints and the delivery of their events.

``followups.services.outbox.webhook_events_queue`` writes one pending delivery per event and
subscribed endpoint; ``webhooks_deliver`` posts them. Each run claims a small batch in a short
transaction by moving the rows' next attempt to the end of a lease, posts them with no lock
held, and records each outcome before the endpoint's next post: succeeded on a 2xx, otherwise
another attempt after a growing delay, and failed once the delays are used up. A worker that
dies mid-batch has at most one post in flight per endpoint, sent again when the lease ends (the
lease follows the timeout: 30 seconds with the default); receivers drop the duplicate by its
``webhook-id``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.lib import outgoing
from closedloop.lib.exceptions import ConflictError
from closedloop.lib.updates import model_update
from followups.models import WebhookDelivery, WebhookEndpoint
from followups.models.webhooks import new_webhook_secret
from followups.retries import WEBHOOK_RETRIES
from followups.services.outbox import RUN_SECONDS, Lease, deliver_on_commit
from followups.webhooks import EVENT_TYPES, headers, slack_message

Status = WebhookDelivery.Status

BATCH = 20
# Endpoints posted to at once; one endpoint's deliveries go one after another, in order.
SENDERS = 8
ERROR_MAX = 500
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
        claimed_at = now or timezone.now()
        # One attempt takes at most the timeout in all (connecting, sending, the answer).
        lease = Lease.start(claimed_at, message_seconds=settings.WEBHOOKS_TIMEOUT_SECONDS)
        batch = _claim(claimed_at, lease)
        delivered, given_back = _post_and_record(batch, lease, now)
        succeeded += delivered
        if len(batch) < BATCH and not given_back:
            break
    return succeeded


@transaction.atomic
def _claim(now: datetime, lease: Lease) -> list[WebhookDelivery]:
    """Lease up to BATCH due deliveries; those of deactivated endpoints fail without being sent."""
    rows = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:BATCH]
    )
    inactive = [row.pk for row in rows if not row.endpoint.active]
    WebhookDelivery.objects.filter(pk__in=inactive).update(
        status=Status.FAILED, last_error="Not sent: the endpoint is inactive."
    )
    batch = [row for row in rows if row.endpoint.active]
    WebhookDelivery.objects.filter(pk__in=[row.pk for row in batch]).update(next_attempt_at=lease.until)
    return batch


def _post_and_record(batch: list[WebhookDelivery], lease: Lease, now: datetime | None) -> tuple[int, int]:
    """Post the batch, endpoints in parallel, each outcome recorded before the endpoint's next post.

    The threads do HTTP only, never the database. Deliveries the lease has no time left for go
    back to the queue, due at once. Returns how many succeeded and how many went back.
    """
    by_endpoint: dict[int, deque[WebhookDelivery]] = defaultdict(deque)
    for delivery in batch:
        by_endpoint[delivery.endpoint_id].append(delivery)
    waiting = deque(by_endpoint.values())
    posting: dict[Future[Outcome], deque[WebhookDelivery]] = {}
    succeeded = 0
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        while True:
            # Started only when a thread is free, so the lease is checked when the post begins.
            while waiting and len(posting) < SENDERS and lease.allows_another():
                queue = waiting.popleft()
                posting[pool.submit(_post, queue[0])] = queue
            if not posting:
                break
            done, _ = wait(posting, return_when=FIRST_COMPLETED)
            for future in done:
                queue = posting.pop(future)
                outcome = future.result()
                succeeded += _record(queue.popleft(), outcome, lease=lease, now=now or timezone.now())
                if queue:
                    waiting.append(queue)
    return succeeded, lease.release(delivery for queue in waiting for delivery in queue)


def _post(delivery: WebhookDelivery) -> Outcome:
    """One attempt through the guarded client: the reply's status, or a short text saying why none."""
    endpoint = delivery.endpoint
    body = _body(delivery)
    signed = headers(secret=endpoint.secret, message_id=delivery.message_id, timestamp=int(time.time()), body=body)
    try:
        reply = outgoing.post(
            endpoint.url,
            body=body,
            headers={**signed, "User-Agent": USER_AGENT},
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
        )
    except outgoing.OutgoingError as exc:  # refused, unresolvable, timed out, bad TLS...: recorded, never raised
        return Outcome(None, str(exc)[:ERROR_MAX])
    if reply.succeeded:
        return Outcome(reply.status)
    if 300 <= reply.status < 400:
        # Following it would send the signed event somewhere the manager never subscribed.
        return Outcome(reply.status, f"{reply.summary}: redirects are not followed; subscribe the URL it names.")
    return Outcome(reply.status, reply.summary)


def _body(delivery: WebhookDelivery) -> bytes:
    if delivery.endpoint.payload_format == WebhookEndpoint.Format.SLACK:
        message = slack_message(delivery.event_type, delivery.payload.get("data", {}))
    else:
        message = delivery.payload
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def _record(delivery: WebhookDelivery, outcome: Outcome, *, lease: Lease, now: datetime) -> bool:
    """Store one attempt's outcome; return whether it succeeded."""
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.succeeded:
        fields.update(status=Status.SUCCEEDED, delivered_at=now)
    elif (next_attempt_at := WEBHOOK_RETRIES.next_attempt_at(attempts, now)) is None:
        fields["status"] = Status.FAILED
    else:
        fields["next_attempt_at"] = next_attempt_at
    # Only while the row is still under this run's lease: a replay meanwhile starts a new round.
    lease.held(delivery).update(**fields)
    return outcome.succeeded


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # such as an unclosed "[" of an IPv6 host
        return ""


def _target_refusal(url: str) -> str | None:
    """Why the product will not post to ``url``, told to whoever enters it; delivery checks again."""
    try:
        outgoing.check_target(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    except outgoing.TargetRefused as exc:
        return str(exc)
    except outgoing.OutgoingError:
        return None  # a name that does not resolve yet: each attempt's error will say so
    return None


def _validate(endpoint: WebhookEndpoint, *, new_url: bool = True) -> None:
    """Refuse bad fields; a URL being set must not lead to an internal address (a stored one is
    checked at each delivery, so an endpoint that became refused can still be deactivated)."""
    errors: dict[str, list[str]] = {}
    if _scheme(endpoint.url) not in {"http", "https"}:
        errors["url"] = ["Enter an http:// or https:// URL."]
    elif new_url and (refusal := _target_refusal(endpoint.url)):
        # Before the URL's own validation, which calls http://2130706433/ merely "not valid".
        errors["url"] = [refusal]
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
    created_by: User | None,
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
    given = {
        "url": url.strip() if url is not None else None,
        "events": list(dict.fromkeys(events)) if events is not None else None,
        "payload_format": payload_format,
        "description": description.strip() if description is not None else None,
        "active": active,
    }
    new_url = given["url"] is not None and given["url"] != endpoint.url
    model_update(
        endpoint,
        {name: value for name, value in given.items() if value is not None},
        validate=partial(_validate, new_url=new_url),
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret, shown once by the caller; the old one stops at once.

    At once, because a secret is rotated when it may have leaked. Deliveries the receiver refuses
    until it has the new secret are retried with the usual backoff, signed with the new one.
    """
    model_update(endpoint, {"secret": new_webhook_secret()})
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
    model_update(
        delivery,
        {"status": Status.PENDING, "attempts": 0, "next_attempt_at": now or timezone.now(), "delivered_at": None},
    )
    deliver_on_commit("followups.tasks.webhooks_deliver")
    return delivery


# Reads shared by the API and the pages.
