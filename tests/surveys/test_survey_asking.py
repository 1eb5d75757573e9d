"""Asking well on the public survey page: what it was about (the customer's own coding, beside
the agents'), whether they want to be contacted (honoured by the case), in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followups.models import ResponseRootCause, RootCause
from followups.services import team_create
from followups.services.coding import root_cause_create
from surveys.models import Invitation, Response
from surveys.services.invitations import invitation_create, invitation_token


@pytest.fixture(autouse=True)
def fresh_limits(db):
    caches["throttle"].clear()


@pytest.fixture
def invitation(survey, alice) -> Invitation:
    team_create(slug="desk", name="Service desk", members=["alice"], lead="alice")
    root_cause_create(slug="billing", name="Billing")
    root_cause_create(slug="invoices", name="Invoices", parent="billing")
    root_cause_create(slug="delivery", name="Delivery")
    root_cause_create(slug="retired", name="Retired topic", active=False)
    return invitation_create(survey=survey, customer={"external_id": "C-1", "email": "pat@example.com"}).invitation


def page(invitation: Invitation) -> str:
    return reverse("survey-answer", args=[invitation_token(invitation)])


def test_the_page_offers_active_categories_and_the_contact_choice_in_fieldsets(client, invitation):
    html = client.get(page(invitation), {"score": "3"}).content.decode()

    assert "<legend>What was this about?" in html and "<legend>May we contact you about your answer?" in html
    assert 'name="topic" value="billing"' in html and 'name="topic" value="delivery"' in html
    # Only categories: causes and retired nodes are for the agents.
    assert 'value="invoices"' not in html and 'value="retired"' not in html
    assert 'name="contact_preference" value="no_contact"' in html
    assert "If your score is low, someone from our team may contact you personally" in html
    # The detractor's own follow-up question for a 3.
    assert invitation.survey.question_detractor in html


def test_the_chosen_category_is_the_customers_own_code_beside_the_agents(
    client, invitation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(page(invitation), {"score": "2", "topic": "billing", "contact_preference": "contact"})

    assert answered.status_code == 302
    response = Response.objects.get()
    assert response.contact_preference == "contact"
    codes = list(ResponseRootCause.objects.filter(response=response).values_list("root_cause__slug", "source"))
    assert codes == [("billing", "customer")]
    again = client.get(page(invitation)).content.decode()
    assert 'value="billing" checked' in again and 'value="contact" checked' in again


def test_changing_the_answer_replaces_the_customers_code_and_keeps_the_agents(client, invitation):
    client.post(page(invitation), {"score": "2", "topic": "billing"})
    response = Response.objects.get()
    ResponseRootCause.objects.create(response=response, root_cause=_node("invoices"), source="agent")

    client.post(page(invitation), {"score": "4", "topic": "delivery", "contact_preference": "no_contact"})

    codes = set(ResponseRootCause.objects.filter(response=response).values_list("root_cause__slug", "source"))
    assert codes == {("delivery", "customer"), ("invoices", "agent")}
    response.refresh_from_db()
    assert response.contact_preference == "no_contact"
    client.post(page(invitation), {"score": "4", "topic": ""})
    assert set(ResponseRootCause.objects.filter(response=response).values_list("source", flat=True)) == {"agent"}


def _node(slug: str) -> RootCause:
    return RootCause.objects.get(slug=slug)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"score": "2", "topic": "invoices"}, "topic"),
        ({"score": "2", "topic": "retired"}, "topic"),
        ({"score": "2", "topic": "<script>"}, "topic"),
        ({"score": "2", "contact_preference": "whenever"}, "contact_preference"),
    ],
)
def test_a_choice_not_offered_is_a_400_and_stores_nothing(client, invitation, data, field):
    answered = client.post(page(invitation), data)

    assert answered.status_code == 400
    assert f'id="{"contact" if field == "contact_preference" else "topic"}-error"' in answered.content.decode()
    assert not Response.objects.exists() and not ResponseRootCause.objects.exists()


def test_the_page_takes_a_fixed_number_of_queries_whatever_the_taxonomy(client, invitation):
    def count() -> int:
        caches["throttle"].clear()  # each request counts against fresh limits, whichever cache holds them
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page(invitation)).status_code == 200
        return len(queries)

    few = count()
    for number in range(30):
        root_cause_create(slug=f"topic-{number}", name=f"Topic {number}")
    assert count() == few
