"""Delivering the staff email outbox: each row claimed, sent and marked in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from followups.models import Notification

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
        Notification.objects.select_for_update(skip_locked=True)
        .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")[:BATCH]
    )
    if not rows:
        return 0, 0
    delivered = 0
    with get_connection() as connection:
        for row in rows:
            row.attempts += 1
            try:
                message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.email])
                message.connection = connection
                message.send()
            except Exception as exc:  # any transport error: record it and retry later
                _failed(row, exc, now)
            else:
                row.status, row.sent_at, row.last_error = Notification.Status.SENT, now, ""
                delivered += 1
            row.save(update_fields=["status", "attempts", "sent_at", "last_error", "next_attempt_at"])
    return len(rows), delivered


def _failed(row: Notification, exc: Exception, now: datetime) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts > len(RETRY_DELAYS):
        row.status = Notification.Status.FAILED
    else:
        row.next_attempt_at = now + RETRY_DELAYS[row.attempts - 1]
