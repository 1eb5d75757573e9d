"""The public survey page: answer from a link, a thank-you by category, changes within the window,
and a clear page for every link that cannot take an answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from followups.models import Case
from followups.services import team_create
from surveys.models import Invitation, Response
from surveys.services.invitations import invitation_create, invitation_token


@pytest.fixture(autouse=True)
def fresh_limits(db):
    caches["throttle"].clear()


@pytest.fixture
def invitation(survey, alice) -> Invitation:
    team_create(slug="desk", name="Service desk", members=["alice"], lead="alice")
    survey.review_url = "https://reviews.example.com/acme"
    survey.save()
    made = invitation_create(
        survey=survey, customer={"external_id": "C-1", "email": "pat@example.com"}, channel="sms", ticket_ref="INC-3"
    )
    return made.invitation


def page(invitation: Invitation) -> str:
    return reverse("survey-answer", args=[invitation_token(invitation)])


def test_a_score_link_opens_the_page_with_the_score_chosen_and_its_question(client, invitation):
    response = client.get(page(invitation), {"score": "3"})

    assert response.status_code == 200
    html = response.content.decode()
    assert invitation.survey.question in html
    assert 'value="3" checked' in html
    assert "What went wrong?" in html
    assert "someone from our team may contact you" in html


def test_the_plain_link_asks_a_general_question_and_chooses_nothing(client, invitation):
    html = client.get(page(invitation)).content.decode()
    assert "checked" not in html
    assert "What is the main reason for your score?" in html


def test_answering_stores_a_response_on_the_invited_channel_and_opens_a_case_for_a_detractor(
    client, invitation, django_capture_on_commit_callbacks
):
    url = page(invitation)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"score": "2", "comment": "Nobody called back <script>x</script>"})

    assert response.status_code == 302
    assert response["Location"] == url + "thanks/"
    stored = Response.objects.get()
    assert (stored.score, stored.channel, stored.ticket_ref) == (2, "sms", "INC-3")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.response) == ("answered", stored)
    assert Case.objects.filter(response=stored).exists()
    thanks = client.get(response["Location"]).content.decode()
    assert escape(invitation.survey.thank_you_detractor) in thanks
    assert "Leave a review" not in thanks
    # The comment shows escaped when the page is opened again.
    again = client.get(page(invitation)).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in again and "<script>x" not in again


def test_a_promoter_is_invited_to_leave_a_review(client, invitation):
    response = client.post(page(invitation), {"score": "10"}, follow=True)

    assert escape(invitation.survey.thank_you_promoter) in response.content.decode()
    assert 'href="https://reviews.example.com/acme"' in response.content.decode()


def test_submitting_twice_stores_one_response(client, invitation):
    client.post(page(invitation), {"score": "8"})
    client.post(page(invitation), {"score": "8"})
    assert Response.objects.count() == 1


def test_the_answer_can_be_changed_within_the_window_and_not_after(client, invitation):
    client.post(page(invitation), {"score": "4", "comment": "Slow"})

    changed = client.post(page(invitation), {"score": "9", "comment": "Sorted after all"})

    assert changed.status_code == 302
    stored = Response.objects.get()
    assert (stored.score, stored.category, stored.comment) == (9, "promoter", "Sorted after all")
    with time_machine.travel(timezone.now() + timedelta(hours=invitation.survey.edit_window_hours + 1)):
        closed = client.get(page(invitation)).content.decode()
        refused = client.post(page(invitation), {"score": "0"})
    assert "The time to change this answer has passed." in closed
    assert "<form" not in closed.split("<main", 1)[1]
    assert refused.status_code == 400
    assert Response.objects.get().score == 9


@pytest.mark.parametrize(
    ("data", "field"), [({"score": "11"}, "score"), ({}, "score"), ({"score": "5", "comment": "x" * 5001}, "comment")]
)
def test_bad_answers_are_a_400_with_the_reason_and_store_nothing(client, invitation, data, field):
    response = client.post(page(invitation), data)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert f'id="{field}-error"' in response.content.decode()
    assert not Response.objects.exists()


def test_a_tampered_link_gets_a_clear_page(client, invitation):
    token = invitation_token(invitation)
    response = client.get(reverse("survey-answer", args=[token[:-2] + ("aa" if not token.endswith("aa") else "bb")]))
    assert response.status_code == 404
    assert "This survey link does not work" in response.content.decode()
    assert client.get(reverse("survey-answer", args=["nonsense"])).status_code == 404


def test_an_expired_link_gets_a_clear_page(client, invitation, settings):
    url = page(invitation)
    with time_machine.travel(timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS + 1)):
        response = client.get(url)
    assert response.status_code == 410
    assert "This survey link has expired" in response.content.decode()


def test_a_suppressed_invitation_takes_no_answer(client, invitation, survey):
    Invitation.objects.filter(pk=invitation.pk).update(status="suppressed", reason="quarantine")
    response = client.post(page(invitation), {"score": "9"})
    assert response.status_code == 410
    assert not Response.objects.exists()


def test_answers_are_limited_per_invitation_whatever_link_they_come_by(client, invitation):
    codes = [client.post(page(invitation), {"score": "x"}).status_code for _ in range(11)]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429
    assert client.post(page(invitation), {"score": "9"}).status_code == 429  # a valid one too, now


def test_the_form_needs_its_csrf_token_and_other_methods_are_refused(client, invitation):
    assert Client(enforce_csrf_checks=True).post(page(invitation), {"score": "9"}).status_code == 403
    assert client.put(page(invitation)).status_code == 405
    assert not Response.objects.exists()


def test_thanks_before_answering_goes_back_to_the_question(client, invitation):
    response = client.get(reverse("survey-thanks", args=[invitation_token(invitation)]))
    assert response.status_code == 302
    assert response["Location"] == page(invitation)


def test_requests_are_limited_per_client_address_tampered_links_included(client, invitation, monkeypatch):
    monkeypatch.setattr("surveys.survey_page.REQUESTS_PER_ADDRESS", "3/h")
    codes = [client.get(reverse("survey-answer", args=[f"forged-{n}"])).status_code for n in range(3)]
    limited = client.get(page(invitation))

    assert codes == [404, 404, 404]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    assert "Please wait a moment" in limited.content.decode()
