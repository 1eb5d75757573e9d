"""Delivering the staff email outbox: rows claimed under a lease, each marked once it is sent.

A run claims a batch in a short transaction by moving the rows' next attempt to the end of a
lease, sends them over one SMTP connection with no lock held, and marks each row in its own
statement as soon as the server has accepted or refused its message. A worker killed mid-batch
therefore sends again at most the message it had in flight; the rest of its claim is due when
the lease ends, which follows the SMTP timeout (50 seconds with the default).
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from followups.models import Notification
from followups.notifications import render
from followups.retries import EMAIL_RETRIES
from followups.services.outbox import RUN_SECONDS, Lease

Status = Notification.Status

BATCH = 100
# Django's SMTP backend waits forever on a silent server unless EMAIL_TIMEOUT is set; a claim
# must not outlast its lease.
DEFAULT_TIMEOUT_SECONDS = 10
# What a mark writes: the outcome of the attempt, and the rendered message as the record of it.
MARKED = ("status", "attempts", "subject", "body", "sent_at", "last_error", "next_attempt_at")


def notifications_deliver(*, now: datetime | None = None) -> int:
    """Send every pending email whose time has come; return how many were sent."""
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < RUN_SECONDS:
        delivered, more = _deliver_batch(now)
        sent += delivered
        if not more:
            break
    return sent


def _deliver_batch(now: datetime | None) -> tuple[int, bool]:
    """Claim, send and mark one batch; return how many it sent and whether more may be due."""
    timeout = settings.EMAIL_TIMEOUT or DEFAULT_TIMEOUT_SECONDS
    claimed_at = now or timezone.now()
    # A healthy server answers each command at once, and one that stalls is given up on at
    # the first reply it withholds: two timeouts bound one message.
    lease = Lease.start(claimed_at, message_seconds=2 * timeout)
    rows = _claim(claimed_at, lease)
    if not rows:
        return 0, False
    connection = get_connection(timeout=timeout)
    try:
        connection.open()
    except Exception as exc:  # the server is down or refuses us: every claimed row waits its turn
        for row in rows:
            row.attempts += 1
            _failed(row, exc, now or timezone.now())
            _mark(row, lease)
        return 0, len(rows) == BATCH
    try:
        sent, given_back = _send_all(rows, connection, lease, now)
        return sent, len(rows) == BATCH or given_back > 0
    finally:
        connection.close()


@transaction.atomic
def _claim(now: datetime, lease: Lease) -> list[Notification]:
    """Lease up to BATCH due rows; the row locks last only as long as this transaction."""
    rows = list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient", "case__response__customer", "case__response__survey", "case__team", "case__owner")
        .filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:BATCH]
    )
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=lease.until)
    return rows


def _send_all(
    rows: list[Notification], connection: BaseEmailBackend, lease: Lease, now: datetime | None
) -> tuple[int, int]:
    """Send the rows in order while the lease has time; return how many were sent and given back."""
    sent = 0
    for index, row in enumerate(rows):
        if not lease.allows_another():
            return sent, lease.release(rows[index:])
        sent += _send(row, connection, lease, now or timezone.now())
    return sent, 0


def _send(row: Notification, connection: BaseEmailBackend, lease: Lease, now: datetime) -> bool:
    row.attempts += 1
    try:
        row.subject, row.body = render(row, now)
        message = EmailMessage(
            row.subject,
            row.body,
            settings.DEFAULT_FROM_EMAIL,
            [row.email],
            connection=connection,
            headers={"Message-ID": notification_message_id(row)},
        )
        message.send()
    except Exception as exc:  # any transport error: record it and retry later
        _failed(row, exc, now)
        sent = False
    else:
        row.status, row.sent_at, row.last_error = Status.SENT, now, ""
        sent = True
    _mark(row, lease)
    return sent


def notification_message_id(row: Notification) -> str:
    """The email's Message-ID, the same on every attempt: a mail client drops a copy it already has.

    The creation time keeps it unique when a database is recreated and its ids start again.
    """
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<notification.{row.pk}.{row.created_at:%Y%m%d%H%M%S%f}@{host}>"


def _mark(row: Notification, lease: Lease) -> None:
    """Record one attempt at once, in its own statement, while the row is under this run's lease."""
    lease.held(row).update(**{field: getattr(row, field) for field in MARKED})


def _failed(row: Notification, exc: Exception, now: datetime) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    next_attempt_at = EMAIL_RETRIES.next_attempt_at(row.attempts, now)
    if next_attempt_at is None:
        row.status = Status.FAILED
    else:
        row.next_attempt_at = next_attempt_at


@transaction.atomic
def notifications_retry(*, notifications: QuerySet[Notification]) -> int:
    """Queue emails again now (failed or pending), e.g. after fixing the mail server settings."""
    count = notifications.exclude(status=Status.SENT).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    transaction.on_commit(partial(async_task, "followups.tasks.notifications_deliver"))
    return count
