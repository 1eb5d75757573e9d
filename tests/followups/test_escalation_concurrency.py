"""Overdue sweeps racing each other on PostgreSQL (real commits, row locks, SKIP LOCKED).

Two hundred cases opened three weeks ago: both deadlines of each have passed and the delay
before it moves to the lead too. Sweeps started at the same moment must split the work so that
every breach is recorded and announced exactly once and every case moves up exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from followups.models import Case, CaseEvent, Notification
from followups.services import team_create
from followups.services.escalation import SweepResult, escalation_sweep
from surveys.services import responses_ingest
from tests.concurrency import at_once
from tests.factories import make_survey, make_user, response_item
from tests.followups.smtp import smtp_server

CASES = 200
THREADS = 4
DEADLINES = ("first_contact", "resolution")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overdue_cases() -> list[Case]:
    """CASES cases spread over four agents, led by lena (who owns none), all long overdue."""
    make_survey()
    agents = [make_user(f"agent{i}", "agent", email=f"agent{i}@example.com") for i in range(4)]
    make_user("lena", "agent", email="lena@example.com")
    team_create(slug="desk", name="Service desk", members=[a.username for a in agents], lead="lena")
    with time_machine.travel(timezone.now() - timedelta(days=21), tick=False):
        # Committed for real: the follow-up app opens the cases once the batch commits.
        responses_ingest(items=[response_item(2 + number % 5) for number in range(CASES)])
    cases = list(Case.objects.select_related("owner"))
    assert len(cases) == CASES
    assert {case.owner_id for case in cases} == {a.pk for a in agents}
    return cases


def sweep_at_once(threads: int) -> list[SweepResult]:
    """Run the sweep in ``threads`` threads released together."""
    return at_once(*[escalation_sweep] * threads)


def test_concurrent_sweeps_record_and_announce_each_breach_once(overdue_cases):
    first_owner = {case.pk: case.owner.email for case in overdue_cases}

    with smtp_server() as mailbox:
        results = sweep_at_once(THREADS)
        later = sweep_at_once(THREADS)

    assert sum(r.first_contact_breaches for r in results) == CASES
    assert sum(r.resolution_breaches for r in results) == CASES
    assert sum(r.reassigned for r in results) == CASES
    assert sum(r.total for r in later) == 0
    breaches = Counter(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.BREACHED).values_list("case_id", "details__deadline")
    )
    assert breaches == Counter({(pk, deadline): 1 for pk in first_owner for deadline in DEADLINES})
    _assert_moved_to_the_lead_once(first_owner)
    _assert_each_person_told_once_per_breach(first_owner)
    # Every queued email went out over SMTP exactly once.
    sent = Counter((r.recipients[0], r.subject) for r in mailbox.received if len(r.recipients) == 1)
    assert len(sent) == len(mailbox.received)
    queued = Notification.objects.filter(kind__in=[Notification.Kind.BREACHED, Notification.Kind.ESCALATED])
    assert sent == Counter(queued.values_list("email", "subject"))
    assert set(queued.values_list("status", flat=True)) == {Notification.Status.SENT}


def _assert_moved_to_the_lead_once(first_owner: dict[int, str]) -> None:
    cases = Case.objects.filter(pk__in=first_owner)
    assert set(cases.values_list("owner__username", "escalation_level")) == {("lena", 2)}
    for kind, extra in ((CaseEvent.Kind.ESCALATED, {}), (CaseEvent.Kind.ASSIGNED, {"details__by": "escalation"})):
        per_case = CaseEvent.objects.filter(kind=kind, **extra).values("case_id").annotate(n=Count("pk"))
        assert sorted((row["case_id"], row["n"]) for row in per_case) == [(pk, 1) for pk in sorted(first_owner)]
    escalated = Notification.objects.filter(kind=Notification.Kind.ESCALATED)
    assert Counter(escalated.values_list("case_id", "email")) == Counter(
        {(pk, "lena@example.com"): 1 for pk in first_owner}
    )


def _assert_each_person_told_once_per_breach(first_owner: dict[int, str]) -> None:
    """The lead hears of every breach; the owner of the moment too, unless the lead already had it.

    Which breaches reach the first owner depends on how the sweeps interleave (a case moved up
    between its two breaches has only the lead left to tell), so only the lead's are exact.
    """
    told = Counter(
        (case_id, deadline, email)
        for case_id, email, subject in Notification.objects.filter(kind=Notification.Kind.BREACHED).values_list(
            "case_id", "email", "subject"
        )
        for deadline in DEADLINES
        if deadline.replace("_", "-") in subject
    )
    assert set(told.values()) == {1}
    for pk, owner in first_owner.items():
        for deadline in DEADLINES:
            assert told[(pk, deadline, "lena@example.com")] == 1
            assert {email for (case_id, d, email) in told if (case_id, d) == (pk, deadline)} <= {
                owner,
                "lena@example.com",
            }


def test_run_escalations_twice_records_nothing_new_the_second_time(overdue_cases, capsys):
    call_command("run_escalations")
    first = capsys.readouterr().out
    recorded = (
        CaseEvent.objects.count(),
        Notification.objects.count(),
        Case.objects.filter(escalation_level=2).count(),
    )

    call_command("run_escalations")
    second = capsys.readouterr().out

    assert f"breaches: {CASES} first contact, {CASES} resolution; moved to a lead: {CASES}" in first
    assert "breaches: 0 first contact, 0 resolution; moved to a lead: 0" in second
    assert (CaseEvent.objects.count(), Notification.objects.count(), CASES) == recorded
