"""The staff's customer and account pages, and the phone answer an agent records on the customer's page.

The world is the desk of ``tests/followups/conftest.py``: team "desk" (alice, bob, lena; lena leads it).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from followups.models import Case, CustomerUpdate, ResponseRootCause
from surveys.models import Account, Customer, Invitation, Response
from tests.factories import make_improvement, make_response, make_user

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(external_id: str = "C-7") -> str:
    return reverse("customer-detail", args=[external_id])


@pytest.fixture
def acme(db):
    return Account.objects.create(external_id="ACME", name="Acme Ltd")


@pytest.fixture
def pat(open_case, alice, taxonomy, acme, survey):
    """Customer C-7 of Acme: a detractor case with a coded comment, a promoter answer, an update, an invitation."""
    case = open_case(2, customer="C-7", comment="The VPN <b>failed</b>", ticket_ref="INC-42")
    Customer.objects.filter(pk=case.response.customer_id).update(
        name="Pat Example", email="pat@example.com", phone="+44 20 7946 0000", account=acme
    )
    make_response(9, customer="C-7", comment="Much better since")
    ResponseRootCause.objects.create(response=case.response, root_cause=taxonomy["vpn-access"])
    now = timezone.now()
    improvement = make_improvement("VPN gateway", status="proposed")
    CustomerUpdate.objects.create(
        improvement=improvement, customer_id=case.response.customer_id, next_attempt_at=now, created_at=now
    )
    Invitation.objects.create(
        survey=survey,
        customer_id=case.response.customer_id,
        status=Invitation.Status.SENT,
        send_at=now,
        sent_at=now,
        next_attempt_at=now,
        created_at=now,
        ticket_ref="INC-41",
    )
    return Customer.objects.get(external_id="C-7")


def test_the_customer_page_shows_everything_held_of_the_customer(pat, alice):
    response = _client(alice).get(_page())

    assert response.status_code == 200
    for text in ("Pat Example", "pat@example.com", "+44 20 7946 0000", "Acme Ltd", "Much better since", "VPN gateway"):
        assertContains(response, text)
    assertContains(response, "The VPN &lt;b&gt;failed&lt;/b&gt;")  # customer text is escaped
    assertContains(response, taxonomy_name(pat))
    case = Case.objects.get(response__customer=pat)
    assertContains(response, f'href="{reverse("case-detail", args=[case.pk])}"')
    assertContains(response, "ticket INC-41")
    assertContains(response, f'href="{reverse("account-detail", args=["ACME"])}"')


def taxonomy_name(customer: Customer) -> str:
    return ResponseRootCause.objects.get(response__customer=customer).root_cause.name


def test_the_customer_page_is_for_staff_only(pat, client):
    assert client.get(_page()).status_code == 302
    integration = make_user("izzy-page", "integration")
    assert _client(integration).get(_page()).status_code == 403


def test_an_unknown_customer_is_a_404(alice, desk):
    assert _client(alice).get(_page("nobody")).status_code == 404


def test_the_account_page_lists_its_customers(pat, alice, acme, survey):
    Customer.objects.create(external_id="C-8", name="Sam Other", account=acme)
    Customer.objects.create(external_id="C-9", name="Not Acme")

    response = _client(alice).get(reverse("account-detail", args=["ACME"]))

    assertContains(response, "2 customers")
    assertContains(response, f'<a href="{_page()}" class="customer-link">Pat Example</a>', html=True)
    assertContains(response, "Sam Other")
    assertNotContains(response, "Not Acme")


@pytest.mark.parametrize("page", ["customer", "account"])
def test_customer_and_account_pages_take_the_same_queries_however_much_they_have(pat, alice, acme, open_case, page):
    client = _client(alice)
    url = _page() if page == "customer" else reverse("account-detail", args=["ACME"])
    counts = []
    for extra in (0, 5):
        for n in range(extra):
            open_case(1, customer="C-7", comment=f"again {n}")
            Customer.objects.create(external_id=f"C-more-{n}", account=acme)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_customer_is_linked_from_the_queue(pat, alice):
    response = _client(alice).get(reverse("queue"))

    assertContains(response, f'<a href="{_page()}" class="customer-link">Pat Example</a>', html=True)


# The phone answer


def test_an_agent_records_a_phone_answer_and_a_detractor_opens_a_case(
    pat, alice, survey, django_capture_on_commit_callbacks
):
    client = _client(alice)
    data = {"phone-survey": survey.slug, "phone-score": "3", "phone-comment": "Still no VPN at home"}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_page(), data)

    assertRedirects(response, _page(), fetch_redirect_response=False)
    answer = Response.objects.get(customer=pat, comment="Still no VPN at home")
    assert (answer.score, answer.channel, answer.survey_id) == (3, "phone", survey.pk)
    assert Case.objects.filter(response=answer).exists()
    page = client.get(_page())
    assertContains(page, "The phone answer is recorded.")
    assertContains(page, "Still no VPN at home")
    assert Customer.objects.get(pk=pat.pk).name == "Pat Example"  # the customer's details are kept


def test_a_promoter_on_the_phone_opens_no_case(pat, alice, survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _client(alice).post(_page(), {"phone-survey": survey.slug, "phone-score": "10"})

    answer = Response.objects.get(customer=pat, score=10)
    assert answer.channel == "phone"
    assert not Case.objects.filter(response=answer).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone-score": "11"}, "score", "Select a valid choice"),
        ({"phone-score": ""}, "score", "This field is required."),
        ({"phone-score": "5", "phone-survey": "no-such-survey"}, "survey", "Select a valid choice"),
        ({"phone-score": "5", "phone-comment": "x" * 5001}, "comment", "Ensure this value has at most"),
    ],
)
def test_a_bad_phone_answer_is_shown_inline_and_stores_nothing(pat, alice, survey, data, field, message):
    data = {"phone-survey": survey.slug, **data}
    before = Response.objects.count()

    response = _client(alice).post(_page(), data)

    assert response.status_code == 400
    assertContains(response, f'id="id_phone-{field}-error"', status_code=400)
    assertContains(response, message, status_code=400)
    assert Response.objects.count() == before


def test_no_phone_answer_is_recorded_for_an_erased_customer(pat, alice, survey):
    Customer.objects.filter(pk=pat.pk).update(erased_at=timezone.now())

    response = _client(alice).post(_page(), {"phone-survey": survey.slug, "phone-score": "4"})

    assertContains(response, "data was erased", status_code=400)
    assert not Response.objects.filter(customer=pat, score=4).exists()
