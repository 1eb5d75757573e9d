"""The outbox enqueues each delivery task once per commit, however many batches a transaction queues."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django_q.signals import pre_enqueue

from followups.services.outbox import deliver_on_commit

NOTIFICATIONS, WEBHOOKS = "followups.tasks.notifications_deliver", "followups.tasks.webhooks_deliver"


@pytest.fixture
def enqueued() -> Iterator[list[str]]:
    """The tasks handed to django-q2, in order (the tests run tasks inline)."""
    tasks: list[str] = []

    def record(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
        tasks.append(task["func"])

    pre_enqueue.connect(record, dispatch_uid="test-outbox-enqueue")
    yield tasks
    pre_enqueue.disconnect(dispatch_uid="test-outbox-enqueue")


@pytest.mark.django_db
def test_a_transaction_enqueues_each_delivery_task_once(django_capture_on_commit_callbacks, enqueued):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            with transaction.atomic():  # one service call after another, as the demo's history runs
                deliver_on_commit(NOTIFICATIONS)
                deliver_on_commit(WEBHOOKS)
    assert sorted(enqueued) == [NOTIFICATIONS, WEBHOOKS]


@pytest.mark.django_db
def test_each_commit_enqueues_its_own(django_capture_on_commit_callbacks, enqueued):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            deliver_on_commit(NOTIFICATIONS)
    assert enqueued == [NOTIFICATIONS, NOTIFICATIONS]


@pytest.mark.django_db
def test_a_rolled_back_savepoint_does_not_swallow_a_later_enqueue(django_capture_on_commit_callbacks, enqueued):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                deliver_on_commit(NOTIFICATIONS)
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        deliver_on_commit(NOTIFICATIONS)
    assert enqueued == [NOTIFICATIONS]


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing_and_leaves_the_next_one_alone(
    django_capture_on_commit_callbacks, enqueued
):
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            deliver_on_commit(NOTIFICATIONS)
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        deliver_on_commit(NOTIFICATIONS)
    assert enqueued == [NOTIFICATIONS]
