"""The manager dashboard over 1,000,000 responses and 200,000 cases, then 10,000,000 responses,
against hand-written SQL scans of the same figures; and the CSV export of 1,000,000 rows.

Rows are loaded with INSERT ... SELECT FROM generate_series (two surveys, three channels, a year
of answers), the cases from the detractors among them, then the rollup is rebuilt and the tables
VACUUM ANALYZEd. "Ours" is a manager's GET / through the whole stack (session, view, selectors,
template); "SQL" is what someone would write by hand for the same figures reading the raw
responses: NPS by month and score, NPS by survey, the loop figures of the cases, open cases per
agent and team, and the theme totals. Both are timed warm, interleaved, median of several runs.
The export streams GET /api/v1/reports/responses.csv for the first 1,000,000 rows, reporting rows
per second and the process's peak resident memory.

Run against a database of its own: the dashboard's default view counts every response in it.
DATABASE_URL=postgres://... .venv/bin/python tests/bench/dashboard.py
(BENCH_ROWS, BENCH_BIG_ROWS, BENCH_CASES, BENCH_RUNS change the sizes; BENCH_BIG_ROWS=0 skips 10M.)
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, median, migrate, progress, report, run_token, timed

# isort: split
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from closedloop.users import user_create
from followups.models import Team
from surveys.models import Customer, Survey
from surveys.services import survey_create
from surveys.services.rollups import rollups_rebuild

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
BIG_ROWS = int(os.environ.get("BENCH_BIG_ROWS", 10_000_000))
CASES = int(os.environ.get("BENCH_CASES", 200_000))
RUNS = int(os.environ.get("BENCH_RUNS", 5))
EXPORT_ROWS = 1_000_000
CUSTOMERS = 50
SPAN = timedelta(days=364)
TARGET_RATIO = 1.5
TARGET_RATIO_10M = 0.2
STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
SCORE_CYCLE = [0, 1, 2, 3, 3, 4, 4, 5, 5, 5, 5, 5, *[6] * 8, *[7] * 10, *[8] * 15, *[9] * 25, *[10] * 30]

LOAD_SQL = """
INSERT INTO surveys_response
    (survey_id, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref,
     contact_preference, external_id)
SELECT (%(surveys)s::bigint[])[1 + g %% 2], (%(customers)s::bigint[])[1 + g %% cardinality(%(customers)s::bigint[])],
       s.score,
       CASE WHEN s.score >= 9 THEN 'promoter' WHEN s.score >= 7 THEN 'passive' ELSE 'detractor' END,
       '', (ARRAY['email', 'web', 'api'])[1 + g %% 3], %(start)s + %(span)s * (g::float8 / %(rows)s), %(now)s,
       '', '', NULL
FROM generate_series(1, %(rows)s) AS g
CROSS JOIN LATERAL (SELECT (%(scores)s::smallint[])[1 + (g * 37) %% 100] AS score) AS s
"""

CASES_SQL = """
INSERT INTO followups_case
    (response_id, team_id, status, priority, created_at, first_contact_due, resolution_due, next_due,
     first_contacted_at, resolved_at, close_reason, escalation_level, reassign_after, updated_at, submitted_at)
SELECT r.id, %(team)s, CASE WHEN r.id %% 10 = 0 THEN 'new' ELSE 'resolved' END, 'normal', r.submitted_at,
       r.submitted_at + interval '1 day', r.submitted_at + interval '7 days',
       CASE WHEN r.id %% 10 = 0 THEN r.submitted_at + interval '1 day' END,
       CASE WHEN r.id %% 10 = 0 THEN NULL ELSE r.submitted_at + (r.id %% 48) * interval '1 hour' END,
       CASE WHEN r.id %% 10 = 0 THEN NULL ELSE r.submitted_at + (r.id %% 9) * interval '1 day' END,
       '', 0, interval '4 hours', %(now)s, r.submitted_at
FROM surveys_response r
WHERE r.category = 'detractor' AND r.survey_id = ANY(%(surveys)s::bigint[])
  AND NOT EXISTS (SELECT 1 FROM followups_case c WHERE c.response_id = r.id)
ORDER BY r.id
LIMIT %(cases)s
"""

# By hand, over the raw rows: the figures the dashboard shows for the last year.
HAND_SQL = [
    """SELECT date_trunc('month', submitted_at AT TIME ZONE %(tz)s), score, count(*)
       FROM surveys_response WHERE submitted_at >= %(after)s AND submitted_at < %(before)s GROUP BY 1, 2""",
    """SELECT survey_id, count(*) FILTER (WHERE category = 'promoter'), count(*) FILTER (WHERE category = 'passive'),
              count(*) FILTER (WHERE category = 'detractor')
       FROM surveys_response WHERE submitted_at >= %(after)s AND submitted_at < %(before)s GROUP BY 1""",
    """SELECT count(*), count(first_contacted_at), count(*) FILTER (WHERE first_contacted_at <= first_contact_due),
              count(*) FILTER (WHERE resolved_at <= resolution_due),
              percentile_cont(0.5) WITHIN GROUP (ORDER BY first_contacted_at - c.created_at),
              percentile_cont(0.9) WITHIN GROUP (ORDER BY first_contacted_at - c.created_at)
       FROM followups_case c JOIN surveys_response r ON r.id = c.response_id
       WHERE r.submitted_at >= %(after)s AND r.submitted_at < %(before)s""",
    """SELECT owner_id, count(*), count(*) FILTER (WHERE next_due <= %(now)s) FROM followups_case
       WHERE status IN ('new', 'contacted', 'in_progress', 'waiting') GROUP BY 1""",
    """SELECT team_id, count(*), count(*) FILTER (WHERE next_due <= %(now)s) FROM followups_case
       WHERE status IN ('new', 'contacted', 'in_progress', 'waiting') GROUP BY 1""",
    """SELECT count(*) FILTER (WHERE category = 'promoter'), count(*) FILTER (WHERE category = 'passive'),
              count(*) FILTER (WHERE category = 'detractor')
       FROM surveys_response WHERE submitted_at >= %(after)s AND submitted_at < %(before)s""",
]


def _execute(sql: str, params: Any = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def load(surveys: list[int], customers: list[int], rows: int) -> None:
    now = timezone.now()
    params = {
        "surveys": surveys,
        "customers": customers,
        "scores": SCORE_CYCLE,
        "start": now - SPAN,
        "span": SPAN,
        "rows": rows,
        "now": now,
    }
    seconds, _ = timed(lambda: _execute(LOAD_SQL, params))
    progress(f"loaded {rows:,} responses in {seconds:.1f} s")


def load_cases(surveys: list[int], team: int, cases: int) -> None:
    params = {"surveys": surveys, "team": team, "cases": cases, "now": timezone.now()}
    seconds, _ = timed(lambda: _execute(CASES_SQL, params))
    progress(f"loaded up to {cases:,} cases in {seconds:.1f} s")


def settle() -> None:
    seconds, rows = timed(rollups_rebuild)
    progress(f"rebuilt the rollup ({rows:,} rows) in {seconds:.1f} s")
    for table in ("surveys_response", "followups_case", "surveys_dailyscorecount"):
        _execute(f"VACUUM ANALYZE {table}")


def hand_sql() -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    zone = timezone.get_current_timezone()
    after = datetime.combine(today - timedelta(days=364), time.min, tzinfo=zone)
    before = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    params = {"tz": timezone.get_current_timezone_name(), "after": after, "before": before, "now": now}
    for sql in HAND_SQL:
        _execute(sql, params)


def page(client: Client) -> None:
    reply = client.get("/")
    if reply.status_code != 200:
        raise RuntimeError(f"the dashboard answered {reply.status_code}")


def time_both(client: Client) -> tuple[float, float]:
    for _ in range(2):
        page(client)
        hand_sql()
    ours, sql = [], []
    for _ in range(RUNS):
        ours.append(timed(page, client)[0])
        sql.append(timed(hand_sql)[0])
    return median(ours) * 1000, median(sql) * 1000


def count_queries(client: Client) -> int:
    """The page's number of queries; the slowest few are shown, to say where the time goes."""
    with CaptureQueriesContext(connection) as captured:
        page(client)
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]:
        progress(f"  {float(query['time']) * 1000:.0f} ms: {query['sql'][:160]}")
    return len(captured)


def export(client: Client) -> tuple[float, float]:
    """Rows per second of the responses CSV for the first EXPORT_ROWS rows, and peak RSS in MB."""
    start_day = (timezone.localdate() - timedelta(days=364)).isoformat()
    reply = client.get("/api/v1/reports/responses.csv", {"start": start_day})
    lines = 0

    def consume() -> None:
        nonlocal lines
        # The sync test client streams a WSGI response: an iterator of bytes.
        for chunk in cast("Iterator[bytes]", cast(StreamingHttpResponse, reply).streaming_content):
            lines += chunk.count(b"\n")
            if lines > EXPORT_ROWS:
                break

    seconds, _ = timed(consume)
    rows = min(lines - 1, EXPORT_ROWS)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    progress(f"exported {rows:,} rows in {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    return rows / seconds, peak_mb


def clean(prefix: str) -> None:
    ids = list(Survey.objects.filter(slug__startswith=prefix).values_list("pk", flat=True))
    _execute(
        "DELETE FROM followups_case WHERE response_id IN (SELECT id FROM surveys_response WHERE survey_id = ANY(%s))",
        [ids],
    )
    _execute("DELETE FROM surveys_response WHERE survey_id = ANY(%s)", [ids])
    _execute("DELETE FROM surveys_dailyscorecount WHERE survey_id = ANY(%s)", [ids])
    delete_rows(Team.objects.filter(slug=prefix))
    delete_rows(Customer.objects.filter(external_id__startswith=f"{prefix}-"))
    delete_rows(Survey.objects.filter(slug__startswith=prefix))
    delete_rows(get_user_model().objects.filter(username=prefix))


def main() -> None:
    migrate()
    prefix = f"bench-{run_token()}"
    figures: dict[str, Any] = {"bench": "dashboard"}
    try:
        surveys = [survey_create(slug=f"{prefix}-{n}", name=f"Benchmark {prefix} {n}").pk for n in (1, 2)]
        team = Team.objects.create(slug=prefix, name=f"Benchmark {prefix}")
        manager = user_create(username=prefix, password=f"{prefix}-Pw-9!x", role="manager")
        customers = Customer.objects.bulk_create(Customer(external_id=f"{prefix}-C{i}") for i in range(CUSTOMERS))
        customer_ids = [c.pk for c in customers]
        load(surveys, customer_ids, ROWS)
        load_cases(surveys, team.pk, CASES)
        settle()
        client = Client()
        # The page is rendered without collectstatic: plain static URLs instead of the manifest's.
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_STORAGE}}
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], STORAGES=plain_static):
            client.force_login(manager)
            responses = _execute("SELECT count(*) FROM surveys_response")[0][0]
            cases = _execute("SELECT count(*) FROM followups_case")[0][0]
            queries = count_queries(client)
            ours_ms, sql_ms = time_both(client)
            progress(
                f"{responses:,} responses, {cases:,} cases: page {ours_ms:.0f} ms, "
                f"SQL {sql_ms:.0f} ms, {queries} queries"
            )
            progress(f"target ratio <= {TARGET_RATIO}: {'met' if ours_ms / sql_ms <= TARGET_RATIO else 'MISSED'}")
            rows_per_s, peak_mb = export(client)
            figures.update(
                responses=responses,
                cases=cases,
                queries=queries,
                ours_ms=round(ours_ms, 1),
                sql_ms=round(sql_ms, 1),
                ratio=round(ours_ms / sql_ms, 3),
                export_rows_per_s=round(rows_per_s),
                export_peak_rss_mb=round(peak_mb, 1),
            )
            ours_10m = sql_10m = None
            if BIG_ROWS > ROWS:
                load(surveys, customer_ids, BIG_ROWS - ROWS)
                settle()
                big = _execute("SELECT count(*) FROM surveys_response")[0][0]
                count_queries(client)
                ours_10m, sql_10m = time_both(client)
                progress(f"{big:,} responses: page {ours_10m:.0f} ms, SQL {sql_10m:.0f} ms")
                progress(
                    f"target ratio <= {TARGET_RATIO_10M}: "
                    f"{'met' if ours_10m / sql_10m <= TARGET_RATIO_10M else 'MISSED'}"
                )
                figures["responses_10m"] = big
            figures.update(
                ours_10m_ms=ours_10m and round(ours_10m, 1),
                sql_10m_ms=sql_10m and round(sql_10m, 1),
                ratio_10m=ours_10m and sql_10m and round(ours_10m / sql_10m, 3),
            )
    finally:
        clean(prefix)
    report(figures)


if __name__ == "__main__":
    main()
