"""POST /api/v1/invitations/: an invitation is scheduled, sent (by the caller) or suppressed with its reason."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from surveys.models import Account, Customer, Invitation
from tests.factories import make_response, make_survey, make_user

URL = "/api/v1/invitations/"


def invite(api, customer="C-1", *, email="pat@example.com", **fields):
    body = {"survey": "support-2026", "customer": {"external_id": customer, "email": email}, **fields}
    return api.post(URL, body, format="json")


def test_an_email_invitation_is_scheduled_with_its_page_and_eleven_score_links(integration_api, survey):
    response = invite(integration_api, ticket_ref="INC-7", agent="alice", team="desk")

    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["reason"], data["channel"], data["ticket_ref"]) == ("scheduled", "", "email", "INC-7")
    assert len(data["score_urls"]) == 11
    assert [url.rsplit("=", 1)[1] for url in data["score_urls"]] == [str(score) for score in range(11)]
    assert all(url.startswith(data["survey_url"] + "?score=") for url in data["score_urls"])
    invitation = Invitation.objects.get(pk=data["id"])
    assert (invitation.agent, invitation.team, invitation.customer.email) == ("alice", "desk", "pat@example.com")
    # The link opens the survey page.
    assert urlsplit(data["survey_url"]).path == reverse(
        "survey-answer", args=[urlsplit(data["survey_url"]).path.split("/")[2]]
    )


def test_other_channels_get_their_links_and_count_as_sent(integration_api, survey):
    response = invite(integration_api, email="", channel="sms")

    assert response.status_code == 201
    assert response.json()["status"] == "sent" and response.json()["sent_at"]
    assert len(response.json()["score_urls"]) == 11


def test_a_ticket_is_invited_once_however_often_it_is_solved(integration_api, survey):
    first = invite(integration_api, ticket_ref="INC-9")
    again = invite(integration_api, ticket_ref="INC-9")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Invitation.objects.count() == 1


def test_a_second_invitation_inside_the_quarantine_is_suppressed(integration_api, survey):
    assert invite(integration_api).json()["status"] == "scheduled"

    second = invite(integration_api)

    assert second.status_code == 201
    assert (second.json()["status"], second.json()["reason"]) == ("suppressed", "quarantine")
    assert second.json()["survey_url"] is None and second.json()["score_urls"] == []


def test_a_recent_answer_counts_for_the_quarantine_too(integration_api, survey):
    make_response(9, customer="C-1", submitted_at=timezone.now() - timedelta(days=3))
    assert invite(integration_api).json()["reason"] == "quarantine"


@override_settings(SURVEY_MINIMUM_QUARANTINE_DAYS=0)
def test_after_the_window_a_customer_is_invited_again(integration_api, survey):
    invite(integration_api)
    Invitation.objects.update(send_at=timezone.now() - timedelta(days=survey.quarantine_days + 1))
    assert invite(integration_api).json()["status"] == "scheduled"


@pytest.mark.parametrize(
    ("setup", "email", "expected"),
    [
        (lambda: None, "", "no_address"),
        (
            lambda: Customer.objects.filter(external_id="C-1").update(surveys_unsubscribed_at=timezone.now()),
            "x@example.com",
            "unsubscribed",
        ),
        (
            lambda: Customer.objects.filter(external_id="C-1").update(erased_at=timezone.now()),
            "x@example.com",
            "erased",
        ),
        (
            lambda: Customer.objects.filter(external_id="C-1").update(attributes={"tags": ["internal"]}),
            "x@example.com",
            "excluded",
        ),
        (lambda: make_user("agentpat", "agent", email="pat@example.com"), "PAT@example.com", "staff"),
    ],
)
def test_each_reason_not_to_invite_is_recorded(integration_api, survey, setup, email, expected):
    Customer.objects.create(external_id="C-1")
    setup()

    response = invite(integration_api, email=email)

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["reason"]) == ("suppressed", expected)


def test_an_account_tagged_partner_keeps_its_customers_unsurveyed(integration_api, survey):
    account = Account.objects.create(external_id="ACME", tags=["Partner"])
    Customer.objects.create(external_id="C-1", account=account)
    assert invite(integration_api).json()["reason"] == "excluded"


def test_an_inactive_survey_invites_nobody(integration_api, survey):
    survey.active = False
    survey.save()
    assert invite(integration_api).json()["reason"] == "inactive_survey"


@pytest.mark.parametrize(
    "body",
    [
        {"survey": "support-2026"},
        {"survey": "support-2026", "customer": {"email": "x@example.com"}},
        {"survey": "support-2026", "customer": {"external_id": "C-1", "email": "not an address"}},
        {"survey": "nope", "customer": {"external_id": "C-1"}},
        {"survey": "support-2026", "customer": {"external_id": "C-1"}, "channel": "carrier-pigeon"},
        {"survey": "support-2026", "customer": {"external_id": "C-1"}, "send_at": "yesterday"},
        {"survey": "support-2026", "customer": {"external_id": "C-1"}, "send_at": "2099-01-01T10:00:00Z"},
        {"survey": "support-2026", "customer": "C-1"},
        [],
    ],
)
def test_bad_input_is_a_400_and_stores_nothing(integration_api, survey, body):
    response = integration_api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert not Invitation.objects.exists()
    assert not Customer.objects.exists()


def test_agents_and_anonymous_clients_may_not_invite(agent_api, anonymous_api, survey):
    assert invite(agent_api).status_code == 403
    assert invite(anonymous_api).status_code in {401, 403}


def test_an_invitation_can_be_read_back(integration_api, survey):
    made = invite(integration_api).json()
    response = integration_api.get(reverse("api-invitation", args=[made["id"]]))
    assert response.status_code == 200 and response.json() == made


def test_the_response_rate_is_answered_over_delivered_per_survey(integration_api, manager_api, survey):
    other = make_survey("quarterly")
    for n in range(4):
        invite(integration_api, f"C-{n}", channel="sms")
    invite(integration_api, "C-9", email="")  # suppressed: no address
    invite(integration_api, "C-10", survey="quarterly", channel="sms")
    answered = Invitation.objects.filter(survey=survey, status="sent")[:1].get()
    Invitation.objects.filter(pk=answered.pk).update(status="answered", answered_at=timezone.now())
    Invitation.objects.filter(customer__external_id="C-1").update(status="scheduled")

    response = manager_api.get(reverse("api-invitation-stats"))

    assert response.status_code == 200
    by_survey = {row["survey"]: row for row in response.json()["results"]}
    ours = by_survey["support-2026"]
    assert (ours["sent"], ours["answered"], ours["scheduled"], ours["suppressed"]) == (2, 1, 1, 1)
    assert ours["suppressed_by_reason"] == {"no_address": 1}
    assert (ours["delivered"], ours["response_rate"]) == (3, round(1 / 3, 4))
    assert by_survey[other.slug]["response_rate"] == 0.0
    later = manager_api.get(
        reverse("api-invitation-stats"), {"sent_after": (timezone.now() + timedelta(days=1)).isoformat()}
    )
    assert later.json()["results"] == []
    assert manager_api.get(reverse("api-invitation-stats"), {"sent_after": "soon"}).status_code == 400
