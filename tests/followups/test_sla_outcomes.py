"""How a case fared against each deadline: every combination of the four facts, and where it shows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followups.models import Case
from followups.sla import OUTCOME_LABELS, DeadlineOutcome, deadline_outcome
from followups.workflow import CaseStatus

Outcome = DeadlineOutcome
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def expected(done: bool, breached: bool, is_open: bool, paused: bool) -> DeadlineOutcome:
    """The rule written out as a table, independently of its code."""
    if done:
        return Outcome.MET_LATE if breached else Outcome.MET
    if breached:
        return Outcome.BREACHED
    if not is_open:
        return Outcome.NOT_MET
    return Outcome.PAUSED if paused else Outcome.PENDING


FACTS = list(itertools.product([False, True], repeat=4))


@pytest.mark.parametrize(("done", "breached", "is_open", "paused"), FACTS)
def test_every_combination_has_its_outcome(done, breached, is_open, paused):
    outcome = deadline_outcome(
        done_at=AT if done else None, breached_at=AT if breached else None, is_open=is_open, paused=paused
    )

    assert outcome == expected(done, breached, is_open, paused)


def test_the_outcomes_read_as_the_case_page_writes_them():
    assert {outcome: outcome.label for outcome in Outcome} == {
        Outcome.MET: "met",
        Outcome.MET_LATE: "met late",
        Outcome.BREACHED: "breached",
        Outcome.NOT_MET: "not met (case closed)",
        Outcome.PAUSED: "paused, waiting on the customer",
        Outcome.PENDING: "pending",
    }
    assert set(OUTCOME_LABELS) == set(Outcome)


def test_a_case_reports_each_deadline_from_its_own_columns():
    case = Case(
        status=CaseStatus.RESOLVED,
        first_contacted_at=AT,
        first_contact_breached_at=None,
        resolved_at=AT + timedelta(days=3),
        resolution_breached_at=AT + timedelta(days=2),
    )

    assert (case.first_contact_outcome(), case.resolution_outcome()) == (Outcome.MET, Outcome.MET_LATE)


def test_a_waiting_case_reports_its_resolution_as_paused():
    case = Case(status=CaseStatus.WAITING_ON_CUSTOMER, first_contacted_at=AT, paused_at=AT + timedelta(hours=1))

    assert (case.first_contact_outcome(), case.resolution_outcome()) == (Outcome.MET, Outcome.PAUSED)


@pytest.mark.django_db
def test_the_case_page_shows_a_deadline_met_late(open_case, alice):
    case = open_case(2)
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(
        owner=alice, status=CaseStatus.CONTACTED, first_contacted_at=now, first_contact_breached_at=now
    )
    client = Client()
    client.force_login(alice)

    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()

    assert "<td>met late</td>" in html
    assert "<td>pending</td>" in html
