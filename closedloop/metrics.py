"""Metrics read from the database when Prometheus scrapes: the task queue and the outboxes.

They are computed at scrape time, not counted as things happen, so they are right whichever
process queued or delivered the rows, and cost one aggregate query per outbox per scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Model
from django.utils import timezone
from django_q.brokers import get_broker
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from followups.models import Notification, WebhookDelivery

# Outbox label -> (model, the status of rows not yet delivered).
OUTBOXES: dict[str, tuple[type[Model], str]] = {
    "staff_email": (Notification, Notification.Status.PENDING),
    "webhook": (WebhookDelivery, WebhookDelivery.Status.PENDING),
}


class BacklogCollector:
    """Queue depth and outbox backlog, with the age of each outbox's oldest undelivered row."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "closedloop_task_queue_depth",
            "Tasks waiting for a worker in the task queue.",
            value=get_broker().queue_size(),
        )
        backlog = GaugeMetricFamily(
            "closedloop_outbox_backlog", "Rows of an outbox not delivered yet.", labels=["outbox"]
        )
        oldest = GaugeMetricFamily(
            "closedloop_outbox_oldest_undelivered_age_seconds",
            "Age of an outbox's oldest row not delivered yet (0 when it is empty).",
            labels=["outbox"],
        )
        now = timezone.now()
        for name, (model, undelivered) in OUTBOXES.items():
            row = model._default_manager.filter(status=undelivered).aggregate(
                count=Count("pk"), oldest=Min("created_at")
            )
            backlog.add_metric([name], row["count"])
            oldest.add_metric([name], (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0)
        yield backlog
        yield oldest
