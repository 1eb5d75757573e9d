"""The set-based insert helpers: what goes in by COPY or JSON comes back out unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from closedloop.lib.db import COPY_BLOCK, COPY_THRESHOLD, _column, insert_rows, insert_values, text_array
from followups.models import Case, Notification, SlaPolicy
from surveys.models import Customer, Response

# Every character COPY's text format or a JSON document treats specially, and some it does not.
AWKWARD = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash \\N \\t",
    "quote \" and ' apostrophe",
    "{braces, commas}",
    "naïve café ✓ 中文",
    "",
    " padded ",
]
NOW = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


def _customers(count: int) -> list[tuple]:
    return [
        (
            f"C-{i}",
            f"user{i}@example.com",
            AWKWARD[i % len(AWKWARD)],
            AWKWARD[(i + 1) % len(AWKWARD)],
            {"plan": AWKWARD[(i + 2) % len(AWKWARD)], "seats": i, "vip": i % 2 == 0, "note": None},
        )
        for i in range(count)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, COPY_THRESHOLD, COPY_BLOCK * 2 + 7])
def test_inserted_values_read_back_unchanged_and_in_order(count):
    rows = _customers(count)
    fields = ("external_id", "email", "name", "phone", "attributes")
    pks = insert_values(Customer, fields, rows, created_at=NOW, updated_at=NOW)
    assert len(pks) == count
    stored = {c.pk: c for c in Customer.objects.all()}
    # Each id is the id of its own row, across the blocks COPY sends.
    assert [tuple(getattr(stored[pk], name) for name in fields) for pk in pks] == rows
    # The fields not given take their defaults.
    assert {c.erased_at for c in stored.values()} == {None}


@pytest.mark.django_db
@pytest.mark.postgres
def test_copy_stores_shared_values_as_given():
    # bulk_create stamps auto_now fields itself; COPY writes the batch's one timestamp.
    pks = insert_values(
        Customer, ("external_id",), [(f"C-{i}",) for i in range(COPY_THRESHOLD)], created_at=NOW, updated_at=NOW
    )
    assert set(Customer.objects.filter(pk__in=pks).values_list("created_at", "updated_at")) == {(NOW, NOW)}


@pytest.mark.django_db
def test_none_becomes_null_and_datetimes_keep_their_microseconds(survey):
    (customer,) = insert_values(Customer, ("external_id",), [("C-1",)], created_at=NOW, updated_at=NOW)
    times = [NOW - timedelta(days=i, microseconds=i) for i in range(COPY_THRESHOLD + 2)]
    rows = [
        (survey.pk, customer, 3, "detractor", AWKWARD[i % len(AWKWARD)], "api", at, "", None if i % 2 else f"k{i}")
        for i, at in enumerate(times)
    ]
    fields = ("survey_id", "customer_id", "score", "category", "comment", "channel", "submitted_at", "ticket_ref")
    pks = insert_values(Response, (*fields, "external_id"), rows, received_at=NOW)
    stored = Response.objects.in_bulk(pks)
    assert [(stored[pk].comment, stored[pk].submitted_at, stored[pk].external_id) for pk in pks] == [
        (row[4], row[6], row[8]) for row in rows
    ]


@pytest.mark.django_db
@pytest.mark.postgres
def test_text_with_a_nul_character_is_refused_and_nothing_is_stored():
    rows = _customers(COPY_THRESHOLD)
    rows[1] = ("C-nul", "", "bad\x00name", "", {})
    with pytest.raises(DatabaseError, match="cannot hold NUL"), transaction.atomic():
        insert_values(
            Customer, ("external_id", "email", "name", "phone", "attributes"), rows, created_at=NOW, updated_at=NOW
        )
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_inserted_rows_get_their_primary_keys():
    objs = [
        Customer(external_id=f"C-{i}", name=AWKWARD[i % len(AWKWARD)], created_at=NOW, updated_at=NOW)
        for i in range(COPY_THRESHOLD + 5)
    ]
    insert_rows(Customer, objs)
    assert all(not obj._state.adding for obj in objs)
    assert {obj.pk: obj.name for obj in objs} == dict(Customer.objects.values_list("pk", "name"))


def _notification(key: str, context: dict) -> Notification:
    return Notification(
        kind=Notification.Kind.DIGEST,
        email="agent@example.com",
        context=context,
        dedupe_key=key,
        next_attempt_at=NOW,
        created_at=NOW,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_rows_conflicting_with_a_unique_key_are_skipped(count):
    insert_rows(Notification, [_notification("digest:1", {"day": "first"})], ignore_conflicts=True)
    batch = [_notification(f"digest:{i}", {"day": AWKWARD[i % len(AWKWARD)], "n": i}) for i in range(1, count + 1)]
    insert_rows(Notification, batch, ignore_conflicts=True)
    stored = {n.dedupe_key: n for n in Notification.objects.all()}
    assert sorted(stored) == sorted(f"digest:{i}" for i in range(1, count + 1))
    assert stored["digest:1"].context == {"day": "first"}  # the queued one stays as it was
    for i in range(2, count + 1):
        assert stored[f"digest:{i}"].context == {"day": AWKWARD[i % len(AWKWARD)], "n": i}
    assert {(n.next_attempt_at, n.status, n.attempts) for n in stored.values()} == {(NOW, "pending", 0)}


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_text_array_literal_reads_back_as_the_same_texts():
    texts = [*AWKWARD, "NULL", "a,b", "x}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::text[]", [text_array(texts), text_array([])])
        assert cursor.fetchone() == (texts, [])


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_unique_violation_during_copy_is_an_integrity_error():
    # Ingestion retries a batch on IntegrityError when a concurrent request stored a key first.
    insert_values(Customer, ("external_id",), [("C-taken",)], created_at=NOW, updated_at=NOW)
    rows = [(f"C-{i}",) for i in range(COPY_THRESHOLD)] + [("C-taken",)]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_values(Customer, ("external_id",), rows, created_at=NOW, updated_at=NOW)
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C-taken"]


@pytest.mark.django_db
def test_json_the_fast_encoder_refuses_is_written_by_the_standard_one():
    attributes = [{"seats": 2**70}, {7: "int key"}, {"plan": "gold"}]
    rows = [(f"C-{i}", value) for i, value in enumerate(attributes)]
    pks = insert_values(Customer, ("external_id", "attributes"), rows, created_at=NOW, updated_at=NOW)
    stored = Customer.objects.in_bulk(pks)
    assert [stored[pk].attributes for pk in pks] == [{"seats": 2**70}, {"7": "int key"}, {"plan": "gold"}]


@pytest.mark.postgres
def test_copy_refuses_a_field_type_it_has_no_text_format_for(db):
    policies = [
        SlaPolicy(name=f"p{n}", priority="hot", first_contact_hours=Decimal("1.5"), resolution_hours=Decimal("8"))
        for n in range(COPY_THRESHOLD)
    ]

    with pytest.raises(TypeError, match=r"SlaPolicy\.first_contact_hours: no text format for a DecimalField"):
        insert_rows(SlaPolicy, policies)

    assert not SlaPolicy.objects.exists()


@pytest.mark.postgres
def test_copy_writes_durations_as_intervals(db):
    durations = [timedelta(hours=8), timedelta(days=2, minutes=30), timedelta(microseconds=1)]

    texts = _column(Case._meta.get_field("reassign_after"), [*durations, None])

    assert texts == ["8:00:00", "2 days, 0:30:00", "0:00:00.000001", "\\N"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::interval, %s::interval, %s::interval", texts[:3])
        assert list(cursor.fetchone()) == durations
