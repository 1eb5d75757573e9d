"""Shipping with real clusters: a kill mid-batch resends at most the message in flight, and two
clusters on one database share a fan-out, their workers delivering at the same time, each update
sent once (how much faster that is, the fan-out benchmark measures).

The customers gave passive comments coded to the improvement's cause, so no case opens and the
only mail is the updates; each customer has an address of their own, so the server notes each
update by its envelope recipient.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.conf import Conf

from followups.models import CustomerUpdate, Improvement, ResponseRootCause, RootCause
from followups.services.updates import improvement_ship
from surveys.models import Response
from surveys.services import responses_ingest
from tests.factories import make_improvement, make_survey, response_item
from tests.followups import crash

WORKERS = 2


def _customers(count: int, cause: RootCause, prefix: str) -> set[str]:
    """``count`` customers who raised ``cause``; return their addresses."""
    items = [response_item(7 + n % 2, customer=f"{prefix}-{n}", comment="The VPN drops at home") for n in range(count)]
    for item in items:
        item["customer"]["email"] = f"{item['customer']['external_id']}@example.com"
    responses_ingest(items=items)
    responses = Response.objects.filter(customer__external_id__startswith=f"{prefix}-")
    ResponseRootCause.objects.bulk_create(
        [ResponseRootCause(response=response, root_cause=cause) for response in responses]
    )
    return {f"{prefix}-{n}@example.com" for n in range(count)}


def _improvement(cause: RootCause, title: str) -> Improvement:
    return make_improvement(title, cause, customer_message="We replaced the VPN gateway.")


def _all_sent(improvement: Improvement) -> bool:
    try:
        return not CustomerUpdate.objects.filter(improvement=improvement).exclude(status="sent").exists()
    finally:
        connection.close()


def _pushing(log: Path, clusters: int) -> bool:
    """Whether ``clusters`` pushers have started taking tasks off the queue, by the clusters' log."""
    return log.read_text(errors="replace").count("pushing tasks at") >= clusters


@pytest.fixture
def world(taxonomy, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue on the ORM broker, as production does
    # The schedule takes what a killed run had claimed, once its lease has ended.
    call_command("setup_schedules", stdout=io.StringIO())
    make_survey()
    return taxonomy["vpn-access"]


@pytest.mark.postgres
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_cluster_killed_mid_batch_leaves_every_customer_one_sent_update(world, tmp_path):
    addresses = _customers(300, world, "kill")
    improvement = _improvement(world, "VPN gateway replaced")
    log = tmp_path / "qcluster.log"
    mailbox = crash.SlowMailbox(0.02, by_recipient=True)
    with crash.smtp(mailbox) as port:
        env = crash.cluster_env(crash.database_url(connection.settings_dict), smtp_port=port, workers=WORKERS)
        assert improvement_ship(improvement=improvement, actor=None).queued == len(addresses)

        first = crash.start(env, log)
        try:
            midway = crash.wait_until(lambda: len(mailbox.arrivals) >= len(addresses) // 3, timeout=90)
        finally:
            crash.crash(first)
        assert midway, log.read_text(errors="replace")[-3000:]
        at_kill = len(mailbox.arrivals)
        assert at_kill < len(addresses)  # killed part-way through

        second = crash.start(env, log)
        try:
            delivered = crash.wait_until(lambda: _all_sent(improvement), timeout=120, interval=0.5)
        finally:
            crash.stop(second)
        assert delivered, log.read_text(errors="replace")[-3000:]

    seen = mailbox.arrivals.counts()
    assert set(seen) == addresses  # everyone, and nobody else
    # Only the messages in flight at the kill went twice: one per worker at most.
    assert crash.twice(seen) <= WORKERS
    assert CustomerUpdate.objects.filter(improvement=improvement, status="sent").count() == len(addresses)


@pytest.mark.postgres
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_two_clusters_share_a_fan_out_each_update_once(world, tmp_path, settings):
    # Eight runs of a batch each: more than one cluster takes (its two workers, two queued and the
    # one its pusher holds), so the second cluster's workers get some whichever polls first. With
    # fewer runs the first cluster to poll may take them all, and a run checks its relay time only
    # between batches.
    settings.DELIVERY_PARALLEL_RUNS = 8
    addresses = _customers(800, world, "scale")
    log = tmp_path / "qcluster.log"
    # A remote server's pace: the time goes into waiting for it, which more workers share.
    mailbox = crash.SlowMailbox(0.03, by_recipient=True)
    most_at_once = {}
    with crash.smtp(mailbox) as port:
        env = crash.cluster_env(crash.database_url(connection.settings_dict), smtp_port=port, workers=WORKERS)
        env["DELIVERY_RELAY_SECONDS"] = "1"
        env["LOG_LEVEL"] = "INFO"  # each cluster's pusher says when it starts taking tasks
        pushers = 0
        for clusters in (1, 2):
            improvement = _improvement(world, f"Shipped with {clusters}")
            running = [crash.start(env, log) for _ in range(clusters)]
            pushers += clusters
            try:
                # Every cluster is taking tasks before the fan-out is enqueued.
                ready = crash.wait_until(partial(_pushing, log, pushers), timeout=60, interval=0.1)
                assert ready, log.read_text(errors="replace")[-3000:]
                mailbox.most_sending = 0
                improvement_ship(improvement=improvement, actor=None)
                delivered = crash.wait_until(partial(_all_sent, improvement), timeout=120, interval=0.1)
            finally:
                for cluster in running:
                    crash.stop(cluster)
            assert delivered, log.read_text(errors="replace")[-3000:]
            most_at_once[clusters] = mailbox.most_sending

    seen = mailbox.arrivals.counts()
    assert set(seen) == addresses
    assert all(count == 2 for count in seen.values())  # one update from each shipment, never two
    # Two clusters' workers delivered at the same time, more of them than one cluster has
    # (tests/bench/fanout.py measures how much faster that is: two_cluster_speedup).
    assert most_at_once[1] <= WORKERS < most_at_once[2], most_at_once
