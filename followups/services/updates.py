"""Shipping an improvement: one "you said, we did" update per customer who raised its causes.

Who is reached has one definition, ``_REACHED``: every customer with a response coded to one of
the improvement's root causes (a category stands for its causes) submitted within its lookback
window, with their most recent such response, the one the email quotes, and why they must not be
emailed, if they must not. Recording the updates inserts those rows in one ``INSERT ... SELECT``
(the unique constraint on improvement and customer makes a second ship add nothing); the preview
counts the same rows. The delivery task sends them afterwards and checks the opt-outs again at
the moment of sending (``followups.services.delivery``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from closedloop.lib.db import statistics_refresh
from closedloop.lib.exceptions import ApplicationError
from followups.customer_emails import CustomerEmail, update_email
from followups.improvement_status import can_ship
from followups.models import (
    CustomerUpdate,
    Improvement,
    ImprovementRootCause,
    ImprovementStatusChange,
    ResponseRootCause,
    RootCause,
)
from followups.services.delivery import BATCH
from followups.services.outbox import deliver_on_commit, webhook_events_queue
from surveys.models import Customer, Response

Reason = CustomerUpdate.SuppressedReason

# One row per customer reached: customer_id, response_id (the latest coded response), reason
# (empty when the update may be sent). Erasure first: an erased customer's address is gone too.
_REACHED = f"""
    WITH causes AS (
        SELECT link.root_cause_id AS id
          FROM {ImprovementRootCause._meta.db_table} link
         WHERE link.improvement_id = %(improvement)s
        UNION
        SELECT cause.id
          FROM {RootCause._meta.db_table} cause
          JOIN {ImprovementRootCause._meta.db_table} link ON cause.parent_id = link.root_cause_id
         WHERE link.improvement_id = %(improvement)s
    ), ranked AS (
        SELECT response.customer_id, response.id AS response_id,
               row_number() OVER (
                   PARTITION BY response.customer_id ORDER BY response.submitted_at DESC, response.id DESC
               ) AS rank
          FROM {Response._meta.db_table} response
         WHERE response.submitted_at >= %(since)s
           AND EXISTS (SELECT 1 FROM {ResponseRootCause._meta.db_table} code
                        WHERE code.response_id = response.id AND code.root_cause_id IN (SELECT id FROM causes))
    ), latest AS (
        SELECT customer_id, response_id FROM ranked WHERE rank = 1
    ), reached AS (
        SELECT latest.customer_id, latest.response_id,
               CASE WHEN customer.erased_at IS NOT NULL THEN '{Reason.ERASED}'
                    WHEN customer.email = '' THEN '{Reason.NO_ADDRESS}'
                    WHEN customer.updates_unsubscribed_at IS NOT NULL THEN '{Reason.UNSUBSCRIBED}'
                    ELSE '' END AS reason
          FROM latest
          JOIN {Customer._meta.db_table} customer ON customer.id = latest.customer_id
    )
"""

_RECORD = f"""{_REACHED}, recorded AS (
        INSERT INTO {CustomerUpdate._meta.db_table}
               (improvement_id, customer_id, response_id, status, suppressed_reason, attempts, last_error,
                next_attempt_at, created_at, subject, body)
        SELECT %(improvement)s, customer_id, response_id,
               CASE WHEN reason = '' THEN '{CustomerUpdate.Status.PENDING}'
                    ELSE '{CustomerUpdate.Status.SUPPRESSED}' END,
               reason, 0, '', %(now)s, %(now)s, '', ''
          FROM reached
        ON CONFLICT (improvement_id, customer_id) DO NOTHING
        RETURNING status
    )
    SELECT count(*) FILTER (WHERE status = '{CustomerUpdate.Status.PENDING}'),
           count(*) FILTER (WHERE status = '{CustomerUpdate.Status.SUPPRESSED}')
      FROM recorded
"""

_REACH = f"""{_REACHED}
    SELECT reason, count(*), min(customer_id) FILTER (WHERE reason = '') FROM reached GROUP BY reason
"""


@dataclass(frozen=True)
class Recorded:
    queued: int
    suppressed: int


@dataclass(frozen=True)
class Shipment:
    queued: int
    suppressed: int
    already_shipped: bool


@dataclass(frozen=True)
class Reach:
    """How many customers shipping now would queue, and how many it would suppress, by reason."""

    queued: int
    suppressed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """The exact email for one sample customer (None when nobody is reached), and the reach."""

    customer: Customer | None
    email: CustomerEmail | None
    reach: Reach


def _params(improvement: Improvement, now: datetime) -> dict[str, Any]:
    # Times as the ORM stores them: SQLite keeps text, which must read alike to compare.
    moment = connection.ops.adapt_datetimefield_value
    since = now - timedelta(days=improvement.lookback_days)
    return {"improvement": improvement.pk, "since": moment(since), "now": moment(now)}


# SQLite (the embedded first run) has no INSERT inside a WITH: the same rows, then a count.
_RECORD_EMBEDDED = f"""{_REACHED}
    INSERT INTO {CustomerUpdate._meta.db_table}
           (improvement_id, customer_id, response_id, status, suppressed_reason, attempts, last_error,
            next_attempt_at, created_at, subject, body)
    SELECT %(improvement)s, customer_id, response_id,
           CASE WHEN reason = '' THEN '{CustomerUpdate.Status.PENDING}' ELSE '{CustomerUpdate.Status.SUPPRESSED}' END,
           reason, 0, '', %(now)s, %(now)s, '', ''
      FROM reached WHERE true
    ON CONFLICT (improvement_id, customer_id) DO NOTHING
"""


def customer_updates_record(*, improvement: Improvement, now: datetime) -> Recorded:
    """Record one update per customer reached, in one statement; customers already recorded are skipped."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_RECORD, _params(improvement, now))
            queued, suppressed = cursor.fetchone()
            statistics_refresh(CustomerUpdate, written=queued + suppressed)
            return Recorded(queued=queued, suppressed=suppressed)
        cursor.execute(_RECORD_EMBEDDED, _params(improvement, now))
    new = CustomerUpdate.objects.filter(improvement=improvement, created_at=now)
    return Recorded(
        queued=new.filter(status=CustomerUpdate.Status.PENDING).count(),
        suppressed=new.filter(status=CustomerUpdate.Status.SUPPRESSED).count(),
    )


def improvement_reach(*, improvement: Improvement, now: datetime | None = None) -> tuple[Reach, int | None]:
    """The reach of shipping ``improvement`` now, and the first customer an update would be sent to."""
    with connection.cursor() as cursor:
        cursor.execute(_REACH, _params(improvement, now or timezone.now()))
        rows = cursor.fetchall()
    queued, first, suppressed = 0, None, {}
    for reason, count, first_eligible in rows:
        if reason:
            suppressed[reason] = count
        else:
            queued, first = count, first_eligible
    return Reach(queued=queued, suppressed=suppressed), first


def improvement_payload(improvement: Improvement, recorded: Recorded) -> dict[str, Any]:
    """The ``improvement.shipped`` webhook event's data."""
    return {
        "id": improvement.pk,
        "url": f"{settings.SITE_URL}/improvements/{improvement.pk}/",
        "title": improvement.title,
        "status": improvement.status,
        "shipped_at": improvement.shipped_at.isoformat() if improvement.shipped_at else None,
        "root_causes": list(improvement.root_causes.order_by("slug").values_list("slug", flat=True)),
        "queued": recorded.queued,
        "suppressed": recorded.suppressed,
    }


@transaction.atomic
def improvement_ship(*, improvement: Improvement, actor: User | None, now: datetime | None = None) -> Shipment:
    """Mark the improvement shipped and record its updates; delivery starts once this commits.

    Shipping a shipped improvement changes nothing and answers ``already_shipped``; a declined
    one is refused (it is proposed again first).
    """
    now = now or timezone.now()
    locked = Improvement.objects.select_for_update().get(pk=improvement.pk)
    if locked.status == Improvement.Status.SHIPPED:
        return Shipment(queued=0, suppressed=0, already_shipped=True)
    if not can_ship(locked.status):
        raise ApplicationError(
            f"A {locked.get_status_display().lower()} improvement cannot ship; propose it again first.",
            errors={"status": [f"An improvement that is {locked.status} cannot ship."]},
        )
    ImprovementStatusChange.objects.create(
        improvement=locked, from_status=locked.status, to_status=Improvement.Status.SHIPPED, actor=actor, changed_at=now
    )
    locked.status, locked.shipped_at, locked.updated_at = Improvement.Status.SHIPPED, now, now
    locked.full_clean()
    locked.save(update_fields=["status", "shipped_at", "updated_at"])
    improvement.status, improvement.shipped_at, improvement.updated_at = locked.status, now, now
    recorded = customer_updates_record(improvement=locked, now=now)
    webhook_events_queue([("improvement.shipped", improvement_payload(locked, recorded))], now=now)
    if recorded.queued:
        # One run per batch, up to as many as the workers of a few clusters, which then share the fan-out.
        runs = min(settings.DELIVERY_PARALLEL_RUNS, math.ceil(recorded.queued / BATCH))
        deliver_on_commit("followups.tasks.customer_updates_deliver", runs=runs)
    return Shipment(queued=recorded.queued, suppressed=recorded.suppressed, already_shipped=False)


def improvement_preview(*, improvement: Improvement, customer: Customer | None = None) -> Preview:
    """The email ``customer`` (default: the first one reached who may be emailed) would get, and the reach.

    A chosen customer the improvement does not reach is previewed with no quote.
    """
    now = timezone.now()
    reach, first = improvement_reach(improvement=improvement, now=now)
    if customer is None and first is not None:
        customer = Customer.objects.get(pk=first)
    if customer is None:
        return Preview(customer=None, email=None, reach=reach)
    response = _quoted_response(improvement, customer, now)
    email = update_email(improvement=improvement, customer=customer, response=response)
    return Preview(customer=customer, email=email, reach=reach)


def _quoted_response(improvement: Improvement, customer: Customer, now: datetime) -> Response | None:
    """The response an update to ``customer`` would quote: the one the record step picks."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_REACHED} SELECT response_id FROM reached WHERE customer_id = %(customer)s",
            {**_params(improvement, now), "customer": customer.pk},
        )
        row = cursor.fetchone()
    return Response.objects.filter(pk=row[0]).first() if row else None


def improvement_sample_customers(*, improvement: Improvement, limit: int = 20) -> list[Customer]:
    """Some customers an update would be sent to, for the preview's switcher (in id order)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_REACHED} SELECT customer_id FROM reached WHERE reason = '' ORDER BY customer_id LIMIT %(limit)s",
            {**_params(improvement, timezone.now()), "limit": limit},
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(Customer.objects.filter(pk__in=ids).order_by("pk"))
