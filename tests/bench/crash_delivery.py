"""Ten crashes mid-delivery: how many messages went twice, and how long a dead cluster's claims waited.

Each round ingests DETRACTORS detractors (their cases open, and their staff emails and webhook
events are queued, as an API client's batch does), starts a real cluster (``manage.py
qcluster``, WORKERS workers, the ORM broker) sending to a local SMTP server and webhook receiver
that answer each webhook after DELAY seconds (and each email after three times that), and kills
the whole cluster with SIGKILL once it has delivered a random share of what is left to send.
After KILLS rounds a last cluster delivers what is left. Every message must arrive at least
once; the ones that arrive twice are those a worker had in flight at a kill, at most one per
worker and kill. The clusters run with the
production timeouts, so a dead cluster's claims wait out the production leases (50 s for
email, 30 s for webhooks) before a later run takes them. "max_lease_s" is the longest a claim
of a killed cluster had left to run at the kill (when its rows were due again);
"max_redelivery_s" the longest wait from a kill to the arrival of a webhook the dead cluster
had claimed, which includes waiting behind the backlog due before it, while later rounds'
clusters are killed in turn.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/crash_delivery.py
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file
# The receiver is on the loopback interface; read by the settings when Django is set up.
os.environ["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "true"
os.environ.pop("Q_SYNC", None)

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, migrate, progress, report, run_token

# isort: split
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from followups.models import Notification, Team, WebhookDelivery, WebhookEndpoint
from followups.services import team_create
from followups.services.delivery import notification_message_id
from followups.services.webhooks import webhook_endpoint_create
from surveys.models import Customer, Response, Survey
from surveys.services import responses_ingest
from tests.factories import make_survey, make_user, response_item
from tests.followups import crash

KILLS = 10
DETRACTORS = 200
WORKERS = 2
DELAY = 0.01
# The product's defaults, so the leases are the production ones.
EMAIL_TIMEOUT = 10
WEBHOOKS_TIMEOUT = 10


def _world(token: str, receiver_url: str) -> tuple[Survey, WebhookEndpoint]:
    """A survey, a desk of four agents led by a fifth, and an endpoint for every event."""
    survey = make_survey(f"crash-{token}")
    agents = [make_user(f"crash-{token}-{n}", "agent", email=f"agent{n}@{token}.example.com") for n in range(4)]
    make_user(f"crash-{token}-lead", "agent", email=f"lead@{token}.example.com")
    team_create(
        slug=f"crash-{token}",
        name=f"Crash desk {token}",
        members=[agent.username for agent in agents],
        lead=f"crash-{token}-lead",
    )
    return survey, webhook_endpoint_create(url=receiver_url, created_by=None)


def _emails(survey: Survey) -> QuerySet[Notification]:
    return Notification.objects.filter(case__response__survey=survey)


def _delivered(mailbox: crash.SlowMailbox, receiver: crash.WebhookReceiver, keys: tuple[set[str], set[str]]) -> int:
    """How many of the run's emails and webhooks arrived (the copies too)."""
    emails, webhooks = mailbox.arrivals.counts(), receiver.arrivals.counts()
    return sum(emails[key] for key in keys[0]) + sum(webhooks[key] for key in keys[1])


def _reached(target: float, *args: Any) -> bool:
    return _delivered(*args) >= target


def _clean_up(survey: Survey, endpoint: WebhookEndpoint, token: str) -> None:
    endpoint.delete()
    delete_rows(Response.objects.filter(survey=survey))
    survey.delete()
    Customer.objects.filter(external_id__startswith=f"C-{token}-").delete()
    Team.objects.filter(slug=f"crash-{token}").delete()
    get_user_model().objects.filter(username__startswith=f"crash-{token}-").delete()


def main() -> None:
    migrate()
    call_command("setup_schedules", stdout=io.StringIO())
    token = run_token()
    log = Path(tempfile.gettempdir()) / f"crash-delivery-{token}.log"
    progress(f"{KILLS} kills of a {WORKERS}-worker cluster, {DETRACTORS} detractors a round; cluster log {log}")
    redelivery: list[float] = []
    lease_wait: list[float] = []
    with crash.receivers(DELAY) as (mailbox, smtp_port, receiver):
        survey, endpoint = _world(token, receiver.url)
        env = crash.cluster_env(
            crash.database_url(connection.settings_dict),
            smtp_port=smtp_port,
            workers=WORKERS,
            email_timeout=EMAIL_TIMEOUT,
            webhooks_timeout=WEBHOOKS_TIMEOUT,
        )
        claimed: list[tuple[float, list[str]]] = []
        try:
            for kill in range(1, KILLS + 1):
                items = [
                    response_item(n % 7, survey=survey.slug, customer=f"C-{token}-{kill}-{n}", comment="Slow")
                    for n in range(DETRACTORS)
                ]
                responses_ingest(items=items)
                keys = (
                    {notification_message_id(row) for row in _emails(survey)},
                    set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("message_id", flat=True)),
                )
                # Killed once it has delivered part of what is still to go, never before it starts.
                before = _delivered(mailbox, receiver, keys)
                target = before + random.uniform(0.2, 0.8) * (len(keys[0]) + len(keys[1]) - before)
                cluster = crash.start(env, log)
                try:
                    crash.wait_until(partial(_reached, target, mailbox, receiver, keys), timeout=300, interval=0.02)
                finally:
                    crash.crash(cluster)
                killed_at, killed_now = time.monotonic(), timezone.now()
                leased = WebhookDelivery.objects.filter(
                    endpoint=endpoint, status="pending", next_attempt_at__gt=killed_now
                )
                claimed.append((killed_at, list(leased.values_list("message_id", flat=True))))
                lease_ends = [
                    *leased.values_list("next_attempt_at", flat=True),
                    *_emails(survey)
                    .filter(status="pending", next_attempt_at__gt=killed_now)
                    .values_list("next_attempt_at", flat=True),
                ]
                lease_wait.extend((end - killed_now).total_seconds() for end in lease_ends)
                progress(
                    f"kill {kill}: {_delivered(mailbox, receiver, keys)} of {len(keys[0]) + len(keys[1])} "
                    f"queued messages had arrived; {len(claimed[-1][1])} webhook deliveries were claimed"
                )
            final = crash.start(env, log)
            try:
                crash.wait_until(
                    lambda: (
                        not _emails(survey).exclude(status="sent").exists()
                        and not WebhookDelivery.objects.filter(endpoint=endpoint).exclude(status="succeeded").exists()
                    ),
                    timeout=600,
                    interval=0.5,
                )
            finally:
                crash.stop(final)
            emails = Counter({key: mailbox.arrivals.counts()[key] for key in keys[0]})
            webhooks = Counter({key: receiver.arrivals.counts()[key] for key in keys[1]})
            for killed_at, message_ids in claimed:
                for message_id in message_ids:
                    arrived = receiver.arrivals.first_after(message_id, killed_at)
                    if arrived is not None:
                        redelivery.append(arrived - killed_at)
        finally:
            _clean_up(survey, endpoint, token)
    missing = sum(1 for counts in (emails, webhooks) for count in counts.values() if count == 0)
    progress(f"missing: {missing}; bound on copies: {KILLS * WORKERS} (one per worker and kill)")
    report(
        {
            "kills": KILLS,
            "workers": WORKERS,
            "emails": len(keys[0]),
            "emails_twice": crash.twice(+emails),
            "webhooks": len(keys[1]),
            "webhooks_twice": crash.twice(+webhooks),
            "missing": missing,
            "max_lease_s": round(max(lease_wait, default=0.0), 1),
            "max_redelivery_s": round(max(redelivery, default=0.0), 1),
        }
    )


if __name__ == "__main__":
    main()
