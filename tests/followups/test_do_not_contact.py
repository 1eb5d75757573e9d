"""A customer who asked not to be contacted: the case shows it, and first contact never breaches
or escalates; the resolution deadline still does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from followups.models import Case, CaseEvent
from followups.services.escalation import escalation_sweep
from followups.services.opening import cases_open_for_responses
from surveys.models import Response
from tests.factories import make_response

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _no_contact(case: Case) -> Case:
    Response.objects.filter(pk=case.response_id).update(contact_preference="no_contact")
    return case


def test_a_case_opened_for_a_do_not_contact_answer_counts_down_to_resolution(open_case):
    response = make_response(3, customer="C-quiet")
    Response.objects.filter(pk=response.pk).update(contact_preference="no_contact")
    quiet = Case.objects.get(pk=cases_open_for_responses(response_ids=[response.pk], now=MONDAY_10)[0].pk)
    usual = open_case(3, now=MONDAY_10, customer="C-usual")

    assert usual.next_due == usual.first_contact_due
    assert quiet.next_due == quiet.resolution_due and quiet.at_risk_from > usual.at_risk_from


def test_do_not_contact_never_breaches_first_contact_but_resolution_still_applies(open_case):
    asked = _no_contact(open_case(2, now=MONDAY_10))
    other = open_case(2, now=MONDAY_10, customer="C-other")

    late = asked.first_contact_due + timedelta(minutes=1)
    assert escalation_sweep(now=late).first_contact_breaches == 1
    assert Case.objects.get(pk=other.pk).breached() == ["first_contact"]
    asked.refresh_from_db()
    assert asked.breached() == [] and asked.escalation_level == 0
    assert not CaseEvent.objects.filter(case=asked, kind="breached").exists()

    assert escalation_sweep(now=asked.resolution_due + timedelta(minutes=1)).resolution_breaches == 2
    asked.refresh_from_db()
    assert asked.breached() == ["resolution"]


def test_the_case_page_shows_the_customers_contact_preference(open_case, alice):
    case = _no_contact(open_case(2, now=MONDAY_10))
    client = Client()
    client.force_login(alice)

    assertContains(client.get(reverse("case-detail", args=[case.pk])), "Do not contact me")
