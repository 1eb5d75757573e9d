"""A customer answers a survey from an invitation's score link on a phone, by keyboard alone,
and with JavaScript off; the page fits the screen and says what happens next."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from followups.models import Case
from followups.services import team_create
from surveys.models import Response
from surveys.services.invitations import invitation_create, score_urls
from tests.browser.axe import serious_violations
from tests.browser.conftest import PHONE
from tests.browser.test_layout import PAGE_OVERFLOW

SHOTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def links(survey, alice, taxonomy, live_server, settings) -> list[str]:
    settings.SITE_URL = live_server.url
    team_create(slug="desk", name="Service desk", members=["alice"], lead="alice")
    invited = invitation_create(survey=survey, customer={"external_id": "C-1", "email": "pat@example.com"})
    return score_urls(invited.invitation)


def test_a_customer_answers_from_a_score_link_on_a_phone_with_the_keyboard(page: Page, links):
    page.set_viewport_size(PHONE)
    page.goto(links[3])

    expect(page.get_by_role("radio", name="3")).to_be_checked()
    expect(page.get_by_label("What went wrong?")).to_be_visible()
    assert page.evaluate(PAGE_OVERFLOW) == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "survey-answer-phone.png"), full_page=True)

    page.get_by_role("radio", name="3").focus()
    page.keyboard.press("ArrowLeft")  # the arrows move the choice within the scale
    expect(page.get_by_role("radio", name="2")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("What went wrong?")).to_be_focused()
    page.keyboard.type("Nobody called me back about the VPN.")
    # What it was about, then whether to be contacted: each a group of radios, chosen by arrows.
    topics = page.get_by_role("group", name="What was this about?")
    expect(topics).to_be_visible()
    page.keyboard.press("Tab")
    expect(topics.get_by_role("radio").first).to_be_focused()
    topics.get_by_role("radio", name="Technology").focus()
    page.keyboard.press("Space")
    expect(topics.get_by_role("radio", name="Technology")).to_be_checked()
    page.keyboard.press("Tab")
    contact = page.get_by_role("group", name="May we contact you about your answer?")
    expect(contact.get_by_role("radio", name="Please contact me")).to_be_focused()
    page.keyboard.press("Space")
    expect(contact.get_by_role("radio", name="Please contact me")).to_be_checked()
    assert page.evaluate(PAGE_OVERFLOW) == 0
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "survey-answer-phone-choices.png"), full_page=True)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Someone from our team will contact you shortly.")).to_be_visible()
    response = Response.objects.get()
    assert (response.score, response.channel, response.comment) == (2, "email", "Nobody called me back about the VPN.")
    assert response.contact_preference == "contact"
    assert set(response.root_cause_codes.values_list("root_cause__slug", "source")) == {("technology", "customer")}
    assert Case.objects.filter(response=response).exists()


def test_the_question_follows_the_score_chosen(page: Page, links):
    page.set_viewport_size(PHONE)
    page.goto(links[0].split("?")[0])
    expect(page.get_by_label("What is the main reason for your score?")).to_be_visible()

    page.get_by_role("radio", name="10").click()
    expect(page.get_by_label("What did we do well?")).to_be_visible()
    page.get_by_role("radio", name="7").click()
    expect(page.get_by_label("What would make it a 9 or 10?")).to_be_visible()


def test_the_survey_works_without_javascript(browser: Browser, links):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(links[9])
        page.get_by_label("What did we do well?").fill("Quick and kind")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    assert Response.objects.get().score == 9
