"""Response ingestion: the single write path behind the API, bulk requests and CSV imports.

Steps for one batch:
1. Parse every item (pure, no database) and look up the named surveys in one query.
2. In one transaction: find the idempotency keys already stored (one query), load the batch's
   known customers (one query), insert the new customers and update the changed ones, insert
   the new responses. The number of queries does not depend on the batch size.
3. After commit, send ``responses_ingested`` once with the ids created.
A concurrent request storing the same idempotency key or creating the same customer makes the
transaction fail on a unique constraint; the batch is then retried once, and the rows the other
request stored are found as duplicates and existing customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from closedloop.db import insert_rows
from surveys.intake import CustomerData, Errors, ResponseItem, parse_response_item
from surveys.models import Channel, Customer, Response, Survey
from surveys.signals import responses_ingested

MAX_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one item: ``created`` or ``duplicate`` (with the response id) or ``rejected``."""

    status: str
    response_id: int | None = None
    errors: Errors | None = None


@dataclass
class IngestResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def created_ids(self) -> list[int]:
        return [o.response_id for o in self.outcomes if o.status == "created"]

    @property
    def rejected(self) -> list[tuple[int, Errors]]:
        return [(i, o.errors) for i, o in enumerate(self.outcomes) if o.status == "rejected"]


def responses_ingest(
    *, items: Sequence[Any], default_channel: str = Channel.API, now: datetime | None = None
) -> IngestResult:
    """Store the valid items of a batch; report each item's outcome by index.

    Invalid items are stored not at all; valid ones are stored even when others are rejected.
    Items repeating an idempotency key (already stored, or earlier in the same batch) are
    duplicates and store nothing.
    """
    now = now or timezone.now()
    parsed = [parse_response_item(raw, now=now) for raw in items]
    slugs = {item.survey for item, _ in parsed if item is not None}
    surveys = {s.slug: s for s in Survey.objects.filter(slug__in=slugs)}
    outcomes: list[Outcome | None] = []
    valid: dict[int, ResponseItem] = {}
    for index, (item, errors) in enumerate(parsed):
        if item is not None and item.survey not in surveys:
            errors = {"survey": [f"No survey with slug {item.survey!r}."]}
        if errors:
            outcomes.append(Outcome("rejected", errors=errors))
        else:
            outcomes.append(None)
            valid[index] = item
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                stored = _store(valid, surveys, default_channel, now)
                created = [o.response_id for o in stored.values() if o.status == "created"]
                if created:
                    transaction.on_commit(partial(responses_ingested.send, sender=Response, response_ids=created))
            break
        except IntegrityError:
            if attempt == 2:
                raise
    for index, outcome in stored.items():
        outcomes[index] = outcome
    return IngestResult(outcomes)


def _store(
    valid: dict[int, ResponseItem], surveys: dict[str, Survey], default_channel: str, now: datetime
) -> dict[int, Outcome]:
    existing = _stored_keys(valid.values(), surveys)
    customers = _upsert_customers([item.customer for item in valid.values()], now)
    outcomes: dict[int, Outcome] = {}
    fresh: list[tuple[int, Response]] = []
    first_of_key: dict[tuple[int, str], Response] = {}
    repeated: list[tuple[int, tuple[int, str]]] = []
    for index, item in valid.items():
        survey_id = surveys[item.survey].pk
        key = (survey_id, item.external_id)
        if item.external_id is not None:
            if key in existing:
                outcomes[index] = Outcome("duplicate", existing[key])
                continue
            if key in first_of_key:
                repeated.append((index, key))
                continue
        response = Response(
            survey_id=survey_id,
            customer_id=customers[item.customer.external_id],
            score=item.score,
            category=item.category,
            comment=item.comment,
            channel=item.channel or default_channel,
            submitted_at=item.submitted_at or now,
            received_at=now,
            ticket_ref=item.ticket_ref,
            external_id=item.external_id,
        )
        fresh.append((index, response))
        if item.external_id is not None:
            first_of_key[key] = response
    insert_rows(Response, [response for _, response in fresh])
    for index, response in fresh:
        outcomes[index] = Outcome("created", response.pk)
    for index, key in repeated:
        outcomes[index] = Outcome("duplicate", first_of_key[key].pk)
    return outcomes


def _stored_keys(items, surveys: dict[str, Survey]) -> dict[tuple[int, str], int]:
    """Map (survey id, idempotency key) to the stored response id, for the batch's keys."""
    keys = {item.external_id for item in items if item.external_id is not None}
    if not keys:
        return {}
    rows = Response.objects.filter(survey_id__in=[s.pk for s in surveys.values()], external_id__in=keys).values_list(
        "survey_id", "external_id", "pk"
    )
    return {(survey_id, key): pk for survey_id, key, pk in rows}


_CUSTOMER_FIELDS = ("email", "name", "phone")


def _upsert_customers(data: list[CustomerData], now: datetime) -> dict[str, int]:
    """Create the batch's new customers and update known ones; map external id to pk.

    Only the details an item gives are written (a later item of the batch wins), and given
    attributes are merged into the stored ones, so a partial record never erases data.
    """
    by_id: dict[str, list[CustomerData]] = {}
    for customer in data:
        by_id.setdefault(customer.external_id, []).append(customer)
    known = {c.external_id: c for c in Customer.objects.filter(external_id__in=list(by_id))}
    new: list[Customer] = []
    changed: list[Customer] = []
    for external_id, versions in by_id.items():
        customer = known.get(external_id)
        if customer is None:
            customer = Customer(external_id=external_id, created_at=now, updated_at=now)
            new.append(customer)
            _apply(customer, versions)
        elif _apply(customer, versions):
            customer.updated_at = now
            changed.append(customer)
    insert_rows(Customer, new)
    if changed:
        Customer.objects.bulk_update(changed, [*_CUSTOMER_FIELDS, "attributes", "updated_at"], batch_size=1000)
    return {c.external_id: c.pk for c in (*known.values(), *new)}


def _apply(customer: Customer, versions: list[CustomerData]) -> bool:
    """Write the given details onto the customer; return whether anything changed."""
    changed = False
    for data in versions:
        for name in _CUSTOMER_FIELDS:
            value = getattr(data, name)
            if value is not None and value != getattr(customer, name):
                setattr(customer, name, value)
                changed = True
        if data.attributes:
            merged = {**customer.attributes, **data.attributes}
            if merged != customer.attributes:
                customer.attributes = merged
                changed = True
    return changed
