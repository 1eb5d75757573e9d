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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, cast

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from closedloop.lib.db import insert_values, text_array
from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.memory import collector_paused
from surveys.intake import CustomerData, Errors, ResponseItem, parse_response_item
from surveys.models import Channel, Customer, Response, Survey
from surveys.services.rollups import rollups_add
from surveys.signals import responses_ingested

MAX_BATCH = 10_000
# The largest body the bulk endpoint reads. A realistic item with a full 5,000-character comment
# and a customer with a few attributes is about 5.5 kB of JSON, 6.7 kB when an accented comment
# is written with \u escapes (as Python's json writes it by default); 8 KiB an item leaves a
# margin. Full-length comments in non-Latin scripts need batches of fewer items.
MAX_BATCH_BYTES = MAX_BATCH * 8 * 1024


class Outcome(NamedTuple):
    """What became of one item: ``created`` or ``duplicate`` (with the response id) or ``rejected``.

    A named tuple: as immutable as a frozen dataclass and several times cheaper to build, once
    per item of a 10,000-item batch.
    """

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
        # A created outcome always carries its response's id.
        return cast(list[int], [o.response_id for o in self.outcomes if o.status == "created"])

    @property
    def rejected(self) -> list[tuple[int, Errors]]:
        # A rejected outcome always carries its errors.
        return cast(
            list[tuple[int, Errors]], [(i, o.errors) for i, o in enumerate(self.outcomes) if o.status == "rejected"]
        )


def responses_ingest(
    *, items: Sequence[Any], default_channel: str = Channel.API, now: datetime | None = None
) -> IngestResult:
    """Store the valid items of a batch; report each item's outcome by index.

    Invalid items are stored not at all; valid ones are stored even when others are rejected.
    Items repeating an idempotency key (already stored, or earlier in the same batch) are
    duplicates and store nothing. A batch of more than MAX_BATCH items is refused whole.
    """
    _check_size(items)
    now = now or timezone.now()
    with collector_paused():
        return _ingest([parse_response_item(raw, now=now) for raw in items], default_channel, now)


def responses_ingest_parsed(
    *, parsed: Sequence[tuple[ResponseItem | None, Errors]], default_channel: str, now: datetime
) -> IngestResult:
    """``responses_ingest`` of items ``parse_response_item`` has already checked with ``now``.

    For a caller that can check its next batch while the last is stored (a file import reads
    ahead in a thread): the rules are the same, applied once, and ``now`` is the batch's time.
    """
    _check_size(parsed)
    with collector_paused():
        return _ingest(parsed, default_channel, now)


def _check_size(items: Sequence[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise ApplicationError("Too many items.", errors={"responses": [f"At most {MAX_BATCH} responses per batch."]})


def _ingest(parsed: Sequence[tuple[ResponseItem | None, Errors]], default_channel: str, now: datetime) -> IngestResult:
    slugs = {item.survey for item, _ in parsed if item is not None}
    surveys = {s.slug: s for s in Survey.objects.filter(slug__in=slugs)}
    outcomes: list[Outcome | None] = []
    valid: dict[int, ResponseItem] = {}
    for index, (item, errors) in enumerate(parsed):
        if item is not None and item.survey not in surveys:
            errors = {"survey": [f"No survey with slug {item.survey!r}."]}
        if errors or item is None:
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
    return IngestResult(cast(list[Outcome], outcomes))  # every None was replaced by its stored outcome


# The columns ingestion writes; the rest of Response has no value to take from an item.
_RESPONSE_FIELDS = (
    "survey_id",
    "customer_id",
    "score",
    "category",
    "comment",
    "channel",
    "submitted_at",
    "ticket_ref",
    "external_id",
)


def _store(
    valid: dict[int, ResponseItem], surveys: dict[str, Survey], default_channel: str, now: datetime
) -> dict[int, Outcome]:
    existing = _stored_keys(valid.values(), surveys)
    customers = customers_upsert([item.customer for item in valid.values()], now)
    outcomes: dict[int, Outcome] = {}
    fresh: list[int] = []
    rows: list[tuple[Any, ...]] = []
    first_of_key: dict[tuple[int, str], int] = {}  # key -> position of its row in ``rows``
    repeated: list[tuple[int, tuple[int, str]]] = []
    for index, item in valid.items():
        survey_id = surveys[item.survey].pk
        if item.external_id is not None:
            key = (survey_id, item.external_id)
            if key in existing:
                outcomes[index] = Outcome("duplicate", existing[key])
                continue
            if key in first_of_key:
                repeated.append((index, key))
                continue
            first_of_key[key] = len(rows)
        fresh.append(index)
        rows.append(
            (
                survey_id,
                customers[item.customer.external_id],
                item.score,
                item.category,
                item.comment,
                item.channel or default_channel,
                item.submitted_at or now,
                item.ticket_ref,
                item.external_id,
            )
        )
    ids = insert_values(Response, _RESPONSE_FIELDS, rows, received_at=now)
    # In the same transaction, so the dashboard's rollup never disagrees with the responses.
    rollups_add(response_ids=ids)
    for index, pk in zip(fresh, ids, strict=True):
        outcomes[index] = Outcome("created", pk)
    for index, key in repeated:
        outcomes[index] = Outcome("duplicate", ids[first_of_key[key]])
    return outcomes


def _stored_keys(items: Iterable[ResponseItem], surveys: dict[str, Survey]) -> dict[tuple[int, str], int]:
    """Map (survey id, idempotency key) to the stored response id, for the batch's keys."""
    keys = list({item.external_id for item in items if item.external_id is not None})
    if not keys:
        return {}
    survey_ids = [s.pk for s in surveys.values()]
    if connection.vendor == "postgresql":
        rows = _select(
            "SELECT survey_id, external_id, id FROM surveys_response"
            " WHERE survey_id = ANY(%s) AND external_id = ANY(%s::text[])",
            [survey_ids, text_array(keys)],
        )
    else:
        rows = list(
            Response.objects.filter(survey_id__in=survey_ids, external_id__in=keys).values_list(
                "survey_id", "external_id", "pk"
            )
        )
    return {(survey_id, key): pk for survey_id, key, pk in rows}


_CUSTOMER_FIELDS = ("email", "name", "phone")
_DETAILS = (*_CUSTOMER_FIELDS, "attributes")
_BLANK_CUSTOMER: dict[str, Any] = {"email": "", "name": "", "phone": "", "attributes": {}}


def customers_upsert(data: list[CustomerData], now: datetime) -> dict[str, int]:
    """Create the batch's new customers and update known ones; map external id to pk.

    Only the details an item gives are written (a later item of the batch wins), and given
    attributes are merged into the stored ones, so a partial record never erases data.
    """
    by_id: dict[str, list[CustomerData]] = {}
    for customer in data:
        by_id.setdefault(customer.external_id, []).append(customer)
    known = _known_customers(list(by_id))
    pks = {external_id: stored["pk"] for external_id, stored in known.items()}
    new_ids: list[str] = []
    new_rows: list[tuple[Any, ...]] = []
    changed: list[Customer] = []
    for external_id, versions in by_id.items():
        stored = known.get(external_id)
        if stored is None and len(versions) == 1:
            # Most of a batch: a new customer named once. Its row is what the item gives.
            (given,) = versions
            new_ids.append(external_id)
            new_rows.append(
                (external_id, given.email or "", given.name or "", given.phone or "", given.attributes or {})
            )
            continue
        if stored is None:
            details = _merged(_BLANK_CUSTOMER, versions)
            new_ids.append(external_id)
            new_rows.append((external_id, *(details[name] for name in _DETAILS)))
            continue
        details = _merged(stored, versions)
        if details != stored:
            changed.append(Customer(**details, updated_at=now))
    new_pks = insert_values(Customer, ("external_id", *_DETAILS), new_rows, created_at=now, updated_at=now)
    pks.update(zip(new_ids, new_pks, strict=True))
    if changed:
        Customer.objects.bulk_update(changed, [*_DETAILS, "updated_at"], batch_size=1000)
    return pks


def _known_customers(external_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored details of the customers among ``external_ids`` that exist already."""
    fields = ("external_id", "id", "email", "name", "phone", "attributes")
    if connection.vendor == "postgresql":
        rows = _select(
            f"SELECT {', '.join(fields)} FROM surveys_customer WHERE external_id = ANY(%s::text[])",
            [text_array(external_ids)],
        )
        # Django reads jsonb as text and leaves decoding to JSONField, which a raw query bypasses.
        rows = [(*row[:5], json.loads(row[5])) for row in rows]
    else:
        rows = list(Customer.objects.filter(external_id__in=external_ids).values_list(*fields))
    return {
        external_id: {"pk": pk, "email": email, "name": name, "phone": phone, "attributes": attributes}
        for external_id, pk, email, name, phone, attributes in rows
    }


def _select(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _merged(stored: dict[str, Any], versions: list[CustomerData]) -> dict[str, Any]:
    """A customer's details once the batch's versions are written over the stored ones."""
    details = dict(stored)
    for data in versions:
        for name in _CUSTOMER_FIELDS:
            value = getattr(data, name)
            if value is not None:
                details[name] = value
        if data.attributes:
            details["attributes"] = {**details["attributes"], **data.attributes}
    return details
