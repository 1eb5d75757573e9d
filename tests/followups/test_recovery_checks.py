"""A resolved detractor is invited to a check-in, once, and the answers say who recovered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.services.cases import case_contact_log, case_transition
from surveys.models import Customer, Invitation
from surveys.services.invitations import invitation_answer
from tests.factories import make_survey


def resolve(case, actor, now=None):
    case_contact_log(case=case, actor=actor, channel="phone", outcome="reached", now=now)
    return case_transition(case=case, to_status="resolved", actor=actor, now=now)


def test_resolving_a_case_invites_its_customer_to_a_check_in_despite_the_quarantine(open_case, maya, settings):
    case = open_case(2, customer="C-1")
    Customer.objects.filter(external_id="C-1").update(email="pat@example.com")
    now = timezone.now()

    resolve(case, maya, now)

    check_in = Invitation.objects.get(recovers=case.response)
    assert (check_in.status, check_in.reason, check_in.survey) == ("scheduled", "", case.response.survey)
    assert check_in.send_at == now + timedelta(days=settings.RECOVERY_CHECK_DAYS)


def test_a_ticket_whose_invitation_was_answered_still_gets_its_check_in(open_case, maya):
    case = open_case(2, customer="C-1", ticket_ref="INC-9")
    at = case.response.submitted_at
    Invitation.objects.create(
        survey=case.response.survey,
        customer=case.response.customer,
        status=Invitation.Status.ANSWERED,
        ticket_ref="INC-9",
        response=case.response,
        send_at=at,
        sent_at=at,
        answered_at=at,
        next_attempt_at=at,
        created_at=at,
    )
    resolve(case, maya)
    check_in = Invitation.objects.get(recovers=case.response)
    assert check_in.survey == case.response.survey and check_in.ticket_ref == ""


def test_a_case_resolved_again_keeps_its_one_check_in(open_case, maya):
    case = open_case(2, customer="C-1")
    resolve(case, maya)
    case_transition(case=case, to_status="in_progress", actor=maya)
    case_transition(case=case, to_status="resolved", actor=maya)
    assert Invitation.objects.filter(recovers=case.response).count() == 1


def test_opt_outs_still_hold_for_check_ins(open_case, maya):
    case = open_case(2, customer="C-1")
    Customer.objects.filter(external_id="C-1").update(email="pat@example.com", surveys_unsubscribed_at=timezone.now())
    resolve(case, maya)
    assert Invitation.objects.get(recovers=case.response).reason == "unsubscribed"


def test_check_ins_can_be_turned_off_or_sent_to_a_survey_of_their_own(open_case, maya, settings):
    settings.RECOVERY_CHECK_DAYS = 0
    first = open_case(2, customer="C-1")
    resolve(first, maya)
    assert not Invitation.objects.exists()

    settings.RECOVERY_CHECK_DAYS = 3
    settings.RECOVERY_SURVEY = make_survey("check-in").slug
    second = open_case(3, customer="C-2")
    resolve(second, maya)
    assert Invitation.objects.get(recovers=second.response).survey.slug == "check-in"


@pytest.mark.parametrize(("score", "expected"), [(9, (1, 1, 1)), (7, (1, 1, 0)), (4, (1, 0, 0))])
def test_the_answers_to_check_ins_say_who_recovered(open_case, maya, manager_api, score, expected):
    case = open_case(2, customer="C-1")
    Customer.objects.filter(external_id="C-1").update(email="pat@example.com")
    resolve(case, maya)
    invitation_answer(invitation=Invitation.objects.get(recovers=case.response), score=score)

    figures = manager_api.get(reverse("api-invitation-recovery")).json()

    assert (figures["answered"], figures["recovered"], figures["promoted"]) == expected
