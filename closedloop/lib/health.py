"""What ``/healthz`` reports: whether the database answers, and when the task cluster last beat.

The heartbeat is a scheduled no-op task (``setup_schedules`` runs it every minute). The row
django-q2 keeps of each finished task is the record: it lives in the database, so every web
process sees it whichever broker carries the tasks, and it exists only after the scheduler,
the broker, a worker and the result monitor all did their part. django-q2's own cluster
statistics (``Stat``) would not do: they live in the cache, which by default is each
process's own memory, so a web process never sees the cluster's.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Max
from django_q.models import Success

HEARTBEAT_TASK = "closedloop.lib.health.cluster_heartbeat"
# The schedule runs every minute and the cluster's scheduler wakes every 30 seconds, so a
# living cluster beats at least every 90 seconds; three minutes leaves room for a slow worker.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def cluster_heartbeat() -> None:
    """Do nothing: the result row django-q2 stores for this task is the heartbeat."""


def last_cluster_heartbeat() -> datetime | None:
    """When a cluster last finished the heartbeat task, or None if none ever did."""
    return Success.objects.filter(func=HEARTBEAT_TASK).aggregate(last=Max("stopped"))["last"]


def database_round_trip() -> float:
    """Seconds one trivial query takes; raises ``DatabaseError`` when the database does not answer."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return time.perf_counter() - started
