"""/healthz (database and task cluster), /metrics (Prometheus) and JSON log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.tasks import async_task
from prometheus_client.parser import text_string_to_metric_families

from closedloop.lib.health import HEARTBEAT_TASK
from closedloop.metrics import BacklogCollector
from followups.models import Notification, WebhookDelivery, WebhookEndpoint
from tests.no_database import ROOT, get_without_database

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-the-tests"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = client.get(reverse("metrics"), headers={"authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/plain")
    return _samples(reply.content.decode())


# /healthz


def test_health_is_degraded_but_200_while_no_cluster_ever_beat(client):
    reply = client.get(reverse("healthz"))

    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["cluster"] == {"last_heartbeat": None, "age_s": None}
    assert "no-cache" in reply["Cache-Control"]


def test_the_heartbeat_task_run_by_django_q_makes_health_ok(client):
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    heartbeat = Schedule.objects.get(name="cluster heartbeat")
    assert heartbeat.func == HEARTBEAT_TASK
    assert heartbeat.minutes == 1

    async_task(heartbeat.func)  # the tests' cluster runs tasks inline and stores their results
    body = client.get(reverse("healthz")).json()

    assert body["status"] == "ok"
    assert body["cluster"]["age_s"] <= 5
    beat = timezone.datetime.fromisoformat(body["cluster"]["last_heartbeat"])
    assert abs((timezone.now() - beat).total_seconds()) <= 5


def test_a_heartbeat_older_than_three_minutes_is_degraded(client):
    async_task(HEARTBEAT_TASK)

    with time_machine.travel(timezone.now() + timedelta(minutes=3, seconds=30)):
        reply = client.get(reverse("healthz"))

    assert reply.status_code == 200
    assert reply.json()["status"] == "degraded"
    assert 205 <= reply.json()["cluster"]["age_s"] <= 215


def test_health_is_down_with_503_when_the_database_does_not_answer():
    reply = get_without_database("/healthz")

    assert reply.status == 503
    body = json.loads(reply.body)
    assert body["status"] == "down"
    # Only the error's class: the driver's message names the host and the user.
    assert body["database"] == {"ok": False, "error": "OperationalError"}


# /metrics: who may read it


def test_metrics_refuse_anonymous_visitors_agents_and_a_wrong_token(settings, client, alice):
    settings.METRICS_TOKEN = TOKEN

    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("metrics"), headers={"authorization": "Bearer wrong"}).status_code == 403
    assert client.get(reverse("metrics"), headers={"authorization": f"Token {TOKEN}"}).status_code == 403
    assert _signed_in(alice).get(reverse("metrics")).status_code == 403


def test_without_a_token_configured_no_bearer_header_opens_metrics(settings, client):
    settings.METRICS_TOKEN = ""

    assert client.get(reverse("metrics"), headers={"authorization": "Bearer "}).status_code == 403


def test_metrics_answer_a_manager_and_the_configured_token(settings, client, maya):
    settings.METRICS_TOKEN = TOKEN

    assert _signed_in(maya).get(reverse("metrics")).status_code == 200
    assert client.get(reverse("metrics"), headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


# /metrics: what it says


def test_request_latency_is_labelled_by_route_name_not_by_raw_path(settings, client, maya):
    settings.METRICS_TOKEN = TOKEN
    manager = _signed_in(maya)
    key = (
        "closedloop_http_request_duration_seconds_count",
        frozenset({("view", "api-case"), ("method", "GET"), ("status", "404")}),
    )
    before = _scrape(client).get(key, 0.0)

    for case_id in (987654, 987655):
        assert manager.get(reverse("api-case", args=[case_id])).status_code == 404
    text = client.get(reverse("metrics"), headers={"authorization": f"Bearer {TOKEN}"}).content.decode()

    samples = _samples(text)
    assert samples[key] == before + 2
    # Label values only: a sample's value (a timestamp, a sum) may hold those digits by chance.
    assert not [labels for _, labels in samples if any("987654" in value for _, value in labels)]


def test_queue_depth_counts_the_tasks_waiting_in_the_orm_broker(settings, client):
    settings.METRICS_TOKEN = TOKEN
    broker = get_broker()
    for _ in range(3):
        broker.enqueue("a signed task package")

    assert _scrape(client)[("closedloop_task_queue_depth", frozenset())] == 3


def _notification(status: str, age: timedelta, key: str) -> Notification:
    created = timezone.now() - age
    return Notification.objects.create(
        kind=Notification.Kind.DIGEST,
        email="lead@example.com",
        dedupe_key=key,
        status=status,
        next_attempt_at=created,
        created_at=created,
    )


def _delivery(endpoint: WebhookEndpoint, status: str, age: timedelta, message_id: str) -> WebhookDelivery:
    created = timezone.now() - age
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=message_id,
        event_type="case.created",
        payload={},
        status=status,
        next_attempt_at=created,
        created_at=created,
    )


def test_outbox_backlog_and_the_age_of_the_oldest_undelivered_row(settings, client, maya):
    settings.METRICS_TOKEN = TOKEN
    _notification(Notification.Status.PENDING, timedelta(hours=2), "a")
    _notification(Notification.Status.PENDING, timedelta(minutes=5), "b")
    _notification(Notification.Status.SENT, timedelta(days=3), "c")  # delivered: neither counted nor oldest
    _notification(Notification.Status.FAILED, timedelta(days=4), "d")  # given up: not a backlog
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/nps", created_by=maya)
    _delivery(endpoint, WebhookDelivery.Status.PENDING, timedelta(minutes=30), "m1")
    _delivery(endpoint, WebhookDelivery.Status.SUCCEEDED, timedelta(days=1), "m2")

    samples = _scrape(client)

    email = frozenset({("outbox", "staff_email")})
    webhook = frozenset({("outbox", "webhook")})
    assert samples[("closedloop_outbox_backlog", email)] == 2
    assert samples[("closedloop_outbox_backlog", webhook)] == 1
    assert samples[("closedloop_outbox_oldest_undelivered_age_seconds", email)] == pytest.approx(7200, abs=30)
    assert samples[("closedloop_outbox_oldest_undelivered_age_seconds", webhook)] == pytest.approx(1800, abs=30)


def test_empty_outboxes_report_no_backlog_and_age_zero(settings, client):
    settings.METRICS_TOKEN = TOKEN

    samples = _scrape(client)

    for outbox in ("staff_email", "webhook"):
        assert samples[("closedloop_outbox_backlog", frozenset({("outbox", outbox)}))] == 0
        assert samples[("closedloop_outbox_oldest_undelivered_age_seconds", frozenset({("outbox", outbox)}))] == 0


def test_the_database_metrics_cost_one_query_each_whatever_the_backlog(maya):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            list(BacklogCollector().collect())
        return len(context.captured_queries)

    empty = queries()
    for index in range(20):
        _notification(Notification.Status.PENDING, timedelta(minutes=index), f"n{index}")

    assert empty == queries() == 3  # the queue, then one aggregate per outbox


# Logs


def test_with_log_format_json_a_record_is_one_json_line_with_its_exception():
    script = (
        "import logging, django; django.setup()\n"
        "try:\n"
        "    raise ValueError('no such case')\n"
        "except ValueError:\n"
        "    logging.getLogger('closedloop.check').exception('Delivery failed\\nfor case %s', 42)\n"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "closedloop.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is one JSON object
    [record] = [r for r in records if r["logger"] == "closedloop.check"]
    assert record["level"] == "ERROR"
    assert record["message"] == "Delivery failed\nfor case 42"
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: no such case" in record["exception"]
    assert timezone.datetime.fromisoformat(record["time"]).tzinfo is not None
