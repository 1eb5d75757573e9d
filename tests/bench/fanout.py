"""Shipping an improvement to 100,000 customers: recording its updates, then delivering them.

Each customer gave one detractor response coded to the improvement's root cause, as if a year
of coded feedback had named it. The figures:

- ``record_s``: ``customer_updates_record`` writing one update per customer; ``sql_s``: a
  hand-written ``INSERT ... SELECT`` of the same rows (same columns, same latest response, same
  suppression rule) for a twin improvement; ``record_ratio`` = record_s / sql_s (target <= 2).
- ``deliver_per_s``: ``customer_updates_deliver`` rendering and sending them to a local aiosmtpd
  sink and marking each row; ``smtplib_per_s``: raw ``smtplib`` sending the very same messages
  (the bytes the sink received) over one connection; ``deliver_ratio`` (target >= 0.5).
- ``peak_rss_mb`` / ``peak_rss_mb_10k``: the peak resident memory of a process doing all of the
  above for 100,000 customers, and for 10,000: equal when memory does not grow with the count.
- ``two_cluster_speedup``: the time one cluster (``manage.py qcluster``, WORKERS workers, the ORM
  broker) takes to deliver a shipment of CLUSTER_CUSTOMERS updates, over the time two clusters on
  the same database take for the next one, the sink taking SINK_DELAY seconds per message as a
  remote server would; ``duplicates``: messages that arrived more than once in all the runs.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/fanout.py [customers]
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import smtplib
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file
os.environ.pop("Q_SYNC", None)

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import migrate, progress, report, run_token, timed

# isort: split
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from followups.models import CustomerUpdate, Improvement, RootCause
from followups.services.delivery import customer_updates_deliver
from followups.services.updates import customer_updates_record, improvement_ship
from surveys.models import Survey
from tests.followups import crash
from tests.followups.smtp import free_port

CUSTOMERS = 100_000
SMALL = 10_000
CLUSTER_CUSTOMERS = 4_000
WORKERS = 2
# A remote server answers a message in tens of milliseconds (four round trips, TLS): delivery waits
# more than it works, which is what a second cluster helps with.
SINK_DELAY = 0.02
# The baseline sends to these envelope addresses, so the sink can tell its copies from the product's.
BASELINE = "baseline+"
HERE = Path(__file__).resolve()


class Sink:
    """An SMTP server that accepts everything, counts each product message by its Message-ID, and
    can keep the bytes of what it receives in a file (length-prefixed) for the smtplib baseline."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.seen: Counter[str] = Counter()
        self.record: IO[bytes] | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        # The baseline's copies are parsed too, so that the sink answers both senders equally fast.
        message_id = message_from_bytes(envelope.content, policy=policy.compat32)["Message-ID"]
        if not envelope.rcpt_tos[0].startswith(BASELINE):
            with self.lock:
                self.seen[message_id] += 1
                if self.record is not None:
                    self.record.write(struct.pack(">I", len(envelope.content)) + envelope.content)
                    self.record.write(envelope.mail_from.encode() + b"\n" + envelope.rcpt_tos[0].encode() + b"\n")
        return "250 OK"

    def received(self) -> int:
        with self.lock:
            return sum(self.seen.values())

    def duplicates(self) -> int:
        with self.lock:
            return crash.twice(self.seen)


@contextmanager
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def _world(token: str, count: int) -> RootCause:
    """``count`` customers with one coded detractor response each, written set-based."""
    category = RootCause.objects.create(slug=f"fanout-{token}", name=f"Fan-out {token}")
    cause = RootCause.objects.create(slug=f"fanout-{token}-vpn", name="VPN drops", parent=category)
    survey_id = Survey.objects.create(slug=f"fanout-{token}", name=f"Fan-out {token}").pk
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO surveys_customer (external_id, email, name, phone, attributes, created_at, updated_at)"
            " SELECT 'fanout-' || %s || '-' || n, 'c' || n || '@' || %s || '.example.test', 'Customer ' || n,"
            " '', '{}', now(), now() FROM generate_series(1, %s) n",
            [token, token, count],
        )
        cursor.execute(
            "INSERT INTO surveys_response (survey_id, customer_id, score, category, comment, channel,"
            " submitted_at, received_at, ticket_ref, contact_preference)"
            " SELECT %s, c.id, c.id %% 7, 'detractor',"
            " 'The VPN keeps dropping whenever I work from home, ' || c.id || ' times this month.',"
            " 'email', now() - interval '30 days', now(), '', ''"
            " FROM surveys_customer c WHERE c.external_id LIKE %s",
            [survey_id, f"fanout-{token}-%"],
        )
        cursor.execute(
            "INSERT INTO followups_responserootcause (response_id, root_cause_id, source, coded_at)"
            " SELECT r.id, %s, 'agent', now() FROM surveys_response r WHERE r.survey_id = %s",
            [cause.pk, survey_id],
        )
    return cause


def _improvement(cause: RootCause, title: str) -> Improvement:
    now = timezone.now()
    improvement = Improvement.objects.create(
        title=title,
        customer_message="We replaced the VPN gateway; connections now hold when you work from home.",
        status=Improvement.Status.IN_PROGRESS,
        created_at=now,
        updated_at=now,
    )
    improvement.root_causes.add(cause)
    return improvement


# The same rows customer_updates_record writes: each customer's latest response coded to the
# improvement's causes (or a category's causes) within the lookback, suppressed when the customer
# cannot or must not be written to.
RECORD_SQL = """
INSERT INTO followups_customerupdate
    (improvement_id, customer_id, response_id, status, suppressed_reason, attempts, last_error,
     next_attempt_at, created_at, subject, body)
SELECT DISTINCT ON (r.customer_id)
    %(improvement)s, r.customer_id, r.id,
    CASE WHEN c.erased_at IS NOT NULL OR c.email = '' OR c.updates_unsubscribed_at IS NOT NULL
         THEN 'suppressed' ELSE 'pending' END,
    CASE WHEN c.erased_at IS NOT NULL THEN 'erased'
         WHEN c.email = '' THEN 'no_address'
         WHEN c.updates_unsubscribed_at IS NOT NULL THEN 'unsubscribed'
         ELSE '' END,
    0, '', %(now)s, %(now)s, '', ''
FROM followups_responserootcause rc
JOIN surveys_response r ON r.id = rc.response_id
JOIN surveys_customer c ON c.id = r.customer_id
WHERE rc.root_cause_id IN (
        SELECT rc2.id FROM followups_rootcause rc2
        JOIN followups_improvementrootcause link ON link.root_cause_id IN (rc2.id, rc2.parent_id)
        WHERE link.improvement_id = %(improvement)s)
  AND r.submitted_at >= %(since)s
ORDER BY r.customer_id, r.submitted_at DESC, r.id DESC
ON CONFLICT (improvement_id, customer_id) DO NOTHING
"""


def _record_by_hand(improvement: Improvement) -> int:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        params: dict[str, Any] = {
            "improvement": improvement.pk,
            "now": now,
            "since": now - timedelta(days=improvement.lookback_days),
        }
        cursor.execute(RECORD_SQL, params)
        return cursor.rowcount


# Rows one improvement has and the other lacks, by what an update row says (the improvement aside):
# compared in the database, so that the check adds nothing to the process's peak memory. With the
# counts equal (one row per customer each), none missing means the same rows.
MISSING_ROWS_SQL = """
SELECT count(*) FROM (
    SELECT customer_id, response_id, status, suppressed_reason FROM followups_customerupdate WHERE improvement_id = %s
    EXCEPT
    SELECT customer_id, response_id, status, suppressed_reason FROM followups_customerupdate WHERE improvement_id = %s
) missing
"""


def _same_rows(one: Improvement, other: Improvement) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(MISSING_ROWS_SQL, [one.pk, other.pk])
        return cursor.fetchone()[0] == 0 and one.updates.count() == other.updates.count()


def _smtplib_send(path: Path, port: int) -> int:
    """Send the recorded messages as they were, over one connection; return how many."""
    sent = 0
    with path.open("rb") as recorded, smtplib.SMTP("127.0.0.1", port) as smtp:
        while header := recorded.read(4):
            content = recorded.read(struct.unpack(">I", header)[0])
            sender = recorded.readline().rstrip(b"\n").decode()
            recipient = recorded.readline().rstrip(b"\n").decode()
            smtp.sendmail(sender, [BASELINE + recipient], content)
            sent += 1
    return sent


def child(count: int, port: int, recording: Path, token: str) -> None:
    """One process's share: record (both ways) and deliver (both ways) ``count`` updates."""
    cause = _world(token, count)
    product, twin = _improvement(cause, "Product"), _improvement(cause, "Hand-written")
    # Two rounds, the figures from the second: both ways then read warm pages, not the first
    # one to run. The product's rows of the second round stay to be delivered.
    for _ in range(2):
        CustomerUpdate.objects.filter(improvement__in=[product, twin]).delete()
        sql_s, rows = timed(_record_by_hand, twin)
        record_s, recorded = timed(customer_updates_record, improvement=product, now=timezone.now())
    same = _same_rows(product, twin) and product.updates.count() == rows == recorded.queued + recorded.suppressed
    # The twin's rows were the baseline's work only: the product delivers its own.
    CustomerUpdate.objects.filter(improvement=twin).delete()
    with override_settings(EMAIL_BACKEND=settings.SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
        started = time.perf_counter()
        sent = 0
        while delivered := customer_updates_deliver():
            sent += delivered
        deliver_s = time.perf_counter() - started
    smtplib_s, baseline_sent = timed(_smtplib_send, recording, port)
    print(
        json.dumps(
            {
                "count": count,
                "same_rows": same,
                "record_s": record_s,
                "sql_s": sql_s,
                "sent": sent,
                "deliver_s": deliver_s,
                "baseline_sent": baseline_sent,
                "smtplib_s": smtplib_s,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ),
        flush=True,
    )


def _run_child(count: int, port: int, box: Sink, token: str) -> dict[str, Any]:
    progress(f"{count:,} customers: recording and delivering in a process of its own")
    # Unbuffered: each message is in the file before the sink accepts it, so the file is
    # complete once the product's delivery returns, when the baseline starts reading it.
    with (
        tempfile.NamedTemporaryFile(prefix="fanout-", suffix=".mail") as recording,
        open(recording.name, "wb", buffering=0) as box.record,
    ):
        try:
            output = subprocess.run(
                [sys.executable, str(HERE), "--child", str(count), str(port), recording.name, token],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            ).stdout
        finally:
            box.record = None
    return json.loads(output.strip().splitlines()[-1])


def _arrived(box: Sink, total: int) -> bool:
    return box.received() >= total


def _clusters(count: int, box: Sink, port: int, token: str) -> tuple[float, float]:
    """Seconds one cluster, then two, take to deliver a shipment of ``count`` updates."""
    cause = _world(token, count)
    env = crash.cluster_env(crash.database_url(connection.settings_dict), smtp_port=port, workers=WORKERS)
    log = Path(tempfile.gettempdir()) / f"fanout-{token}-qcluster.log"
    box.delay = SINK_DELAY
    times = []
    try:
        for clusters in (1, 2):
            running = [crash.start(env, log) for _ in range(clusters)]
            try:
                time.sleep(3)  # started and polling the broker before the clock starts
                before = box.received()
                improvement = _improvement(cause, f"Delivered by {clusters}")
                started = time.perf_counter()
                improvement_ship(improvement=improvement, actor=None)
                done = crash.wait_until(partial(_arrived, box, before + count), timeout=600, interval=0.05)
                times.append(time.perf_counter() - started)
                if not done:
                    sys.exit(f"{clusters} cluster(s) did not deliver the shipment; see {log}")
            finally:
                for cluster in running:
                    crash.stop(cluster)
            progress(f"{clusters} cluster(s) of {WORKERS} workers: {count:,} updates in {times[-1]:.1f} s")
    finally:
        box.delay = 0.0
    return times[0], times[1]


def _clean_up(token: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM followups_customerupdate u USING surveys_customer c"
            " WHERE u.customer_id = c.id AND c.external_id LIKE %s",
            [f"fanout-{token}-%"],
        )
        cursor.execute(
            "DELETE FROM followups_responserootcause rc USING surveys_response r, surveys_survey s"
            " WHERE rc.response_id = r.id AND r.survey_id = s.id AND s.slug LIKE %s",
            [f"fanout-{token}%"],
        )
        cursor.execute(
            "DELETE FROM surveys_response r USING surveys_survey s WHERE r.survey_id = s.id AND s.slug LIKE %s",
            [f"fanout-{token}%"],
        )
        cursor.execute("DELETE FROM surveys_customer WHERE external_id LIKE %s", [f"fanout-{token}-%"])
        cursor.execute("DELETE FROM surveys_survey WHERE slug LIKE %s", [f"fanout-{token}%"])
    causes = RootCause.objects.filter(slug__startswith=f"fanout-{token}")
    Improvement.objects.filter(root_causes__in=causes).delete()
    causes.exclude(parent=None).delete()
    causes.delete()


def main(customers: int) -> None:
    migrate()
    token = run_token()
    tokens = [f"{token}a", f"{token}b", f"{token}c"]
    try:
        with sink() as (box, port):
            large = _run_child(customers, port, box, tokens[0])
            small = _run_child(SMALL, port, box, tokens[1])
            one, two = _clusters(CLUSTER_CUSTOMERS, box, port, tokens[2])
            duplicates = box.duplicates()
    finally:
        for each in tokens:
            _clean_up(each)
    for run in (large, small):
        if not run["same_rows"] or run["sent"] != run["count"] or run["baseline_sent"] != run["count"]:
            sys.exit(f"the runs did not do the same work: {run}")
    deliver_per_s = large["sent"] / large["deliver_s"]
    smtplib_per_s = large["baseline_sent"] / large["smtplib_s"]
    progress(
        f"record {large['record_s']:.2f} s against {large['sql_s']:.2f} s by hand; deliver {deliver_per_s:.0f}/s"
        f" against smtplib {smtplib_per_s:.0f}/s; peak memory {large['peak_rss_mb']:.0f} MB"
        f" ({small['peak_rss_mb']:.0f} MB for {SMALL:,})"
    )
    report(
        {
            "bench": "fanout",
            "customers": customers,
            "record_s": round(large["record_s"], 3),
            "sql_s": round(large["sql_s"], 3),
            "record_ratio": round(large["record_s"] / large["sql_s"], 2),
            "deliver_per_s": round(deliver_per_s, 1),
            "smtplib_per_s": round(smtplib_per_s, 1),
            "deliver_ratio": round(deliver_per_s / smtplib_per_s, 2),
            "peak_rss_mb": round(large["peak_rss_mb"], 1),
            "peak_rss_mb_10k": round(small["peak_rss_mb"], 1),
            "two_cluster_speedup": round(one / two, 2),
            "duplicates": duplicates,
        }
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else CUSTOMERS)
