"""Delivering the email outboxes (staff emails, customer updates, survey invitations): rows
claimed under a lease, each marked once sent.

Every outbox goes through one loop. A run claims a batch in a short transaction (``select_for_update``
with ``skip_locked``, so concurrent runs on any machine take disjoint rows) by moving the rows'
next attempt to the end of a lease, sends them over one SMTP connection with no lock held, and
marks each row in its own statement once the server has accepted or refused its message: the run
renders the next message while the server reads this one, then reads the verdict
(``closedloop.lib.mail``), and marks the row while the server answers the next message's first
command, before that message's content goes.
A worker killed mid-batch therefore sends again at most the message it had in flight; the rest
of its claim is due when the lease ends, which follows the SMTP timeout (50 seconds with the
default). An outbox says which rows are due, how a row becomes a message, and what follows a
sent row; customer updates also check each customer's opt-outs and erasure in the claim, at the
moment of sending, and suppress the rows of customers who must no longer be emailed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, models, transaction
from django.db import connection as db_connection
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from closedloop.lib import mail
from followups.customer_emails import (
    CustomerEmail,
    case_message_email,
    invitation_email,
    invitation_sender,
    update_email,
)
from followups.models import CaseMessage, CustomerUpdate, Notification
from followups.notifications import manager_digest_stop_url, not_to_be_sent, render
from followups.retries import EMAIL_RETRIES
from followups.services.outbox import RUN_SECONDS, Lease, webhook_events_queue, webhooks_subscribed
from surveys.models import Channel, Customer, Invitation, Survey

Status = Notification.Status

BATCH = 100
# Django's SMTP backend waits forever on a silent server unless EMAIL_TIMEOUT is set; a claim
# must not outlast its lease.
DEFAULT_TIMEOUT_SECONDS = 10


class EmailOutbox:
    """One table of emails to send: which rows are due, and how a row becomes a message."""

    model: ClassVar[type[models.Model]]
    # The status of a row still to send.
    pending: ClassVar[str] = "pending"
    # What a mark writes: the outcome of the attempt, and the rendered message as the record of it.
    marked: ClassVar[tuple[str, ...]] = (
        "status",
        "attempts",
        "subject",
        "body",
        "sent_at",
        "last_error",
        "next_attempt_at",
    )

    def due(self) -> QuerySet[Any]:
        """The pending rows, with what rendering them reads."""
        raise NotImplementedError

    def blocked(self, row: Any) -> str:
        """Why ``row`` must not be sent now (its suppression reason), or empty."""
        return ""

    def suppress(self, rows: QuerySet[Any], reason: str) -> None:
        """Record that ``rows`` will never be sent, and why."""
        raise NotImplementedError

    def settle(self, rows: list[Any]) -> list[Any]:
        """Of the rows being claimed, those to send; the others are suppressed in the claim's transaction.

        The claim reads each customer as they are now, so an opt-out counts until the moment of sending.
        """
        blocked: dict[str, list[int]] = defaultdict(list)
        sendable = []
        for row in rows:
            reason = self.blocked(row)
            if reason:
                blocked[reason].append(row.pk)
            else:
                sendable.append(row)
        for reason, ids in blocked.items():
            self.suppress(self.model._default_manager.filter(pk__in=ids), reason)
        return sendable

    def message(self, row: Any, connection: BaseEmailBackend, now: datetime) -> EmailMessage:
        """The message for ``row``, rendered now; sets the row's subject and body as the record."""
        raise NotImplementedError

    def after_batch(self, sent: Sequence[Any], now: datetime) -> None:
        """What follows the rows a batch sent (their webhook events)."""


class NotificationOutbox(EmailOutbox):
    model = Notification

    def due(self) -> QuerySet[Notification]:
        return Notification.objects.select_related(
            "recipient__agent_profile",
            "case__response__customer",
            "case__response__survey",
            "case__team",
            "case__owner",
        ).filter(status=Status.PENDING)

    def blocked(self, row: Notification) -> str:
        return not_to_be_sent(row)

    def suppress(self, rows: QuerySet[Notification], reason: str) -> None:
        rows.update(status=Status.SUPPRESSED, suppressed_reason=reason)

    def message(self, row: Notification, connection: BaseEmailBackend, now: datetime) -> EmailMessage:
        row.subject, row.body, html = render(row, now)
        headers = {"Message-ID": notification_message_id(row)}
        if row.kind == Notification.Kind.MANAGER_DIGEST:
            # RFC 8058 one-click unsubscribe: the mail client posts to the signed stop link.
            headers["List-Unsubscribe"] = f"<{manager_digest_stop_url(row.recipient_id or 0)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = EmailMultiAlternatives(
            row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.email], connection=connection, headers=headers
        )
        if html is not None:
            message.attach_alternative(html, "text/html")
        return message


class CustomerUpdateOutbox(EmailOutbox):
    model = CustomerUpdate

    def due(self) -> QuerySet[CustomerUpdate]:
        return CustomerUpdate.objects.select_related("improvement", "customer", "response").filter(
            status=CustomerUpdate.Status.PENDING
        )

    def blocked(self, row: CustomerUpdate) -> str:
        """Customers who unsubscribed, lost their address or were erased since the ship get no update."""
        return not_to_be_emailed(row.customer)

    def suppress(self, rows: QuerySet[CustomerUpdate], reason: str) -> None:
        rows.update(status=CustomerUpdate.Status.SUPPRESSED, suppressed_reason=reason)

    def message(self, row: CustomerUpdate, connection: BaseEmailBackend, now: datetime) -> EmailMessage:
        email = update_email(improvement=row.improvement, customer=row.customer, response=row.response)
        row.subject, row.body = email.subject, email.text
        return customer_message(email, row.customer.email, connection, _message_id("update", row.pk, row.created_at))

    def after_batch(self, sent: Sequence[CustomerUpdate], now: datetime) -> None:
        if sent and webhooks_subscribed("customer_update.sent"):
            webhook_events_queue((("customer_update.sent", customer_update_payload(row)) for row in sent), now=now)


class InvitationOutbox(EmailOutbox):
    """Survey invitations by email (the other channels are the caller's to deliver)."""

    model = Invitation
    pending = Invitation.Status.SCHEDULED

    def due(self) -> QuerySet[Invitation]:
        return Invitation.objects.select_related("survey", "customer").filter(
            status=Invitation.Status.SCHEDULED, channel=Channel.EMAIL
        )

    def blocked(self, row: Invitation) -> str:
        """Customers who stopped surveys, lost their address or were erased since it was scheduled get none."""
        return not_to_be_surveyed(row.customer)

    def suppress(self, rows: QuerySet[Invitation], reason: str) -> None:
        rows.update(status=Invitation.Status.SUPPRESSED, reason=reason)

    def message(self, row: Invitation, connection: BaseEmailBackend, now: datetime) -> EmailMessage:
        email = invitation_email(invitation=row)
        row.subject, row.body = email.subject, email.text
        return customer_message(
            email, row.customer.email, connection, invitation_message_id(row), sender=invitation_sender(row.survey)
        )


class CaseMessageOutbox(EmailOutbox):
    """Emails agents wrote to a case's customer; opt-outs are read again at the moment of sending."""

    model = CaseMessage

    def due(self) -> QuerySet[CaseMessage]:
        return CaseMessage.objects.select_related("customer", "author").filter(status=CaseMessage.Status.PENDING)

    def blocked(self, row: CaseMessage) -> str:
        return not_to_be_emailed(row.customer)

    def suppress(self, rows: QuerySet[CaseMessage], reason: str) -> None:
        rows.update(status=CaseMessage.Status.SUPPRESSED, suppressed_reason=reason)

    def message(self, row: CaseMessage, connection: BaseEmailBackend, now: datetime) -> EmailMessage:
        email = case_message_email(message=row)
        return customer_message(
            email, row.customer.email, connection, _message_id("case-message", row.pk, row.created_at)
        )


def customer_message(
    email: CustomerEmail, to: str, connection: BaseEmailBackend, message_id: str, *, sender: str | None = None
) -> EmailMessage:
    """A customer email as it goes out: both its parts, its headers and a Message-ID of its row."""
    message = EmailMultiAlternatives(
        email.subject,
        email.text,
        sender or settings.DEFAULT_FROM_EMAIL,
        [to],
        connection=connection,
        headers={**email.headers, "Message-ID": message_id},
    )
    message.attach_alternative(email.html, "text/html")
    return message


def not_to_be_surveyed(customer: Customer) -> str:
    """Why an invitation must not go to ``customer`` now (a suppression reason), or empty."""
    Reason = Invitation.Reason
    if customer.erased_at is not None:
        return Reason.ERASED
    if customer.surveys_unsubscribed_at is not None:
        return Reason.UNSUBSCRIBED
    if not customer.email:
        return Reason.NO_ADDRESS
    return ""


def invitation_message_id(row: Invitation) -> str:
    """An invitation's Message-ID, the same on every attempt; a reminder is a message of its own."""
    return _message_id("reminder" if row.reminded_at else "invitation", row.pk, row.created_at)


def not_to_be_emailed(customer: Customer) -> str:
    """Why an update must not be sent to ``customer`` now (a suppressed reason), or empty.

    The same order as the record step's (``followups.services.updates``): erasure removes the address too.
    """
    Reason = CustomerUpdate.SuppressedReason
    if customer.erased_at is not None:
        return Reason.ERASED
    if not customer.email:
        return Reason.NO_ADDRESS
    if customer.updates_unsubscribed_at is not None:
        return Reason.UNSUBSCRIBED
    return ""


def customer_update_payload(update: CustomerUpdate) -> dict[str, Any]:
    """The ``customer_update.sent`` webhook event's data."""
    return {
        "id": update.pk,
        "improvement": update.improvement_id,
        "customer": update.customer.external_id,
        "status": update.status,
        "sent_at": update.sent_at.isoformat() if update.sent_at else None,
    }


NOTIFICATIONS = NotificationOutbox()
CUSTOMER_UPDATES = CustomerUpdateOutbox()
INVITATIONS = InvitationOutbox()
CASE_MESSAGES = CaseMessageOutbox()


def notifications_deliver(*, now: datetime | None = None) -> int:
    """Send every pending staff email whose time has come; return how many were sent."""
    return outbox_deliver(NOTIFICATIONS, now=now)


def customer_updates_deliver(*, now: datetime | None = None, backend: str | None = None) -> int:
    """Send every pending customer update whose time has come; return how many were sent.

    ``backend`` names an email backend in place of EMAIL_BACKEND (the demo's fictional customers).
    """
    return outbox_deliver(CUSTOMER_UPDATES, now=now, backend=backend)


def invitations_deliver(*, now: datetime | None = None, backend: str | None = None) -> int:
    """Send every scheduled email invitation whose time has come; return how many were sent."""
    return outbox_deliver(INVITATIONS, now=now, backend=backend)


@transaction.atomic
def invitations_remind(*, now: datetime | None = None) -> int:
    """Schedule the one reminder of each unanswered email invitation whose survey asks for one.

    Sent again through the same outbox after the survey's ``reminder_after_days``, at most once
    (``reminded_at``); the opt-outs are checked again when it goes.
    """
    now = now or timezone.now()
    unanswered = Invitation.objects.filter(
        status=Invitation.Status.SENT, channel=Channel.EMAIL, reminded_at__isnull=True
    )
    # One statement per reminder delay in use (a handful of surveys), each a set-based update.
    delays: set[int] = {
        days for days in Survey.objects.values_list("reminder_after_days", flat=True) if days is not None
    }
    reminded = 0
    for days in delays:
        reminded += unanswered.filter(survey__reminder_after_days=days, sent_at__lte=now - timedelta(days=days)).update(
            status=Invitation.Status.SCHEDULED, reminded_at=now, next_attempt_at=now, attempts=0
        )
    return reminded


def outbox_deliver(outbox: EmailOutbox, *, now: datetime | None = None, backend: str | None = None) -> int:
    """Deliver ``outbox``'s due rows batch after batch, for at most RUN_SECONDS; return how many were sent."""
    return _deliver_for(outbox, RUN_SECONDS, now, backend)[0]


def outbox_relay(outbox: EmailOutbox, task: str) -> int:
    """Deliver for DELIVERY_RELAY_SECONDS, then hand what is left to a successor ``task`` on the task queue.

    A cluster takes queued tasks in bulk, ahead of its free workers: runs that each went on until
    the outbox was empty would stay with the cluster that took them, and a second cluster would sit
    idle. A relay's successor goes back to the queue, where whichever cluster has a worker free
    takes it, so every cluster's workers share a fan-out. Returns how many this leg sent.
    """
    sent, more = _deliver_for(outbox, settings.DELIVERY_RELAY_SECONDS, None, None)
    if more:
        async_task(task)
    return sent


def _deliver_for(outbox: EmailOutbox, seconds: float, now: datetime | None, backend: str | None) -> tuple[int, bool]:
    """Deliver a batch, then more while ``seconds`` last; how many were sent, and whether more may be due."""
    started = time.monotonic()
    sent = 0
    while True:
        delivered, more = _deliver_batch(outbox, now, backend)
        sent += delivered
        if not more or time.monotonic() - started >= seconds:
            return sent, more


def _deliver_batch(outbox: EmailOutbox, now: datetime | None, backend: str | None) -> tuple[int, bool]:
    """Claim, send and mark one batch; return how many it sent and whether more may be due."""
    timeout = settings.EMAIL_TIMEOUT or DEFAULT_TIMEOUT_SECONDS
    claimed_at = now or timezone.now()
    # A healthy server answers each command at once, and one that stalls is given up on at
    # the first reply it withholds: two timeouts bound one message.
    lease = Lease.start(claimed_at, message_seconds=2 * timeout, pending=outbox.pending)
    rows, full = _claim(outbox, claimed_at, lease)
    if not rows:
        return 0, full
    connection = get_connection(backend, timeout=timeout)
    try:
        connection.open()
    except Exception as exc:  # the server is down or refuses us: every claimed row waits its turn
        for row in rows:
            row.attempts += 1
            _failed(row, exc, now or timezone.now())
            _mark(outbox, row, lease)
        return 0, full
    try:
        with marks_unflushed():
            sent, given_back = _send_all(outbox, rows, connection, lease, now)
    finally:
        connection.close()
    outbox.after_batch(sent, now or timezone.now())
    return len(sent), full or given_back > 0


@transaction.atomic
def _claim(outbox: EmailOutbox, now: datetime, lease: Lease) -> tuple[list[Any], bool]:
    """Lease up to BATCH due rows to send; the row locks last only as long as this transaction.

    Also returns whether the claim took a whole batch, so more may be due.
    """
    claimed = list(
        outbox.due()
        .select_for_update(skip_locked=True, of=("self",))
        .filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:BATCH]
    )
    rows = outbox.settle(claimed)
    outbox.model._default_manager.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=lease.until)
    return rows, len(claimed) == BATCH


@contextmanager
def marks_unflushed() -> Iterator[None]:
    """Commit the batch's marks without waiting for PostgreSQL to flush each one to disk.

    Each mark is a commit of its own so that a killed worker sends again at most its message in
    flight; it stays visible to every other run at once whatever this setting. Waiting for the
    flush only guards against the database server itself crashing, and costs a disk flush per
    email: with it off, such a crash forgets the marks of its last moments (three times
    ``wal_writer_delay``, 0.6 s by default), whose messages are then sent again.
    """
    if db_connection.vendor != "postgresql":
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_all(
    outbox: EmailOutbox, rows: list[Any], connection: BaseEmailBackend, lease: Lease, now: datetime | None
) -> tuple[list[Any], int]:
    """Send the rows in order while the lease has time; return the rows sent and how many were given back.

    Each message is rendered while the server still reads the one before it; that one's verdict
    is read, and its row marked while the server answers this message's first command, before
    this message's content goes: one message is in flight at a time.
    """
    transport = mail.transport(connection)
    sent: list[Any] = []
    in_flight: Any = None
    for index, row in enumerate(rows):
        moment = now or timezone.now()
        prepared, failure = _prepare(outbox, row, connection, transport, moment)
        settled = None
        if in_flight is not None:
            settled, in_flight = _verdict(in_flight, transport, now, sent), None
        if not lease.allows_another():
            if settled is not None:
                _mark(outbox, settled, lease)
            return sent, lease.release(rows[index:])
        row.attempts += 1
        mark_settled = None if settled is None else partial(_mark, outbox, settled, lease)
        if failure is None:
            failure = _submit(transport, prepared, mark_settled)
        elif mark_settled is not None:
            mark_settled()
        if failure is None:
            in_flight = row
        else:
            _failed(row, failure, moment)
            _mark(outbox, row, lease)
    if in_flight is not None:
        _mark(outbox, _verdict(in_flight, transport, now, sent), lease)
    return sent, 0


def _prepare(
    outbox: EmailOutbox, row: Any, connection: BaseEmailBackend, transport: mail.Transport, now: datetime
) -> tuple[Any, Exception | None]:
    """``row``'s message ready to submit, or why it could not be written (recorded, retried later)."""
    try:
        return transport.prepare(outbox.message(row, connection, now)), None
    except Exception as exc:  # e.g. an address the message cannot carry
        return None, exc


def _submit(transport: mail.Transport, prepared: Any, meanwhile: Callable[[], None] | None) -> Exception | None:
    """Send ``prepared`` (``meanwhile`` runs before its content goes); the transport error, if any."""
    try:
        transport.submit(prepared, meanwhile=meanwhile)
    except DatabaseError:  # marking the row before: not the message's failure
        raise
    except Exception as exc:  # any transport error: recorded, retried later
        return exc
    return None


def _verdict(row: Any, transport: mail.Transport, now: datetime | None, sent: list[Any]) -> Any:
    """Read the server's verdict on ``row``'s message into the row (to be marked); returns the row."""
    moment = now or timezone.now()
    try:
        transport.verdict()
    except Exception as exc:  # refused, or the connection failed: recorded, retried later
        _failed(row, exc, moment)
    else:
        row.status, row.sent_at, row.last_error = Status.SENT, moment, ""
        sent.append(row)
    return row


def notification_message_id(row: Notification) -> str:
    """A staff email's Message-ID, the same on every attempt: a mail client drops a copy it already has."""
    return _message_id("notification", row.pk, row.created_at)


def _message_id(kind: str, pk: int, created_at: datetime) -> str:
    """A Message-ID per outbox row; the creation time keeps it unique when a database is recreated
    and its ids start again."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{kind}.{pk}.{created_at:%Y%m%d%H%M%S%f}@{host}>"


def _mark(outbox: EmailOutbox, row: Any, lease: Lease) -> None:
    """Record one attempt at once, in its own statement, while the row is under this run's lease
    (``Lease.held``: still pending, with the lease's next attempt)."""
    sql, fields = _mark_statement(outbox.model, outbox.marked)
    values = [field.get_db_prep_save(getattr(row, field.attname), db_connection) for field in fields]
    until = db_connection.ops.adapt_datetimefield_value(lease.until)
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [*values, row.pk, lease.pending, until])


@cache
def _mark_statement(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[models.Field, ...]]:
    """The UPDATE that marks one row, built once: building it through the ORM for every email
    took as long as running it."""
    fields = tuple(cast(models.Field, model._meta.get_field(name)) for name in names)
    quote = db_connection.ops.quote_name

    def column(name: str) -> str:
        return quote(cast(str, cast(models.Field, model._meta.get_field(name)).column))

    assignments = ", ".join(f"{column(field.name)} = %s" for field in fields)
    held = " AND ".join(f"{column(name)} = %s" for name in ("id", "status", "next_attempt_at"))
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {held}", fields


def _failed(row: Any, exc: Exception, now: datetime) -> None:
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
