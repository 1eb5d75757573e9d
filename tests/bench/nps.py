"""NPS by month over 1,000,000 responses: the API against a hand-written SQL aggregate.

The rows are loaded with one INSERT ... SELECT FROM generate_series (one survey, a few
customers, two years of answers in arrival order), then VACUUM ANALYZE, as autovacuum would
leave a table that size. ``GET /api/v1/nps/?group_by=month`` goes through the whole stack (a
manager's token, permission, view, selector, rendering); the SQL is what someone would write by
hand over the same rows. Both are timed warm, interleaved, median of several runs. The plan of
the API's query for the last 90 days is printed and checked to be an Index Only Scan on a
covering index.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/nps.py
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, median, migrate, progress, report, run_token, timed

# isort: split
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from closedloop.users import user_create
from surveys.models import Customer, Response, Survey
from surveys.services import survey_create

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
RUNS = int(os.environ.get("BENCH_RUNS", 9))
CUSTOMERS = 20
SPAN = timedelta(days=730)
URL = "/api/v1/nps/"
TARGET_RATIO = 1.2
# Scores in a cycle of 100: 20 detractors, 25 passives, 55 promoters.
SCORE_CYCLE = [0, 1, 2, 3, 3, 4, 4, 5, 5, 5, 5, 5, *[6] * 8, *[7] * 10, *[8] * 15, *[9] * 25, *[10] * 30]

# Every response gets its category from its score exactly as Response.save() would.
LOAD_SQL = """
INSERT INTO surveys_response
    (survey_id, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref, external_id,
     contact_preference)
SELECT %(survey)s, (%(customers)s::bigint[])[1 + g %% cardinality(%(customers)s::bigint[])], s.score,
       CASE WHEN s.score >= 9 THEN 'promoter' WHEN s.score >= 7 THEN 'passive' ELSE 'detractor' END,
       '', 'email', %(start)s + (%(span)s * g / %(rows)s), %(now)s, '', NULL, ''
FROM generate_series(1, %(rows)s) AS g
CROSS JOIN LATERAL (SELECT (%(scores)s::smallint[])[1 + (g * 37) %% 100] AS score) AS s
"""

# By hand: the same months in the same time zone, the same three counts.
HAND_SQL = """
SELECT date_trunc('month', submitted_at AT TIME ZONE %s) AS month,
       count(*) FILTER (WHERE category = 'promoter'),
       count(*) FILTER (WHERE category = 'passive'),
       count(*) FILTER (WHERE category = 'detractor')
FROM surveys_response
GROUP BY 1
ORDER BY 1
"""


def load(survey: Survey, customers: list[int]) -> None:
    now = timezone.now()
    params = {
        "survey": survey.pk,
        "customers": customers,
        "scores": SCORE_CYCLE,
        "start": now - SPAN,
        "span": SPAN,
        "rows": ROWS,
        "now": now,
    }
    seconds, _ = timed(lambda: _execute(LOAD_SQL, params))
    progress(f"loaded {ROWS:,} responses in {seconds:.1f} s")
    seconds, _ = timed(lambda: _execute("VACUUM ANALYZE surveys_response"))
    progress(f"VACUUM ANALYZE in {seconds:.1f} s")


def _execute(sql: str, params: Any = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def hand_sql() -> list[tuple]:
    return _execute(HAND_SQL, [timezone.get_current_timezone_name()])


def api_get(client: APIClient, **params: str) -> dict[str, Any]:
    reply = client.get(URL, params)
    if reply.status_code != 200:
        raise RuntimeError(f"{URL} answered {reply.status_code}: {reply.content[:300]!r}")
    return reply.json()


def check_same_counts(api: dict[str, Any], sql: list[tuple]) -> None:
    """Both sides must count the same rows the same way, or the timing compares nothing."""
    by_api = [(r["group"], r["promoters"], r["passives"], r["detractors"]) for r in api["results"]]
    by_sql = [(f"{month:%Y-%m}", p, a, d) for month, p, a, d in sql]
    if by_api != by_sql:
        raise RuntimeError(f"the API and the SQL disagree:\n{by_api[:3]}...\n{by_sql[:3]}...")


def count_queries(client: APIClient) -> tuple[int, int]:
    """Queries one request runs over the responses (the NPS itself), and in all.

    The rest is authentication: the token, its user and the user's roles, in one query.
    """
    with CaptureQueriesContext(connection) as captured:
        api_get(client, group_by="month")
    for query in captured.captured_queries:
        progress(f"  query: {query['sql'][:150]}")
    return sum("surveys_response" in q["sql"] for q in captured.captured_queries), len(captured)


def time_both(client: APIClient) -> tuple[float, float]:
    """Median milliseconds of the API and of the SQL, runs interleaved so load hits both alike."""
    for _ in range(2):  # warm the cache, the connection and the code paths
        api_get(client, group_by="month")
        hand_sql()
    ours, sql = [], []
    for _ in range(RUNS):
        ours.append(timed(lambda: api_get(client, group_by="month"))[0])
        sql.append(timed(hand_sql)[0])
    return median(ours) * 1000, median(sql) * 1000


def recent_plan(client: APIClient) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the NPS query the API runs for the last 90 days."""
    after = (timezone.now() - timedelta(days=90)).isoformat()
    with CaptureQueriesContext(connection) as captured:
        api_get(client, group_by="month", submitted_after=after)
    nps_sql = [q["sql"] for q in captured.captured_queries if "surveys_response" in q["sql"]]
    if len(nps_sql) != 1:
        raise RuntimeError(f"expected one NPS query, the API ran {len(nps_sql)}")
    return "\n".join(row[0] for row in _execute(f"EXPLAIN (ANALYZE, BUFFERS) {nps_sql[0]}"))


def covering_indexes() -> set[str]:
    """Response indexes that lead with submitted_at and carry the category."""
    return {
        index.name
        for index in Response._meta.indexes
        if index.fields[:1] == ["submitted_at"] and "category" in (*index.fields, *index.include)
    }


def bench(client: APIClient) -> tuple[dict[str, Any], list[str]]:
    """The figures, and the checks that failed (a plan that reads the table, say)."""
    rows = _execute("SELECT count(*) FROM surveys_response")[0][0]
    check_same_counts(api_get(client, group_by="month"), hand_sql())
    queries, request_queries = count_queries(client)
    ours_ms, sql_ms = time_both(client)
    progress(
        f"API {ours_ms:.1f} ms, SQL {sql_ms:.1f} ms (median of {RUNS}); {queries} NPS query, "
        f"{request_queries} per request with the token's"
    )
    plan = recent_plan(client)
    progress("plan of the API's NPS query for the last 90 days:")
    progress(plan)
    indexes = covering_indexes()
    index_only = any(f"Index Only Scan using {name}" in plan for name in indexes)
    progress(f"index-only scan on a covering index ({', '.join(sorted(indexes))}): {'yes' if index_only else 'NO'}")
    # Timings depend on the machine's load, so a missed ratio is reported, not failed.
    progress(f"target ratio <= {TARGET_RATIO}: {'met' if ours_ms / sql_ms <= TARGET_RATIO else 'MISSED'}")
    figures = {
        "bench": "nps",
        "rows": rows,
        "queries": queries,
        "request_queries": request_queries,
        "ours_ms": round(ours_ms, 1),
        "sql_ms": round(sql_ms, 1),
        "ratio": round(ours_ms / sql_ms, 3),
    }
    return figures, [] if index_only else ["the last 90 days are not an index-only scan on a covering index"]


def clean(prefix: str) -> None:
    """Delete what a run created, found by name, so a run that failed half-way is cleaned too."""
    # Only the loader wrote these responses (no ingestion, so no cases): one DELETE suffices.
    _execute(
        "DELETE FROM surveys_response WHERE survey_id IN (SELECT id FROM surveys_survey WHERE slug = %s)", [prefix]
    )
    delete_rows(Customer.objects.filter(external_id__startswith=f"{prefix}-"))
    delete_rows(Survey.objects.filter(slug=prefix))
    delete_rows(get_user_model().objects.filter(username=prefix))
    _execute("VACUUM ANALYZE surveys_response")


def main() -> None:
    migrate()
    prefix = f"bench-{run_token()}"
    try:
        survey = survey_create(slug=prefix, name=f"Benchmark {prefix}")
        manager = user_create(username=prefix, password=f"{prefix}-Pw-9!x", role="manager")
        customers = Customer.objects.bulk_create(Customer(external_id=f"{prefix}-C{i}") for i in range(CUSTOMERS))
        load(survey, [c.pk for c in customers])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            figures, failures = bench(client)
    finally:
        clean(prefix)
    report(figures)
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
