"""Survey invitations by email through the one outbox: eleven working links, opt-outs at the
moment of sending, retries, one-click stop, and at most one reminder."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from followups.retries import EMAIL_RETRIES
from followups.services.delivery import invitations_deliver, invitations_remind
from surveys.models import Customer, Invitation
from surveys.services.invitations import invitation_answer, invitation_create
from tests.followups.smtp import smtp_server, smtp_server_down

LINK = re.compile(r"https?://\S+")


@pytest.fixture
def invited(survey, settings):
    settings.SITE_URL = "http://testserver"
    survey.sender_name, survey.reply_to = "Acme IT", "servicedesk@example.com"
    survey.save()

    def invite(external_id: str = "C-1", **fields) -> Invitation:
        customer = {"external_id": external_id, "email": f"{external_id.lower()}@example.com", "name": "Pat Doe"}
        return invitation_create(survey=survey, customer=customer, **fields).invitation

    return invite


def test_a_due_invitation_arrives_with_the_question_eleven_score_links_and_the_opt_outs(invited, survey, client):
    invitation = invited()

    with smtp_server() as mailbox:
        assert invitations_deliver() == 1

    (received,) = mailbox.received
    message = received.message
    assert received.recipients == ["c-1@example.com"]
    assert message["Subject"] == survey.question
    assert message["From"] == "Acme IT <noreply@localhost>"
    assert message["Reply-To"] == "servicedesk@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    score_links = [url for url in LINK.findall(text) if "?score=" in url]
    assert [url.rsplit("=", 1)[1] for url in score_links] == [str(score) for score in range(11)]
    assert all(f'href="{url}"' in html for url in score_links)
    assert "Hello Pat Doe" in text
    # Each link opens the survey with its score chosen.
    page = client.get(urlsplit(score_links[7]).path + "?" + urlsplit(score_links[7]).query)
    assert page.status_code == 200 and 'value="7" checked' in page.content.decode()
    # The List-Unsubscribe link stops surveys in one POST, without a CSRF token.
    stop = message["List-Unsubscribe"].strip().strip("<>")
    assert Client(enforce_csrf_checks=True).post(urlsplit(stop).path).status_code == 200
    assert Customer.objects.get(external_id="C-1").surveys_unsubscribed_at is not None
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts, invitation.subject) == ("sent", 1, survey.question)
    assert invitation.sent_at is not None and "?score=10" in invitation.body


def test_an_invitation_waits_for_its_time_and_is_never_sent_twice(invited):
    later = invited(send_at=timezone.now() + timedelta(hours=2))

    with smtp_server() as mailbox:
        assert invitations_deliver() == 0
        assert invitations_deliver(now=later.send_at + timedelta(seconds=1)) == 1
        assert invitations_deliver(now=later.send_at + timedelta(hours=1)) == 0
    assert len(mailbox.received) == 1


def test_a_customer_who_stops_surveys_after_scheduling_gets_nothing(invited):
    invitation = invited()
    Customer.objects.filter(external_id="C-1").update(surveys_unsubscribed_at=timezone.now())

    with smtp_server() as mailbox:
        assert invitations_deliver() == 0

    assert mailbox.received == []
    invitation.refresh_from_db()
    assert (invitation.status, invitation.reason) == ("suppressed", "unsubscribed")


def test_an_unreachable_server_retries_with_backoff_then_gives_up(invited):
    invitation = invited()
    now = timezone.now()
    with smtp_server_down():
        for attempt in range(1, EMAIL_RETRIES.attempts + 1):
            invitations_deliver(now=now)
            invitation.refresh_from_db()
            assert invitation.attempts == attempt
            now = invitation.next_attempt_at + timedelta(seconds=1)
    assert invitation.status == "failed"
    assert invitation.last_error


def test_one_reminder_goes_to_an_unanswered_invitation_when_the_survey_asks_for_it(invited, survey):
    survey.reminder_after_days = 3
    survey.save()
    quiet, answered = invited("C-1"), invited("C-2")
    with smtp_server() as mailbox:
        invitations_deliver()
        invitation_answer(invitation=answered, score=9)
        Invitation.objects.update(sent_at=timezone.now() - timedelta(days=4))

        assert invitations_remind() == 1
        assert invitations_deliver() == 1
        assert invitations_remind() == 0  # once at most
        assert invitations_deliver() == 0

    reminder = mailbox.to("c-1@example.com")[-1]
    assert reminder.subject.startswith("Reminder: ")
    assert len(mailbox.to("c-1@example.com")) == 2 and len(mailbox.to("c-2@example.com")) == 1
    quiet.refresh_from_db()
    assert quiet.status == "sent" and quiet.reminded_at is not None


def test_no_reminder_by_default(invited):
    invited()
    with smtp_server():
        invitations_deliver()
    Invitation.objects.update(sent_at=timezone.now() - timedelta(days=30))
    assert invitations_remind() == 0
