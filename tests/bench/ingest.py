"""Bulk ingestion throughput against PostgreSQL's COPY, on the same 100,000 responses.

``responses_ingest`` gets the raw items an API client sends (parsing and validation count), in
batches of 10,000 as the bulk endpoint takes them, each batch in its own transaction: new and
returning customers with attributes, idempotency keys, about 20 % detractors, comments on some.
The baseline turns the same items into COPY text and streams them, also per batch, into a
scratch table created ``LIKE surveys_response INCLUDING ALL``: the same columns, indexes and
constraints (foreign keys aside), so it is the raw cost of loading these rows into this schema.
For reference the same load into an unindexed table is measured too (``copy_unindexed_*``).
The sides take turns batch by batch, so what the machine is doing meanwhile (a checkpoint's
full-page writes, a busy neighbour) falls on all of them alike. Each round uses a fresh survey
and fresh customers; the best round of each side counts.
For scale, each round also has the server alone write its responses again (INSERT ... SELECT):
what the schema's indexes, constraints and foreign-key checks cost without any Python.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/ingest.py
"""

from __future__ import annotations

import io
import os
import random
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, migrate, progress, report, run_token, timed

# isort: split
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import OrmQ

from closedloop.lib.db import copy_text
from closedloop.lib.roles import AGENT
from followups.models import Case, Team
from followups.services import team_create
from surveys.models import Customer, Response, Survey
from surveys.nps import classify
from surveys.services import responses_ingest, survey_create

User = get_user_model()
ROWS = int(os.environ.get("BENCH_ROWS", 100_000))
BATCH = 10_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
TARGET_RATIO = 0.25

# Score weights 0..10: 20 % detractors, 25 % passives, 55 % promoters, as help desks see.
SCORE_WEIGHTS = [1, 1, 1, 2, 2, 5, 8, 10, 15, 25, 30]
COMMENTS = [
    "Took a week to reset my VPN token",
    "The agent was friendly but the laptop still crashes\nafter the update",
    "Fixed in minutes, thank you!",
    "Nobody called back; I had to chase the ticket twice",
    'Printer on floor 3 "works" again, sort of',
    "Great service\tas always",
]
PLANS = ["bronze", "silver", "gold", "platinum"]
REGIONS = ["EU", "NA", "APAC", "LATAM"]
CHANNELS = ["email", "web", "in_app", "sms", None]
COPY_COLUMNS = (
    "survey_id, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref, external_id,"
    " contact_preference"
)


def customer_payload(prefix: str, number: int) -> dict[str, Any]:
    """The customer part of an item; the same every time that customer answers."""
    customer: dict[str, Any] = {
        "external_id": f"{prefix}-C{number}",
        "attributes": {"plan": PLANS[number % 4], "region": REGIONS[number // 4 % 4]},
    }
    if number % 10 < 7:
        customer["email"] = f"user{number}@example.com"
    if number % 2:
        customer["name"] = f"Customer {number}"
    return customer


def make_batches(survey: str, now: datetime, seed: int) -> Iterator[list[dict[str, Any]]]:
    """ROWS raw items in batches; four in five come from a new customer, the rest from an earlier one.

    Customer ids and idempotency keys start with the survey's slug. Each batch is built only
    when asked for, so no more items live at once than in one bulk request; the same seed gives
    the same items.
    """
    rng = random.Random(seed)
    customers = 0
    for start in range(0, ROWS, BATCH):
        batch = []
        for index in range(start, min(start + BATCH, ROWS)):
            if customers and rng.random() < 0.2:
                number = rng.randrange(customers)
            else:
                number, customers = customers, customers + 1
            batch.append(make_item(survey, now, rng, index, number))
        yield batch


def make_item(survey: str, now: datetime, rng: random.Random, index: int, customer: int) -> dict[str, Any]:
    score = rng.choices(range(11), weights=SCORE_WEIGHTS)[0]
    item: dict[str, Any] = {
        "survey": survey,
        "customer": customer_payload(survey, customer),
        "score": score,
        "submitted_at": (now - timedelta(seconds=rng.randrange(365 * 86400))).isoformat(),
        "external_id": f"{survey}-R{index}",
    }
    if rng.random() < (0.7 if score <= 6 else 0.25):
        item["comment"] = rng.choice(COMMENTS)
    if channel := rng.choice(CHANNELS):
        item["channel"] = channel
    if rng.random() < 0.8:
        item["ticket_ref"] = f"INC-{rng.randrange(10**6)}"
    return item


def ingest_batch(batch: list[dict[str, Any]]) -> None:
    """Store one batch through the ingestion service, as the bulk endpoint does."""
    result = responses_ingest(items=batch)
    if result.count("created") != len(batch):
        raise RuntimeError(f"expected every item created, got rejected {result.rejected[:3]}")


def copy_line(survey_id: int, item: dict[str, Any], received_at: str) -> str:
    """One COPY text line for an item, with the defaults ingestion applies.

    The customer's number (the tail of its external id) stands in for its key: the scratch
    table has no foreign keys, and the baseline does no customer work.
    """
    return (
        "\t".join(
            (
                str(survey_id),
                item["customer"]["external_id"].rsplit("C", 1)[1],
                str(item["score"]),
                classify(item["score"]),
                copy_text(item.get("comment", "")),
                item.get("channel") or "api",
                item["submitted_at"],
                received_at,
                copy_text(item.get("ticket_ref", "")),
                copy_text(item["external_id"]),
                "",  # no contact preference: a help desk's answers carry none
            )
        )
        + "\n"
    )


def copy_batch(batch: list[dict[str, Any]], survey_id: int, table: str) -> None:
    received_at = timezone.now().isoformat()
    buffer = io.StringIO("".join([copy_line(survey_id, item, received_at) for item in batch]))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({COPY_COLUMNS}) FROM STDIN", buffer)


def create_scratch_tables(table: str) -> None:
    # The responses table's shape with its indexes and check constraints (LIKE copies no
    # foreign keys), and the same columns bare: the fastest a load into PostgreSQL gets.
    execute(f"CREATE TABLE {table} (LIKE surveys_response INCLUDING ALL)")
    execute(f"CREATE TABLE {table}_bare (LIKE surveys_response INCLUDING DEFAULTS INCLUDING IDENTITY)")


# The same responses again, into a second survey, by the server alone.
REWRITE_SQL = """
INSERT INTO surveys_response
    (survey_id, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref, external_id,
     contact_preference)
SELECT %s, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref, external_id,
       contact_preference
FROM surveys_response WHERE survey_id = %s
"""


class Round(NamedTuple):
    ours: float  # rows per second, each figure
    copy: float
    copy_bare: float
    server: float


def server_alone(survey: Survey) -> float:
    """Seconds PostgreSQL alone takes to write the round's responses again, in one transaction.

    The same indexes, constraints and foreign-key checks as ingestion meets, with no Python in
    the way: the most any ingestion into this schema could reach (customers not included).
    """
    again = survey_create(slug=f"{survey.slug}-again", name=f"{survey.name} again")

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(REWRITE_SQL, [again.pk, survey.pk])

    return timed(run)[0]


def bench_round(number: int, prefix: str, table: str) -> Round:
    """One round on a fresh survey and fresh customers.

    Each batch is loaded by the three sides back to back (COPY, COPY unindexed, ingestion), so
    a checkpoint, autovacuum or a busy neighbour weighs on all of them alike rather than on
    whichever happened to run at the time.
    """
    survey = survey_create(slug=f"{prefix}-{number}", name=f"Benchmark {prefix} round {number}")
    now = timezone.now()
    copy_seconds = bare_seconds = ours_seconds = 0.0
    for batch in make_batches(survey.slug, now, number):
        copy_seconds += timed(copy_batch, batch, survey.pk, table)[0]
        bare_seconds += timed(copy_batch, batch, survey.pk, f"{table}_bare")[0]
        ours_seconds += timed(ingest_batch, batch)[0]
    stored = Response.objects.filter(survey=survey).count()
    if stored != ROWS:
        raise RuntimeError(f"expected {ROWS} responses stored, found {stored}")
    cases = Case.objects.filter(response__survey=survey).count()
    server_seconds = server_alone(survey)
    progress(
        f"round {number}: ingestion {ours_seconds:.2f} s ({ROWS / ours_seconds:,.0f} rows/s), "
        f"COPY {copy_seconds:.2f} s ({ROWS / copy_seconds:,.0f} rows/s), "
        f"COPY unindexed {bare_seconds:.2f} s ({ROWS / bare_seconds:,.0f} rows/s), "
        f"server alone rewriting the responses {server_seconds:.2f} s ({ROWS / server_seconds:,.0f} rows/s); "
        f"{cases:,} follow-up cases opened"
    )
    return Round(ROWS / ours_seconds, ROWS / copy_seconds, ROWS / bare_seconds, ROWS / server_seconds)


def create_team(prefix: str) -> None:
    """A service desk of six agents, so detractors open their follow-up cases as in production."""
    agents = [User.objects.create(username=f"{prefix}-agent{n}", email=f"agent{n}@example.com") for n in range(6)]
    Group.objects.get_or_create(name=AGENT)[0].user_set.add(*agents)
    team_create(slug=prefix, name="Benchmark desk", members=[a.username for a in agents], lead=agents[0].username)


def clean_round(prefix: str) -> None:
    """Delete a round's responses (their cases go with them), customers and surveys."""
    delete_rows(Response.objects.filter(survey__slug__startswith=f"{prefix}-"))
    delete_rows(Customer.objects.filter(external_id__startswith=f"{prefix}-"))
    delete_rows(Survey.objects.filter(slug__startswith=f"{prefix}-"))
    # The next round, and whoever uses the database next, meet tables without dead rows.
    execute("VACUUM ANALYZE surveys_response")
    execute("VACUUM ANALYZE surveys_customer")


def clean(prefix: str) -> None:
    """Delete what a run created, found by name, so a run that failed half-way is cleaned too."""
    clean_round(prefix)
    delete_rows(Team.objects.filter(slug=prefix))
    delete_rows(User.objects.filter(username__startswith=f"{prefix}-agent"))


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def main() -> None:
    migrate()
    prefix = f"bench-{run_token()}"
    table = prefix.replace("-", "_")
    progress(f"{ROWS:,} responses in batches of {BATCH:,}, best of {ROUNDS} rounds")
    rounds = []
    last_task = OrmQ.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        create_scratch_tables(table)
        create_team(prefix)
        for number in range(1, ROUNDS + 1):
            rounds.append(bench_round(number, prefix, table))
            clean_round(prefix)
            execute(f"TRUNCATE {table}, {table}_bare")
    finally:
        execute(f"DROP TABLE IF EXISTS {table}, {table}_bare")
        clean(prefix)
        # The deliveries ingestion enqueued for the cases it opened: no cluster runs them here.
        OrmQ.objects.filter(pk__gt=last_task).delete()
    ours = max(r.ours for r in rounds)
    baseline = max(r.copy for r in rounds)
    bare = max(r.copy_bare for r in rounds)
    ratio = ours / baseline
    progress(f"server alone, best round: {max(r.server for r in rounds):,.0f} rows/s")
    progress(f"target ratio >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    report(
        {
            "bench": "ingest",
            "rows": ROWS,
            "ours_rows_per_s": round(ours),
            "copy_rows_per_s": round(baseline),
            "ratio": round(ratio, 3),
            "copy_unindexed_rows_per_s": round(bare),
            "ratio_unindexed": round(ours / bare, 3),
        }
    )


if __name__ == "__main__":
    main()
