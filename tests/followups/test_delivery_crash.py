"""A crash mid-delivery sends again at most the messages in flight, and the rest soon after.

Each email is marked sent, and each webhook outcome recorded, before the next message goes
out; a claim's lease follows the delivery timeout, and a run starts no message its lease has no
time left for. Then the whole story with a real cluster killed with SIGKILL mid-delivery.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_q.conf import Conf

from followups.models import Notification, WebhookDelivery
from followups.services import team_create
from followups.services.delivery import notification_message_id, notifications_deliver
from followups.services.outbox import LEASE_MARGIN_SECONDS, webhook_events_queue
from followups.services.webhooks import webhook_endpoint_create, webhooks_deliver
from surveys.services import responses_ingest
from tests.factories import make_survey, make_user, response_item
from tests.followups import crash
from tests.followups.smtp import smtp_server
from tests.servers import serving

WORKERS = 2
DETRACTORS = 200
# One schedule period: after its lease ends, a claim waits at most this long for the next run.
SCHEDULE_SECONDS = 60


def committed(model: type[Notification] | type[WebhookDelivery], status: str) -> int:
    """Rows in ``status`` as another connection sees them: what is committed, nothing else."""
    try:
        return model.objects.filter(status=status).count()
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_email_is_marked_sent_before_the_next_goes_out(desk):
    responses_ingest(items=[response_item(n % 4) for n in range(6)])  # sent at once, to the test outbox
    later = timezone.now() + timedelta(days=1)
    queued = Notification.objects.update(status="pending", next_attempt_at=later, sent_at=None)
    assert queued >= 6
    sent_before: list[int] = []
    mailbox = crash.SlowMailbox(0, on_arrival=lambda _: sent_before.append(committed(Notification, "sent")))

    with smtp_server(mailbox):
        assert notifications_deliver(now=later) == queued

    # The server saw every earlier message marked sent in the database: a crash now resends one.
    assert sent_before == list(range(queued))
    assert len(mailbox.received) == queued


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
def test_each_webhook_outcome_is_recorded_before_the_endpoints_next_post(maya):
    later = timezone.now() + timedelta(days=1)
    succeeded_before: list[int] = []
    receiver = crash.WebhookReceiver(
        0, on_arrival=lambda _: succeeded_before.append(committed(WebhookDelivery, "succeeded"))
    )
    with serving(receiver):
        webhook_endpoint_create(url=receiver.url, created_by=maya)
        webhook_events_queue([("case.created", {"id": n}) for n in range(30)], now=later)

        assert webhooks_deliver(now=later) == 30

    assert succeeded_before == list(range(30))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True, WEBHOOKS_TIMEOUT_SECONDS=3)
def test_a_run_posts_only_while_its_lease_has_time_and_claims_the_rest_again(maya, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # queued now, delivered below, in this process
    # Posts start while one attempt and the margin still fit: the first 3 s of a 16 s lease,
    # time for about six of the twelve; the run gives the rest back and claims them again.
    leases: list[tuple[str, datetime, float]] = []

    def note_lease(message_id: str) -> None:
        try:
            until = WebhookDelivery.objects.get(message_id=message_id).next_attempt_at
        finally:
            connection.close()
        leases.append((message_id, until, (until - timezone.now()).total_seconds()))

    with serving(crash.WebhookReceiver(0.5, on_arrival=note_lease)) as receiver:
        webhook_endpoint_create(url=receiver.url, created_by=maya)
        webhook_events_queue([("case.created", {"id": n}) for n in range(12)])

        assert webhooks_deliver() == 12

    in_order = list(WebhookDelivery.objects.order_by("pk").values_list("message_id", flat=True))
    assert [message_id for message_id, _, _ in leases] == in_order  # each once, in order
    assert len({until for _, until, _ in leases}) > 1  # more than one claim
    # Every post reached the receiver with more than the margin of its claim's lease left.
    assert min(left for _, _, left in leases) > LEASE_MARGIN_SECONDS


def _desk_of_four() -> None:
    make_survey()
    agents = [make_user(f"agent{n}", "agent", email=f"agent{n}@example.com") for n in range(4)]
    make_user("lena", "agent", email="lena@example.com")
    team_create(slug="desk", name="Service desk", members=[agent.username for agent in agents], lead="lena")


@pytest.mark.postgres
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
def test_a_cluster_killed_mid_delivery_resends_at_most_its_messages_in_flight(monkeypatch, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue on the ORM broker, as production does
    _desk_of_four()
    call_command("setup_schedules", stdout=io.StringIO())
    log = tmp_path / "qcluster.log"
    with crash.receivers(delay=0.01) as (mailbox, smtp_port, receiver):
        env = crash.cluster_env(crash.database_url(connection.settings_dict), smtp_port=smtp_port, workers=WORKERS)
        webhook_endpoint_create(url=receiver.url, created_by=None)
        responses_ingest(items=[response_item(n % 7, comment="Slow to answer") for n in range(DETRACTORS)])
        emails, webhooks = Notification.objects.count(), WebhookDelivery.objects.count()
        assert emails > DETRACTORS  # an assignment each, and the hot ones alert the lead
        assert webhooks == 3 * DETRACTORS  # received, created, assigned

        first = crash.start(env, log)
        try:
            # Killed while a webhook run holds a claim, whose lease the second cluster must wait out.
            midway = crash.wait_until(
                lambda: (
                    crash.under_way(len(mailbox.arrivals), emails, len(receiver.arrivals), webhooks)
                    and WebhookDelivery.objects.filter(status="pending", next_attempt_at__gt=timezone.now()).exists()
                ),
                timeout=90,
            )
        finally:
            crash.crash(first)
        killed_at, killed_now = time.monotonic(), timezone.now()
        assert midway, log.read_text(errors="replace")[-3000:]
        at_kill = (len(mailbox.arrivals), len(receiver.arrivals))
        assert at_kill[0] < emails and at_kill[1] < webhooks  # both were mid-delivery
        claimed = {
            model: list(model.objects.filter(status="pending", next_attempt_at__gt=killed_now))
            for model in (Notification, WebhookDelivery)
        }

        second = crash.start(env, log)
        try:
            delivered = crash.wait_until(
                lambda: (
                    not Notification.objects.exclude(status="sent").exists()
                    and not WebhookDelivery.objects.exclude(status="succeeded").exists()
                ),
                timeout=120,
                interval=0.5,
            )
        finally:
            crash.stop(second)
        assert delivered, log.read_text(errors="replace")[-3000:]

    emails_seen, webhooks_seen = mailbox.arrivals.counts(), receiver.arrivals.counts()
    # Every message arrived, and only the ones in flight at the kill arrived twice: one per
    # worker at most (one email, or one post per endpoint, and here there is one endpoint).
    assert set(emails_seen) == {notification_message_id(row) for row in Notification.objects.all()}
    assert set(webhooks_seen) == set(WebhookDelivery.objects.values_list("message_id", flat=True))
    assert crash.twice(emails_seen) + crash.twice(webhooks_seen) <= WORKERS
    # The dead cluster's claims ended with their leases, which follow the delivery timeouts...
    email_lease = crash.lease_seconds(2 * crash.EMAIL_TIMEOUT)
    webhook_lease = crash.lease_seconds(crash.WEBHOOKS_TIMEOUT)
    for model, lease in ((Notification, email_lease), (WebhookDelivery, webhook_lease)):
        assert all(row.next_attempt_at <= killed_now + timedelta(seconds=lease) for row in claimed[model])
    # ...and the next cluster's schedule delivered them within one period after.
    assert claimed[WebhookDelivery], "the kill found no claimed webhook delivery"
    redelivered = [receiver.arrivals.first_after(row.message_id, killed_at) for row in claimed[WebhookDelivery]]
    assert None not in redelivered
    assert max(redelivered) - killed_at <= webhook_lease + SCHEDULE_SECONDS
