"""Side effects recorded as rows in the caller's transaction and delivered after it commits.

Case events, staff emails, customer updates and webhook deliveries are all written set-based next to the
change that causes them; the delivery tasks are enqueued once per transaction on commit, so a
worker never looks for rows that are not committed yet, and a rolled-back change sends nothing.

A delivery run claims rows under a ``Lease`` and records each message the moment it is sent, so
a worker killed mid-run sends again at most the message it had in flight; the rest of its claim
is due again when the lease ends, and the next run (the schedule, every minute, or the next
change's enqueue) takes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from closedloop.lib.db import insert_rows
from followups.models import CaseEvent, Notification, WebhookDelivery, WebhookEndpoint

# Spare time in every lease: the last message's outcome is written, and the clocks of the
# machines sharing the database may differ by a few seconds.
LEASE_MARGIN_SECONDS = 10
# A run stops claiming after this long, well inside the task timeout (Q_TIMEOUT, 300 s), past
# which the cluster kills the worker mid-send; the schedule resumes.
RUN_SECONDS = 120


@dataclass(frozen=True)
class Lease:
    """A run's claim on outbox rows, held by moving their next attempt to ``until``.

    It lasts two messages and the margin: a run starts a message only while one message and
    the margin are left, so it never sends a row after another run may have claimed it again.
    """

    until: datetime
    ends: float  # ``until`` on this process's monotonic clock, which the tests' ``now`` leaves alone
    message_seconds: float
    # The status of a row still to send (survey invitations say "scheduled").
    pending: str = "pending"

    @classmethod
    def start(cls, now: datetime, *, message_seconds: float, pending: str = "pending") -> Lease:
        """A lease from ``now`` for messages that each take at most ``message_seconds``."""
        seconds = 2 * message_seconds + LEASE_MARGIN_SECONDS
        return cls(now + timedelta(seconds=seconds), time.monotonic() + seconds, message_seconds, pending)

    def allows_another(self) -> bool:
        """Whether a message started now is sent and recorded before the lease ends."""
        return time.monotonic() + self.message_seconds + LEASE_MARGIN_SECONDS <= self.ends

    def held(self, row: Any) -> QuerySet[Any]:
        """The row while it is still pending under this lease (not claimed again, nor replayed)."""
        return type(row)._default_manager.filter(pk=row.pk, status=self.pending, next_attempt_at=self.until)

    def release(self, rows: Iterable[Any]) -> int:
        """Give back claimed rows the lease has no time left for: due again as they were.

        Returns how many, so the run claims them again at once instead of leaving them to the
        next run.
        """
        given_back = 0
        for row in rows:
            given_back += self.held(row).update(next_attempt_at=row.next_attempt_at)
        return given_back


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
    deliveries: list[WebhookDelivery] = []
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


def deliver_on_commit(task: str, *, runs: int = 1) -> None:
    """Enqueue the delivery ``task`` once the current transaction commits, once per commit.

    The delivery tasks claim whatever is pending, so one enqueue per commit is enough, and a
    transaction that queues many batches (a bulk change, the demo's replayed quarter) must not
    flood the task queue. A large fan-out asks for several ``runs`` at once, so that the workers
    of every cluster share it (their claims never overlap). Every call still registers its
    callback, so a rolled-back savepoint cannot take the only one with it: the first to run
    after the commit enqueues, and the others find nothing registered since and do nothing.
    """
    waiting: dict[str, int] = getattr(_awaiting_commit, "tasks", {})
    waiting[task] = max(waiting.get(task, 0), runs)
    _awaiting_commit.tasks = waiting
    transaction.on_commit(partial(_enqueue_once, task))


# Per thread, as database connections are: the delivery tasks registered since the last enqueue.
_awaiting_commit = threading.local()


def _enqueue_once(task: str) -> None:
    waiting: dict[str, int] = getattr(_awaiting_commit, "tasks", {})
    for _ in range(waiting.pop(task, 0)):
        async_task(task)
