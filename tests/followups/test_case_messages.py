"""Writing to the customer from the case page: a manager's template filled in, edited by the agent,
sent through the case-message outbox over real SMTP, logged as a contact that counts as first contact.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from followups.models import Case, CaseEvent, CaseMessage, CustomerMessageTemplate
from followups.services.cases import case_assign
from followups.services.delivery import CASE_MESSAGES, outbox_deliver
from followups.services.messages import message_template_create
from tests.followups.smtp import Mailbox, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def case(open_case, alice) -> Case:
    alice.email, alice.first_name, alice.last_name = "alice@desk.example", "Alice", "Adams"
    alice.save()
    case = open_case(3, comment="The VPN dropped all week.")
    customer = case.response.customer
    customer.name, customer.email = "Ana  Ruiz", "ana@example.com"
    customer.save()
    return case if case.owner == alice else case_assign(case=case, owner=alice, actor=None)


@pytest.fixture
def template():
    return message_template_create(
        name="Sorry we were slow",
        subject="About your case {case_number}",
        body="Hello {customer_name},\n\nThank you for answering {survey}. {unknown} stays as written.",
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_picking_a_template_fills_in_the_case_customer_and_survey(case, alice, template):
    response = _client(alice).get(reverse("case-detail", args=[case.pk]), {"template": template.pk})

    assertContains(response, f'value="About your case {case.pk}"')
    assertContains(response, "Hello Ana Ruiz,\n\nThank you for answering Support 2026. {unknown} stays as written.")
    assertContains(response, '<details class="action" id="compose" open>')


def test_a_template_is_filled_by_substitution_not_rendered(case, alice):
    evil = message_template_create(name="Evil", subject="{{ settings.SECRET_KEY }}", body="{% now 'Y' %} {case_number}")

    response = _client(alice).get(reverse("case-detail", args=[case.pk]), {"template": evil.pk})

    assertContains(response, "{{ settings.SECRET_KEY }}")
    assertContains(response, f"{{% now &#x27;Y&#x27; %}} {case.pk}")


def test_sending_logs_an_email_contact_counting_as_first_contact_and_delivers_over_smtp(case, alice, mailbox):
    data = {"msg-subject": f"About your case {case.pk}", "msg-body": "Hello Ana,\n\nWe fixed the <b>VPN</b>."}

    response = _client(alice).post(reverse("case-message", args=[case.pk]), data)

    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert case.status == "contacted" and case.first_contacted_at is not None
    contact = CaseEvent.objects.get(case=case, kind="contact_logged")
    assert (contact.details["channel"], contact.details["outcome"]) == ("email", "email_sent")
    assert outbox_deliver(CASE_MESSAGES) == 1

    (received,) = mailbox.to("ana@example.com")
    message = received.message
    assert received.subject == f"About your case {case.pk}"
    assert message["Reply-To"] == "alice@desk.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "unsubscribe" in message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "We fixed the <b>VPN</b>." in text and "Alice Adams" in text
    assert "We fixed the &lt;b&gt;VPN&lt;/b&gt;." in html and "<b>VPN" not in html
    assert CaseMessage.objects.get().status == "sent"


def test_an_opt_out_after_writing_suppresses_the_message_at_sending(case, alice, mailbox):
    data = {"msg-subject": "Hello", "msg-body": "A word about your case."}
    _client(alice).post(reverse("case-message", args=[case.pk]), data)
    customer = case.response.customer
    customer.updates_unsubscribed_at = timezone.now()
    customer.save()

    assert outbox_deliver(CASE_MESSAGES) == 0

    assert mailbox.received == []
    message = CaseMessage.objects.get()
    assert (message.status, message.suppressed_reason) == ("suppressed", "unsubscribed")


def test_a_customer_who_opted_out_is_refused_and_nothing_is_stored(case, alice):
    customer = case.response.customer
    customer.updates_unsubscribed_at = timezone.now()
    customer.save()

    response = _client(alice).post(reverse("case-message", args=[case.pk]), {"msg-subject": "Hi", "msg-body": "Hi"})

    assertContains(response, "This customer asked not to be emailed.", status_code=400)
    assert not CaseMessage.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind="contact_logged").exists()


def test_another_agent_cannot_write_from_the_case(case, bob):
    response = _client(bob).post(reverse("case-message", args=[case.pk]), {"msg-subject": "Hi", "msg-body": "Hi"})

    assert response.status_code == 403
    assert not CaseMessage.objects.exists()


def test_with_htmx_the_email_shows_on_the_timeline_in_place(case, alice):
    response = _client(alice).post(
        reverse("case-message", args=[case.pk]),
        {"msg-subject": "About your VPN", "msg-body": "Fixed."},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="case-work"')
    assert "Email sent to the customer." in html
    assert "Channel: Email. Outcome: Email sent." in html and "About your VPN" in html


def test_the_templates_cost_the_case_page_one_query_whatever_their_number(case, alice):
    counts = []
    for number in (1, 8):
        while CustomerMessageTemplate.objects.count() < number:
            message_template_create(name=f"T{CustomerMessageTemplate.objects.count()}", subject="s", body="b")
        with CaptureQueriesContext(connection) as queries:
            _client(alice).get(reverse("case-detail", args=[case.pk]))
        counts.append(len(queries))
    assert counts[0] == counts[1]
