"""Escalation over 1,000,000 cases: the overdue sweep and an agent's queue against hand-written SQL.

The rows are loaded with INSERT ... SELECT FROM generate_series: one survey, one team of a few
hundred agents and its lead, a customer and a detractor response per case. Of the cases, OVERDUE
are open and past their first-contact deadline (not yet due to move to the lead), QUEUE are the
queue agent's open cases, OPEN more are open and not due yet, and the rest are resolved or closed
history. Ids come from the tables' own sequences through a map table of the run, so the three
tables agree and a concurrent run cannot collide. Then VACUUM ANALYZE, as autovacuum would leave them.

1. The sweep: ``escalation_sweep`` records the OVERDUE first-contact breaches (claim, mark, history,
   an email to owner and lead, webhook events), against one hand-written UPDATE marking the same
   rows the same way. Both start from the same state (the rows are reset and vacuumed between
   runs) and the best of ROUNDS counts. The sweep also runs with its side effects off (nothing
   loaded, rendered or written for the claimed cases: the claims, marks, transactions and loops
   alone), which is what the hand UPDATE compares with; and the full sweep's time is split into
   its parts: timers around the calls that load the claimed cases, render emails, build webhook
   payloads and write events and outbox rows, the debug cursor's timings of its claims, marks,
   commits and enqueueing, and the rows it wrote are counted.
2. The queue: ``GET /api/v1/cases/?owner=me&open=true`` for the agent with QUEUE open cases, over
   the whole stack (token, permission, filters, pagination, serializers), against one SQL query
   reading everything the page shows (case, response, survey, customer, team, owner and root
   causes, by deadline) through the same index; the time to read the reply's JSON is the client's;
   then the same request's stages timed one by one, to show where the difference goes.

Plans of the sweep's claim and mark statements and of the queue query are printed.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/escalation.py
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, median, migrate, progress, report, run_token, timed

# isort: split
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_q.models import OrmQ
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from closedloop.lib.roles import AGENT
from followups.apis.cases import CaseOutputSerializer, serializer_context
from followups.models import Team, WebhookDelivery, WebhookEndpoint
from followups.selectors import case_values, with_root_causes
from followups.services import escalation, root_cause_create, team_create
from surveys.models import Survey
from surveys.services import survey_create

CASES = int(os.environ.get("BENCH_CASES", 1_000_000))
OVERDUE = int(os.environ.get("BENCH_OVERDUE", 10_000))
QUEUE = int(os.environ.get("BENCH_QUEUE", 500))
OPEN = int(os.environ.get("BENCH_OPEN", 40_000))
AGENTS = int(os.environ.get("BENCH_AGENTS", 300))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 200))
TARGET_RATIO = 3.0
URL = "/api/v1/cases/?owner=me&open=true"
PAGE = 50
# django-q logs every task the sweeps enqueue; the progress lines are what this run reports.
logging.getLogger("django-q").setLevel(logging.WARNING)
OPEN_STATUSES = ("new", "contacted", "in_progress", "waiting_on_customer")
COMMENTS = [
    "Took a week to reset my VPN token",
    "Nobody called back; I had to chase the ticket twice",
    "The laptop still crashes after the update",
    "",
]

# Which case each number is, its ids, when it opened and who owns it; the three loads read it.
MAP_SQL = """
CREATE UNLOGGED TABLE {map} AS
SELECT g AS n,
       nextval(pg_get_serial_sequence('surveys_customer', 'id')) AS customer_id,
       nextval(pg_get_serial_sequence('surveys_response', 'id')) AS response_id,
       nextval(pg_get_serial_sequence('followups_case', 'id')) AS case_id,
       k.kind,
       CASE k.kind
           WHEN 'overdue' THEN %(now)s - interval '10 hours' - mod(g, 60) * interval '1 minute'
           WHEN 'done' THEN %(now)s - interval '2 days' - mod(g, 363) * interval '1 day'
                            - mod(g, 1440) * interval '1 minute'
           ELSE %(now)s - interval '2 hours' - mod(g, 120) * interval '1 minute'
       END AS created_at,
       CASE k.kind
           WHEN 'queue' THEN %(queue_agent)s
           WHEN 'done' THEN (%(agents)s::int[])[1 + mod(g, cardinality(%(agents)s::int[]))]
           ELSE (%(others)s::int[])[1 + mod(g, cardinality(%(others)s::int[]))]
       END AS owner_id
FROM generate_series(1, %(cases)s) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g <= %(overdue)s THEN 'overdue'
                WHEN g <= %(overdue)s + %(queue)s THEN 'queue'
                WHEN g <= %(overdue)s + %(queue)s + %(open)s THEN 'open'
                ELSE 'done' END AS kind
) AS k
"""

CUSTOMERS_SQL = """
INSERT INTO surveys_customer (id, external_id, email, name, phone, attributes, created_at, updated_at)
SELECT customer_id, %(prefix)s || '-C' || n, 'customer' || n || '@example.com', 'Customer ' || n, '',
       %(attributes)s::jsonb, created_at - interval '1 hour', created_at - interval '1 hour'
FROM {map}
"""

# Scores 0..6: every response is a detractor; 0..3 are hot under the default threshold.
RESPONSES_SQL = """
INSERT INTO surveys_response
    (id, survey_id, customer_id, score, category, comment, channel, submitted_at, received_at, ticket_ref, external_id,
     contact_preference)
SELECT response_id, %(survey)s, customer_id, mod(n, 7), 'detractor', (%(comments)s::text[])[1 + mod(n, 4)], 'email',
       created_at - interval '5 minutes', created_at - interval '5 minutes', 'INC-' || n, %(prefix)s || '-R' || n, ''
FROM {map}
"""

# Overdue: new, first contact due one hour ago (the lead takes over only after eight).
# Queue and open: new, contacted or in progress, next deadline in the next days, not at risk yet.
# Done: resolved or closed long ago, no deadline pending.
CASES_SQL = """
INSERT INTO followups_case
    (id, response_id, team_id, owner_id, status, priority, created_at, assigned_at, first_contact_due,
     resolution_due, next_due, at_risk_from, at_risk_notified_at, first_contacted_at, resolved_at, closed_at,
     close_reason, escalation_level, reassign_after, updated_at, submitted_at)
SELECT case_id, response_id, %(team)s, owner_id, d.status, CASE WHEN mod(n, 7) <= 3 THEN 'hot' ELSE 'normal' END,
       created_at, created_at, d.first_contact_due, d.resolution_due, d.next_due, d.at_risk_from,
       d.at_risk_notified_at, d.first_contacted_at, d.resolved_at, d.closed_at, '', 0, interval '8 hours', created_at,
       created_at - interval '5 minutes'
FROM {map}
CROSS JOIN LATERAL (
    SELECT s.status,
           CASE WHEN s.status = 'new' THEN s.due ELSE created_at + interval '1 hour' END AS first_contact_due,
           CASE WHEN kind = 'done' THEN created_at + interval '40 hours' ELSE s.due + interval '32 hours' END
               AS resolution_due,
           CASE WHEN kind = 'done' THEN NULL ELSE s.due END AS next_due,
           CASE WHEN kind = 'done' THEN NULL ELSE s.due - interval '2 hours' END AS at_risk_from,
           CASE WHEN kind = 'overdue' THEN s.due - interval '2 hours' END AS at_risk_notified_at,
           CASE WHEN s.status <> 'new' THEN created_at + interval '30 minutes' END AS first_contacted_at,
           CASE WHEN kind = 'done' THEN created_at + interval '20 hours' END AS resolved_at,
           CASE WHEN s.status = 'closed' THEN created_at + interval '1 day' END AS closed_at
    FROM (
        SELECT CASE kind
                   WHEN 'overdue' THEN 'new'
                   WHEN 'done' THEN (ARRAY['resolved', 'closed'])[1 + mod(n, 2)]
                   ELSE (ARRAY['new', 'contacted', 'in_progress'])[1 + mod(n, 3)]
               END AS status,
               CASE kind
                   WHEN 'overdue' THEN %(now)s - interval '1 hour' - mod(n, 300) * interval '1 second'
                   WHEN 'done' THEN created_at + interval '8 hours'
                   ELSE %(now)s + interval '3 hours' + mod(n, 5000) * interval '1 minute'
               END AS due
    ) AS s
) AS d
"""

# The breaches by hand: the same rows (open, never contacted, not yet breached, first contact
# due), marked the same way as the sweep's UPDATE, in one statement.
HAND_UPDATE_SQL = """
UPDATE followups_case
SET first_contact_breached_at = %(now)s,
    escalation_level = GREATEST(escalation_level, 1),
    escalated_at = COALESCE(escalated_at, %(now)s),
    reassign_at = first_contact_due + reassign_after,
    updated_at = %(now)s
WHERE status IN ('new', 'contacted', 'in_progress', 'waiting_on_customer')
  AND first_contacted_at IS NULL
  AND first_contact_breached_at IS NULL
  AND first_contact_due < %(now)s
"""

# Every third open case is coded with a root cause, every sixth with a second one, so the queue
# shows root causes as a coded desk's does.
CODES_SQL = """
INSERT INTO followups_responserootcause (response_id, root_cause_id, coded_at, source)
SELECT response_id, rc.id, created_at, 'agent'
FROM {map}
JOIN followups_rootcause rc ON rc.slug = %(prefix)s || '-vpn' OR (rc.slug = %(prefix)s || '-callback' AND mod(n, 6) = 0)
WHERE kind <> 'done' AND mod(n, 3) = 0
"""

OVERDUE_IDS = "SELECT case_id FROM {map} WHERE kind = 'overdue'"
RESET_SQL = [
    f"DELETE FROM followups_notification WHERE case_id IN ({OVERDUE_IDS})",
    f"DELETE FROM followups_caseevent WHERE case_id IN ({OVERDUE_IDS})",
    f"""UPDATE followups_case
        SET first_contact_breached_at = NULL, escalation_level = 0, escalated_at = NULL, reassign_at = NULL,
            updated_at = created_at
        WHERE id IN ({OVERDUE_IDS})""",
]

# The queue's first page by hand: everything the API returns of each case (the case, its response,
# survey, customer, team and owner, and the response's root causes), by deadline, one row past the page.
HAND_QUEUE_SQL = f"""
SELECT c.id, c.status, c.priority, c.created_at, c.first_contact_due, c.resolution_due, c.next_due,
       c.at_risk_from, c.first_contacted_at, c.resolved_at, c.closed_at, c.paused_at,
       c.first_contact_breached_at, c.resolution_breached_at, c.escalation_level, u.username, t.slug,
       r.id, s.slug, r.score, r.category, r.comment, r.channel, r.submitted_at, r.ticket_ref,
       cu.external_id, cu.name, cu.email,
       ARRAY(SELECT rc.slug FROM followups_responserootcause x
             JOIN followups_rootcause rc ON rc.id = x.root_cause_id
             WHERE x.response_id = r.id ORDER BY rc.slug) AS root_causes
FROM followups_case c
JOIN surveys_response r ON r.id = c.response_id
JOIN surveys_survey s ON s.id = r.survey_id
JOIN surveys_customer cu ON cu.id = r.customer_id
JOIN followups_team t ON t.id = c.team_id
LEFT JOIN auth_user u ON u.id = c.owner_id
WHERE c.owner_id = %s AND c.status IN {OPEN_STATUSES}
ORDER BY c.next_due ASC NULLS LAST, c.id
LIMIT {PAGE + 1}
"""

# What the sweep calls to build and write its side effects, by the names it imported them under.
SIDE_EFFECTS = {
    "_loaded": "load",
    "breach_email": "render",
    "escalation_email": "render",
    "case_payload": "payload",
    "events_record": "write",
    "notifications_queue": "write",
    "webhook_events_queue": "write",
}
WRITERS = [name for name, kind in SIDE_EFFECTS.items() if kind == "write"]
# The sweep's own statements, told apart by their text.
STATEMENTS = {
    "claim": lambda sql: "SKIP LOCKED" in sql,
    "mark": lambda sql: sql.startswith('UPDATE "followups_case"'),
    "commit": lambda sql: sql == "COMMIT",
    "enqueue": lambda sql: 'INTO "django_q_ormq"' in sql,
}


def _execute(sql: str, params: Any = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _rowcount(sql: str, params: Any = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# -- the data ---------------------------------------------------------------------------------


def make_agents(prefix: str) -> tuple[list[Any], Any]:
    """AGENTS agents and a lead, in the agent role, without password hashing (none signs in)."""
    User = get_user_model()
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{name}", email=f"{prefix}-{name}@example.com", password=password)
        for name in [*(f"agent{i}" for i in range(AGENTS)), "lead"]
    )
    group, _ = Group.objects.get_or_create(name=AGENT)
    User.groups.through.objects.bulk_create(User.groups.through(user_id=u.pk, group_id=group.pk) for u in users)
    return users[:-1], users[-1]


def load(prefix: str, table: str, survey: Survey, team: Team, agents: list[Any], now: datetime) -> None:
    params = {
        "prefix": prefix,
        "now": now,
        "cases": CASES,
        "overdue": OVERDUE,
        "queue": QUEUE,
        "open": OPEN,
        "queue_agent": agents[0].pk,
        "agents": [a.pk for a in agents],
        "others": [a.pk for a in agents[1:]],
        "survey": survey.pk,
        "team": team.pk,
        "comments": COMMENTS,
        "attributes": '{"plan": "gold"}',
    }
    for name, sql in (
        ("map", MAP_SQL),
        ("customers", CUSTOMERS_SQL),
        ("responses", RESPONSES_SQL),
        ("cases", CASES_SQL),
        ("root-cause codes", CODES_SQL),
    ):
        with transaction.atomic():
            seconds, rows = timed(_rowcount, sql.format(map=table), params)
        progress(f"loaded {name}: {rows:,} rows in {seconds:.1f} s")
    seconds, _ = timed(
        lambda: _execute(
            "VACUUM ANALYZE surveys_customer, surveys_response, followups_case, followups_responserootcause"
        )
    )
    progress(f"VACUUM ANALYZE in {seconds:.1f} s")


def reset(table: str) -> None:
    """Put the overdue cases back as they were loaded: unbreached, no history, no emails."""
    with transaction.atomic():
        for sql in RESET_SQL:
            _execute(sql.format(map=table))
    _execute("VACUUM ANALYZE followups_case, followups_caseevent, followups_notification")


# -- the sweep ----------------------------------------------------------------------------------


@contextmanager
def timing_side_effects() -> Iterator[dict[str, float]]:
    """Wrap the sweep's side-effect calls with timers; yields seconds per kind of SIDE_EFFECTS."""
    spent: dict[str, float] = defaultdict(float)
    originals = {name: getattr(escalation, name) for name in SIDE_EFFECTS}

    def timer(name: str, call: Callable) -> Callable:
        @wraps(call)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            seconds, result = timed(lambda: call(*args, **kwargs))
            spent[SIDE_EFFECTS[name]] += seconds
            return result

        return timed_call

    for name, call in originals.items():
        setattr(escalation, name, timer(name, call))
    try:
        yield spent
    finally:
        for name, call in originals.items():
            setattr(escalation, name, call)


@contextmanager
def side_effects_off() -> Iterator[None]:
    """Run the real sweep with nothing loaded, rendered or written for its claimed cases.

    What is left is the sweep itself: its claims, its marking UPDATEs, its transactions and
    loops, which is what the hand UPDATE stands for.
    """
    originals = {name: getattr(escalation, name) for name in ("_loaded", *WRITERS)}
    escalation._loaded = lambda ids, **kwargs: []
    for name in WRITERS:
        setattr(escalation, name, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for name, call in originals.items():
            setattr(escalation, name, call)


def statement_seconds(captured: CaptureQueriesContext) -> dict[str, float]:
    """Seconds the sweep spent in each kind of STATEMENTS (the debug cursor times every one)."""
    spent = dict.fromkeys(STATEMENTS, 0.0)
    for query in captured.captured_queries:
        for kind, matches in STATEMENTS.items():
            if matches(query["sql"]):
                spent[kind] += float(query["time"])
    return spent


def written_by_sweep(table: str) -> tuple[int, int]:
    """History rows and outbox rows the last sweep wrote for the overdue cases."""
    overdue = OVERDUE_IDS.format(map=table)
    return _execute(
        f"""SELECT (SELECT count(*) FROM followups_caseevent WHERE case_id IN ({overdue})),
                   (SELECT count(*) FROM followups_notification WHERE case_id IN ({overdue}))"""
    )[0]


def hand_update(now: datetime) -> int:
    with transaction.atomic():  # committed inside the timing, as the sweep's batches are
        return _rowcount(HAND_UPDATE_SQL, {"now": now})


def sweep_round(number: int, now: datetime, table: str) -> dict[str, float]:
    """The hand UPDATE, the sweep, and the sweep with its side effects off, each from the loaded state.

    The full sweep's time is split into loading the claimed cases, rendering emails, building
    webhook payloads, writing events and outbox rows (timers around those calls), its claim and
    mark statements, its commits (which run the deferred foreign-key checks of the rows written)
    and the delivery task's enqueueing (the debug cursor's timings), and the Python glue left.
    """
    reset(table)
    sql_s, marked = timed(lambda: hand_update(now))
    if marked != OVERDUE:
        raise RuntimeError(f"the hand UPDATE marked {marked:,} rows, expected {OVERDUE:,}")
    reset(table)
    with side_effects_off():
        bare_s, bare = timed(lambda: escalation.escalation_sweep(now=now))
    reset(table)
    with timing_side_effects() as spent, CaptureQueriesContext(connection) as captured:
        sweep_s, result = timed(lambda: escalation.escalation_sweep(now=now))
    for outcome in (bare, result):
        if (outcome.first_contact_breaches, outcome.total) != (OVERDUE, OVERDUE):
            raise RuntimeError(f"the sweep recorded {outcome}, expected {OVERDUE:,} first-contact breaches only")
    events, emails = written_by_sweep(table)
    parts = {**dict.fromkeys(SIDE_EFFECTS.values(), 0.0), **spent, **statement_seconds(captured)}
    parts["glue"] = sweep_s - sum(parts.values())
    progress(
        f"round {number}: hand UPDATE {sql_s:.3f} s; sweep with side effects off {bare_s:.3f} s; "
        f"sweep {sweep_s:.2f} s ({events:,} events, {emails:,} emails): "
        + ", ".join(f"{kind} {seconds:.3f} s" for kind, seconds in parts.items())
    )
    return {"sql": sql_s, "bare": bare_s, "sweep": sweep_s, **parts}


def sweep_plans(now: datetime, table: str) -> str:
    """EXPLAIN ANALYZE of the sweep's first claim and first mark, captured and replayed on fresh rows."""
    reset(table)
    with CaptureQueriesContext(connection) as captured:
        escalation.escalation_sweep(now=now)
    plans = []
    for kind in ("claim", "mark"):
        sql = next(q["sql"] for q in captured.captured_queries if STATEMENTS[kind](q["sql"]))
        reset(table)
        with transaction.atomic():
            plan = _execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            transaction.set_rollback(True)  # EXPLAIN ANALYZE locked or changed rows; keep nothing
        plans.append(f"{kind}: {sql[:2000]}\n" + "\n".join(row[0] for row in plan))
    return "\n".join(plans)


def bench_sweep(now: datetime, table: str) -> dict[str, Any]:
    progress(f"sweep: {OVERDUE:,} first-contact breaches among {CASES:,} cases, best of {ROUNDS} rounds")
    rounds = [sweep_round(number, now, table) for number in range(1, ROUNDS + 1)]
    sql_s = min(r["sql"] for r in rounds)
    bare_s = min(r["bare"] for r in rounds)
    best = min(rounds, key=lambda r: r["sweep"])
    sweep_s = best["sweep"]
    progress("plans of the sweep's claim and mark statements (first-contact breaches):")
    progress(sweep_plans(now, table))
    side_effects = ", ".join(f"{kind} {best[kind]:.2f} s" for kind in ("load", "render", "payload", "write", "commit"))
    met = "met" if bare_s / sql_s <= TARGET_RATIO else "MISSED"
    progress(
        f"sweep {sweep_s:.2f} s vs hand UPDATE {sql_s:.3f} s: ratio {sweep_s / sql_s:.1f}; with its side effects "
        f"off {bare_s:.3f} s: ratio {bare_s / sql_s:.1f} (target <= {TARGET_RATIO} plus the side effects: {met}); "
        f"the side effects of the best sweep: {side_effects}"
    )
    return {
        "sweep_s": round(sweep_s, 3),
        "sql_s": round(sql_s, 3),
        "sweep_ratio": round(sweep_s / sql_s, 2),
        "sweep_core_s": round(bare_s, 3),
        "sweep_core_ratio": round(bare_s / sql_s, 2),
    }


# -- the queue ----------------------------------------------------------------------------------


def api_page(client: APIClient) -> Any:
    """The response as the server sends it: reading its JSON is the client's work, not timed."""
    reply = client.get(URL)
    if reply.status_code != 200:
        raise RuntimeError(f"{URL} answered {reply.status_code}: {reply.content[:300]!r}")
    return reply


def hand_page(owner_id: int) -> list[tuple]:
    return _execute(HAND_QUEUE_SQL, [owner_id])


def check_same_page(api: dict[str, Any], sql: list[tuple], owner: str) -> None:
    """Both sides must read the same cases in the same order, or the timing compares nothing."""
    by_api = [
        (row["id"], row["owner"], row["response"]["customer"]["external_id"], row["root_causes"])
        for row in api["results"]
    ]
    by_sql = [(row[0], row[15], row[25], row[28]) for row in sql[:PAGE]]
    if by_api != by_sql or {row[1] for row in by_api} != {owner} or not api["next"]:
        raise RuntimeError(f"the API and the SQL disagree on the first page:\n{by_api[:3]}...\n{by_sql[:3]}...")


def queue_queries(client: APIClient) -> tuple[int, str]:
    """Queries of one request, and the plan of the one that reads the page of cases."""
    with CaptureQueriesContext(connection) as captured:
        api_page(client)
    for query in captured.captured_queries:
        progress(f"  query ({float(query['time']) * 1000:.1f} ms): {query['sql'][:160]}")
    page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "followups_case"."id"')]
    plan = _execute(f"EXPLAIN (ANALYZE, BUFFERS) {page_sql[0]}")
    return len(captured), f"{page_sql[0]}\n" + "\n".join(row[0] for row in plan)


def queue_stages(agent: Any) -> str:
    """Where a request's time goes, stage by stage outside the HTTP stack (medians, milliseconds)."""
    stages: dict[str, list[float]] = defaultdict(list)
    for _ in range(REQUESTS):
        seconds, cases = timed(case_values, filters={"owner": "me", "open": "true"}, user=agent)
        stages["filters"].append(seconds)
        stages["compile"].append(timed(cases[: PAGE + 1].query.sql_with_params)[0])
        with CaptureQueriesContext(connection) as captured:
            seconds, page = timed(list, cases[: PAGE + 1])
            stages["fetch"].append(seconds)
            seconds, page = timed(with_root_causes, page[:PAGE])
            stages["root causes"].append(seconds)
        stages["database"].append(sum(float(q["time"]) for q in captured.captured_queries))
        context = serializer_context()
        seconds, data = timed(serialized, page, context)
        stages["serialize"].append(seconds)
        stages["render"].append(timed(JSONRenderer().render, data)[0])
    ms = {stage: median(values) * 1000 for stage, values in stages.items()}
    return (
        f"filters {ms['filters']:.1f} ms, fetching the page {ms['fetch']:.1f} ms (of which compiling its SQL "
        f"{ms['compile']:.1f} ms) and its root causes {ms['root causes']:.1f} ms (both in the database "
        f"{ms['database']:.1f} ms), serializing {ms['serialize']:.1f} ms, rendering JSON {ms['render']:.1f} ms"
    )


def serialized(page: list[Any], context: dict[str, Any]) -> Any:
    return CaseOutputSerializer(page, many=True, context=context).data


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def bench_queue(agent: Any) -> dict[str, Any]:
    progress(f"queue: GET {URL} for an agent with {QUEUE:,} open cases, {REQUESTS} requests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    check_same_page(api_page(client).json(), hand_page(agent.pk), agent.username)
    queries, plan = queue_queries(client)
    progress("plan of the queue query:")
    progress(plan)
    for _ in range(3):  # warm the cache, the connection and the code paths
        api_page(client)
        hand_page(agent.pk)
    ours, sql = [], []
    for _ in range(REQUESTS):  # interleaved, so load on the machine hits both alike
        ours.append(timed(lambda: api_page(client))[0] * 1000)
        sql.append(timed(lambda: hand_page(agent.pk))[0] * 1000)
    p50, p95, sql_ms = median(ours), percentile(ours, 0.95), median(sql)
    progress(f"one request stage by stage: {queue_stages(agent)}; the rest is authentication, permission, dispatch")
    progress(
        f"API p50 {p50:.1f} ms, p95 {p95:.1f} ms ({queries} queries per request); SQL {sql_ms:.2f} ms; "
        f"ratio {p50 / sql_ms:.1f} (target <= {TARGET_RATIO}: {'met' if p50 / sql_ms <= TARGET_RATIO else 'MISSED'})"
    )
    return {
        "queue_p50_ms": round(p50, 2),
        "queue_p95_ms": round(p95, 2),
        "queue_sql_ms": round(sql_ms, 3),
        "queue_ratio": round(p50 / sql_ms, 2),
        "queue_queries": queries,
    }


# -- the run ------------------------------------------------------------------------------------


def clean(prefix: str, table: str, last_task: int, last_delivery: int) -> None:
    """Delete what a run created, found by name, so a run that failed half-way is cleaned too."""
    team = "SELECT id FROM followups_team WHERE slug = %(prefix)s"
    cases = f"SELECT id FROM followups_case WHERE team_id IN ({team})"
    for sql in (
        f"DELETE FROM followups_notification WHERE case_id IN ({cases})",
        f"DELETE FROM followups_caseevent WHERE case_id IN ({cases})",
        f"DELETE FROM followups_case WHERE team_id IN ({team})",
        "DELETE FROM followups_responserootcause WHERE root_cause_id IN "
        "(SELECT id FROM followups_rootcause WHERE slug LIKE %(pattern)s)",
        "DELETE FROM followups_rootcause WHERE slug LIKE %(pattern)s",
        "DELETE FROM surveys_response WHERE survey_id IN (SELECT id FROM surveys_survey WHERE slug = %(prefix)s)",
        "DELETE FROM surveys_customer WHERE external_id LIKE %(pattern)s",
        f"DROP TABLE IF EXISTS {table}",
    ):
        with transaction.atomic():
            _execute(sql, {"prefix": prefix, "pattern": f"{prefix}-%"})
    # The delivery tasks the sweeps enqueued on commit, and webhook deliveries if endpoints exist.
    tasks = [t.pk for t in OrmQ.objects.filter(pk__gt=last_task) if t.func() == "followups.tasks.notifications_deliver"]
    OrmQ.objects.filter(pk__in=tasks).delete()
    WebhookDelivery.objects.filter(pk__gt=last_delivery, event_type="case.breached").delete()
    delete_rows(Team.objects.filter(slug=prefix))
    delete_rows(Survey.objects.filter(slug=prefix))
    delete_rows(get_user_model().objects.filter(username__startswith=f"{prefix}-"))
    _execute("VACUUM ANALYZE surveys_customer, surveys_response, followups_case, followups_caseevent")


def main() -> None:
    migrate()
    token = run_token()
    prefix, table = f"bench-{token}", f"bench_escalation_{token}"
    last_task = OrmQ.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_delivery = WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if WebhookEndpoint.objects.filter(active=True).exists():
        progress("note: active webhook endpoints exist; the sweep's figures include queueing their deliveries")
    progress(f"{CASES:,} cases: {OVERDUE:,} overdue, {QUEUE:,} in the queue agent's queue, {OPEN:,} more open")
    try:
        now = timezone.now()
        survey = survey_create(slug=prefix, name=f"Benchmark {prefix}")
        agents, lead = make_agents(prefix)
        team = team_create(
            slug=prefix, name=f"Benchmark {prefix}", members=[a.username for a in agents], lead=lead.username
        )
        for slug, name in (("vpn", "VPN"), ("callback", "No call back")):
            root_cause_create(slug=f"{prefix}-{slug}", name=name)
        load(prefix, table, survey, team, agents, now)
        figures = bench_sweep(now, table)
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            figures |= bench_queue(agents[0])
    finally:
        progress("cleaning up")
        clean(prefix, table, last_task, last_delivery)
    report(
        {
            "bench": "escalation",
            "cases": CASES,
            "overdue": OVERDUE,
            "sweep_s": figures["sweep_s"],
            "sql_s": figures["sql_s"],
            "sweep_ratio": figures["sweep_ratio"],
            "queue_p50_ms": figures["queue_p50_ms"],
            "queue_p95_ms": figures["queue_p95_ms"],
            "queue_sql_ms": figures["queue_sql_ms"],
            "queue_ratio": figures["queue_ratio"],
            "sweep_core_s": figures["sweep_core_s"],
            "sweep_core_ratio": figures["sweep_core_ratio"],
            "queue_queries": figures["queue_queries"],
        }
    )


if __name__ == "__main__":
    main()
