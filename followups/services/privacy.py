"""A customer's data is theirs: everything stored about them on request, and erasure.

Erasure anonymises rather than deletes, so the history others read does not change: the
customer's scores, categories, channels and times stay, with their root-cause codes, and so do
their cases, whose timelines keep every step without the words that may name someone. What goes
is what identifies or describes the person: their id, name, email, phone and attributes, the
comments they wrote, the ticket references, the notes and contact summaries agents wrote about
them, the updates written to them, and their data in staff emails and webhook payloads. The
same erasure runs for customers the retention rule finds inactive for too long.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from followups.models import (
    Case,
    CaseEvent,
    CustomerPrivacyRecord,
    CustomerUpdate,
    Notification,
    ResponseRootCause,
    WebhookDelivery,
)
from surveys.models import Customer, Response

# What replaces a removed text in a case's timeline, so the step still reads as one.
REMOVED = "(removed at the customer's request)"
# The keys of a case event's details that hold words an agent wrote about the customer.
FREE_TEXT_DETAILS = ("text", "note", "reason")
# How many inactive customers one retention run anonymises; the next daily run takes the rest.
RETENTION_BATCH = 1000
Kind = CustomerPrivacyRecord.Kind


def _digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode()).hexdigest()


def _record(*, kind: str, customer: Customer, external_id: str, actor: User | None, counts: dict[str, int]) -> None:
    CustomerPrivacyRecord.objects.create(
        kind=kind,
        customer=customer,
        external_id_sha256=_digest(external_id),
        actor=actor,
        at=timezone.now(),
        counts=counts,
    )


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _responses(customer: Customer) -> list[dict[str, Any]]:
    codes: dict[int, list[str]] = {}
    for response_id, slug in ResponseRootCause.objects.filter(response__customer=customer).values_list(
        "response_id", "root_cause__slug"
    ):
        codes.setdefault(response_id, []).append(slug)
    return [
        {
            "id": row["id"],
            "survey": row["survey__slug"],
            "score": row["score"],
            "category": row["category"],
            "comment": row["comment"],
            "channel": row["channel"],
            "submitted_at": _when(row["submitted_at"]),
            "ticket_ref": row["ticket_ref"],
            "external_id": row["external_id"],
            "root_causes": sorted(codes.get(row["id"], [])),
        }
        for row in Response.objects.filter(customer=customer)
        .order_by("submitted_at", "pk")
        .values("id", "survey__slug", "score", "category", "comment", "channel", "submitted_at", "ticket_ref")
        .annotate(external_id=Coalesce("external_id", Value("")))
    ]


def _cases(customer: Customer) -> list[dict[str, Any]]:
    events: dict[int, list[dict[str, Any]]] = {}
    for event in (
        CaseEvent.objects.filter(case__response__customer=customer).select_related("actor").order_by("at", "pk")
    ):
        events.setdefault(event.case_id, []).append(
            {
                "at": _when(event.at),
                "kind": event.kind,
                "actor": event.actor.get_username() if event.actor else None,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "details": event.details,
            }
        )
    return [
        {
            "id": case.pk,
            "response": case.response_id,
            "status": case.status,
            "team": case.team.slug,
            "owner": case.owner.get_username() if case.owner else None,
            "created_at": _when(case.created_at),
            "resolved_at": _when(case.resolved_at),
            "closed_at": _when(case.closed_at),
            "close_reason": case.close_reason,
            "events": events.get(case.pk, []),
        }
        for case in Case.objects.filter(response__customer=customer).select_related("team", "owner").order_by("pk")
    ]


def _updates(customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "improvement": row["improvement__title"],
            "status": row["status"],
            "sent_at": _when(row["sent_at"]),
            "subject": row["subject"],
            "body": row["body"],
        }
        for row in CustomerUpdate.objects.filter(customer=customer)
        .order_by("created_at", "pk")
        .values("improvement__title", "status", "sent_at", "subject", "body")
    ]


def customer_data(customer: Customer) -> dict[str, Any]:
    """Everything stored about ``customer``, as JSON-ready data, in a fixed number of queries."""
    return {
        "customer": {
            "external_id": customer.external_id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "account": customer.account.external_id if customer.account else None,
            "attributes": customer.attributes,
            "created_at": _when(customer.created_at),
            "updated_at": _when(customer.updated_at),
            "surveys_unsubscribed_at": _when(customer.surveys_unsubscribed_at),
            "updates_unsubscribed_at": _when(customer.updates_unsubscribed_at),
        },
        "responses": _responses(customer),
        "cases": _cases(customer),
        "updates": _updates(customer),
        "privacy_records": [
            {"kind": kind, "at": _when(at)}
            for kind, at in customer.privacy_records.order_by("at", "pk").values_list("kind", "at")
        ],
    }


def customer_export(*, customer: Customer, actor: User | None) -> dict[str, Any]:
    """What ``customer_data`` gives, for the customer's right of access; the export is recorded."""
    data = customer_data(customer)
    counts = {section: len(data[section]) for section in ("responses", "cases", "updates")}
    _record(kind=Kind.EXPORT, customer=customer, external_id=customer.external_id, actor=actor, counts=counts)
    return data


@dataclass(frozen=True)
class Erasure:
    responses: int
    cases: int
    case_events: int
    updates: int
    notifications: int
    webhook_deliveries: int

    def as_counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _scrub_details(details: dict[str, Any]) -> dict[str, Any]:
    return {key: REMOVED if key in FREE_TEXT_DETAILS and value else value for key, value in details.items()}


def _scrub_payload(payload: Any, external_id: str) -> Any:
    """The payload with the customer's id and every comment replaced, at any depth."""
    if isinstance(payload, dict):
        return {
            key: ("" if key == "comment" else "erased" if value == external_id else _scrub_payload(value, external_id))
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [_scrub_payload(value, external_id) for value in payload]
    return payload


def _erase_events(cases: list[int]) -> int:
    events = [
        event for event in CaseEvent.objects.filter(case__in=cases) if _scrub_details(event.details) != event.details
    ]
    for event in events:
        event.details = _scrub_details(event.details)
    CaseEvent.objects.bulk_update(events, ["details"], batch_size=500)
    return len(events)


def _erase_webhook_payloads(external_id: str, response_ids: list[int], cases: list[int]) -> int:
    # Events carry the customer as "customer" (responses, updates) or inside "response" (cases).
    mentions = (
        Q(payload__data__customer=external_id)
        | Q(payload__data__response__customer=external_id)
        | Q(payload__data__id__in=cases, event_type__startswith="case.")
        | Q(payload__data__id__in=response_ids, event_type__startswith="response.")
    )
    deliveries = list(WebhookDelivery.objects.filter(mentions))
    for delivery in deliveries:
        delivery.payload = _scrub_payload(delivery.payload, external_id)
    WebhookDelivery.objects.bulk_update(deliveries, ["payload"], batch_size=500)
    return len(deliveries)


@transaction.atomic
def customer_erase(*, customer: Customer, actor: User | None, kind: str = Kind.ERASURE) -> Erasure:
    """Anonymise ``customer`` and what describes them, keeping scores and timelines; record it."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    external_id, now = customer.external_id, timezone.now()
    responses = Response.objects.filter(customer=customer)
    response_ids = list(responses.values_list("pk", flat=True))
    cases = list(Case.objects.filter(response__customer=customer).values_list("pk", flat=True))
    Case.objects.filter(pk__in=cases).exclude(close_reason="").update(close_reason=REMOVED)
    erasure = Erasure(
        responses=responses.update(comment="", ticket_ref=""),
        cases=len(cases),
        case_events=_erase_events(cases),
        updates=CustomerUpdate.objects.filter(customer=customer).update(subject="", body=""),
        notifications=Notification.objects.filter(case__in=cases).update(subject="", body="", context={}),
        webhook_deliveries=_erase_webhook_payloads(external_id, response_ids, cases),
    )
    # Nothing still waiting goes out to them: their updates are suppressed, not sent.
    CustomerUpdate.objects.filter(customer=customer, status=CustomerUpdate.Status.PENDING).update(
        status=CustomerUpdate.Status.SUPPRESSED, suppressed_reason=CustomerUpdate.SuppressedReason.ERASED
    )
    customer.external_id = f"erased-{uuid.uuid4().hex}"
    customer.name = customer.email = customer.phone = ""
    customer.attributes = {}
    customer.erased_at = now
    customer.surveys_unsubscribed_at = customer.surveys_unsubscribed_at or now
    customer.updates_unsubscribed_at = customer.updates_unsubscribed_at or now
    customer.save()
    _record(kind=kind, customer=customer, external_id=external_id, actor=actor, counts=erasure.as_counts())
    return erasure


def customers_inactive_since(cutoff: datetime) -> QuerySet[Customer]:
    """Customers not erased whose last response and last change are both before ``cutoff``."""
    return (
        Customer.objects.filter(erased_at__isnull=True)
        .annotate(last_seen=Greatest("updated_at", Coalesce(Max("responses__submitted_at"), "created_at")))
        .filter(last_seen__lt=cutoff)
    )


def customers_retention_sweep(*, now: datetime | None = None) -> int:
    """Anonymise customers inactive for CUSTOMER_RETENTION_MONTHS (0: keep them); return how many."""
    months = settings.CUSTOMER_RETENTION_MONTHS
    if not months:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=round(months * 30.44))
    inactive = list(customers_inactive_since(cutoff).order_by("pk")[:RETENTION_BATCH])
    for customer in inactive:
        customer_erase(customer=customer, actor=None, kind=Kind.RETENTION)
    return len(inactive)
