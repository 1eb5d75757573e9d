"""Scheduling and sending 20,000 survey invitations by email, against raw smtplib.

The customers are written set-based; a relationship wave (``relationship_wave_send``, fatigue
rules applied) schedules one invitation each over a one-hour window, and ``invitations_deliver``
sends them (the generic outbox loop: claim, render, send, mark) to a local aiosmtpd sink, which
keeps the bytes it received. The figures:

- ``ours_per_s``: invitations delivered per second; ``smtplib_per_s``: raw ``smtplib`` sending the
  very same messages over one connection in the same run; ``ratio`` = ours / smtplib (target >= 0.5).
- ``peak_rss_mb``: the peak resident memory of the process that scheduled and sent ``count``
  invitations; the progress lines give the figure for SMALL too: equal when memory does not grow
  with the count.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/invitations.py [count]
(``--profile`` after the count writes a cProfile of the delivery to invitations.prof.)
"""

from __future__ import annotations

import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file
os.environ.pop("Q_SYNC", None)

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import migrate, progress, report, run_token, timed

# isort: split
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from followups.services.delivery import invitations_deliver
from surveys.models import Customer, Invitation, Survey, SurveyWave
from surveys.services.waves import relationship_wave_send
from tests.bench.fanout import Sink, _smtplib_send, sink

COUNT = 20_000
SMALL = 2_000
HERE = Path(__file__).resolve()


def _world(token: str, count: int) -> Survey:
    """A survey and ``count`` customers who may be asked, tagged with the run so the wave takes only them."""
    survey = Survey.objects.create(
        slug=f"invitations-{token}", name=f"Invitations {token}", sender_name="Service desk", quarantine_days=0
    )
    now = timezone.now()
    Customer.objects.bulk_create(
        (
            Customer(
                external_id=f"invitations-{token}-{number}",
                email=f"customer{number}@example.com",
                name=f"Customer {number}",
                attributes={"bench": token},
                created_at=now,
                updated_at=now,
            )
            for number in range(count)
        ),
        batch_size=2_000,
    )
    return survey


def _deliver(later: Any) -> int:
    sent = 0
    while delivered := invitations_deliver(now=later):
        sent += delivered
    return sent


def child(count: int, port: int, recording: Path, token: str, profile: bool) -> None:
    """One process: schedule ``count`` invitations, deliver them, then send their bytes with smtplib."""
    survey = _world(token, count)
    schedule_s, plan = timed(relationship_wave_send, survey=survey, segments={"bench": token}, window_hours=1)
    later = timezone.now() + timedelta(hours=2)
    with override_settings(EMAIL_BACKEND=settings.SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        sent = _deliver(later)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats("invitations.prof")
        deliver_s = time.perf_counter() - started
    smtplib_s, baseline_sent = timed(_smtplib_send, recording, port)
    figures = {
        "count": count,
        "scheduled": plan.scheduled,
        "schedule_s": schedule_s,
        "sent": sent,
        "deliver_s": deliver_s,
        "baseline_sent": baseline_sent,
        "smtplib_s": smtplib_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(figures), flush=True)


def _run_child(count: int, port: int, box: Sink, token: str, profile: bool) -> dict[str, Any]:
    progress(f"{count:,} invitations: scheduling and sending in a process of its own")
    # Unbuffered: each message is in the file before the sink accepts it.
    with (
        tempfile.NamedTemporaryFile(prefix="invitations-", suffix=".mail") as recording,
        open(recording.name, "wb", buffering=0) as box.record,
    ):
        try:
            command = [sys.executable, str(HERE), "--child", str(count), str(port), recording.name, token]
            output = subprocess.run(
                [*command, *(["--profile"] if profile else [])], stdout=subprocess.PIPE, text=True, check=True
            ).stdout
        finally:
            box.record = None
    return json.loads(output.strip().splitlines()[-1])


def _clean_up(token: str) -> None:
    surveys = Survey.objects.filter(slug=f"invitations-{token}")
    Invitation.objects.filter(survey__in=surveys).delete()
    SurveyWave.objects.filter(survey__in=surveys).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM surveys_customer WHERE external_id LIKE %s", [f"invitations-{token}-%"])
    surveys.delete()


def main(count: int, profile: bool) -> None:
    migrate()
    token = run_token()
    tokens = [f"{token}a", f"{token}b"]
    try:
        with sink() as (box, port):
            large = _run_child(count, port, box, tokens[0], profile)
            small = _run_child(SMALL, port, box, tokens[1], False)
    finally:
        for each in tokens:
            _clean_up(each)
    for run in (large, small):
        if not run["scheduled"] == run["sent"] == run["baseline_sent"] == run["count"]:
            sys.exit(f"the runs did not do the same work: {run}")
    ours_per_s = large["sent"] / large["deliver_s"]
    smtplib_per_s = large["baseline_sent"] / large["smtplib_s"]
    progress(
        f"scheduled {count:,} in {large['schedule_s']:.1f} s; sent {ours_per_s:.0f}/s against smtplib"
        f" {smtplib_per_s:.0f}/s; peak memory {large['peak_rss_mb']:.0f} MB"
        f" ({small['peak_rss_mb']:.0f} MB for {SMALL:,})"
    )
    report(
        {
            "bench": "invitations",
            "count": count,
            "ours_per_s": round(ours_per_s, 1),
            "smtplib_per_s": round(smtplib_per_s, 1),
            "ratio": round(ours_per_s / smtplib_per_s, 2),
            "peak_rss_mb": round(large["peak_rss_mb"], 1),
        }
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5], sys.argv[6:7] == ["--profile"])
    else:
        arguments = [argument for argument in sys.argv[1:] if argument != "--profile"]
        main(int(arguments[0]) if arguments else COUNT, "--profile" in sys.argv)
