"""Delivering the staff email outbox: each row claimed, sent and marked in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from followups.models import Notification
from followups.notifications import render

# Waits before the 2nd, 3rd, ... attempt; after the last the row is marked failed.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
BATCH = 100


def notifications_deliver(*, now: datetime | None = None) -> int:
    """Send every pending email whose time has come; return how many were sent."""
    sent = 0
    while True:
        handled, delivered = _deliver_batch(now or timezone.now())
        sent += delivered
        if handled < BATCH:
            return sent


@transaction.atomic
def _deliver_batch(now: datetime) -> tuple[int, int]:
    rows = list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient", "case__response__customer", "case__response__survey", "case__team", "case__owner")
        .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")[:BATCH]
    )
    if not rows:
        return 0, 0
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # the server is down or refuses us: every claimed row waits its turn
        for row in rows:
            row.attempts += 1
            _failed(row, exc, now)
        Notification.objects.bulk_update(rows, ["status", "attempts", "last_error", "next_attempt_at"])
        return len(rows), 0
    try:
        return len(rows), sum(_send(row, connection, now) for row in rows)
    finally:
        connection.close()


def _send(row: Notification, connection, now: datetime) -> bool:
    row.attempts += 1
    try:
        row.subject, row.body = render(row, now)
        message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.email])
        message.connection = connection
        message.send()
    except Exception as exc:  # any transport error: record it and retry later
        _failed(row, exc, now)
        sent = False
    else:
        row.status, row.sent_at, row.last_error = Notification.Status.SENT, now, ""
        sent = True
    row.save(update_fields=["status", "attempts", "subject", "body", "sent_at", "last_error", "next_attempt_at"])
    return sent


def _failed(row: Notification, exc: Exception, now: datetime) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts > len(RETRY_DELAYS):
        row.status = Notification.Status.FAILED
    else:
        row.next_attempt_at = now + RETRY_DELAYS[row.attempts - 1]


@transaction.atomic
def notifications_retry(*, notifications) -> int:
    """Queue emails again now (failed or pending), e.g. after fixing the mail server settings."""
    count = notifications.exclude(status=Notification.Status.SENT).update(
        status=Notification.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    transaction.on_commit(partial(async_task, "followups.tasks.notifications_deliver"))
    return count
