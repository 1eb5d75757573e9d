"""Side effects recorded as rows in the caller's transaction and delivered after it commits.

Case events, staff emails and webhook deliveries are all written set-based next to the
change that causes them; the delivery tasks are enqueued once per transaction on commit, so a
worker never looks for rows that are not committed yet, and a rolled-back change sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any
from uuid import uuid4

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from closedloop.lib.db import insert_rows
from followups.models import CaseEvent, Notification, WebhookDelivery, WebhookEndpoint


def events_record(events: Sequence[CaseEvent]) -> None:
    """Insert case history rows set-based (COPY for large batches)."""
    insert_rows(CaseEvent, events)


def notifications_queue(notifications: Sequence[Notification]) -> None:
    """Queue staff emails; one already queued under the same ``dedupe_key`` is not queued again."""
    if not notifications:
        return
    insert_rows(Notification, notifications, ignore_conflicts=True)
    deliver_on_commit("followups.tasks.notifications_deliver")


def webhook_events_queue(events: Iterable[tuple[str, dict[str, Any]]], *, now: datetime | None = None) -> int:
    """Queue one delivery per event for every active endpoint subscribed to its type.

    Returns the number of deliveries queued. Endpoints with no event list get every event.
    """
    endpoints = list(WebhookEndpoint.objects.filter(active=True).only("id", "events"))
    if not endpoints:
        return 0
    now = now or timezone.now()
    deliveries = []
    for event_type, data in events:
        message_id = f"msg_{uuid4().hex}"
        payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
        deliveries.extend(
            WebhookDelivery(
                endpoint_id=endpoint.pk,
                message_id=message_id,
                event_type=event_type,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
            if not endpoint.events or event_type in endpoint.events
        )
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=2000)
    if deliveries:
        deliver_on_commit("followups.tasks.webhooks_deliver")
    return len(deliveries)


def webhooks_subscribed(event_type: str) -> bool:
    """Whether an active endpoint receives ``event_type``, so its payloads are worth building."""
    endpoints = WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True)
    return any(not events or event_type in events for events in endpoints)


def deliver_on_commit(task: str) -> None:
    # The delivery tasks claim whatever is pending, so enqueueing one twice costs nothing.
    transaction.on_commit(partial(async_task, task))
