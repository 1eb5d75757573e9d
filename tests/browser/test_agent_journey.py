"""An agent works a detractor's case from "My queue" to closed, with htmx updating the page in place,
on a laptop and on a phone: after each action its result (the newest timeline entry) is on screen.

Each page is kept as a screenshot under tests/browser/artifacts/, must fit the screen and has no
serious or critical accessibility violation. The same forms without JavaScript (post, redirect,
get) are covered by the Django client tests in tests/followups/test_agent_case_page.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from followups.models import Case
from followups.services import team_create
from followups.services.coding import resolution_code_create
from followups.services.messages import message_template_create
from tests.browser.axe import serious_violations
from tests.browser.conftest import PAGE_OVERFLOW, sign_in
from tests.factories import PASSWORD, make_response, make_user

SHOTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def routed_case(survey) -> Case:
    """A detractor ingested through the service; its case opens on commit and is routed to alice."""
    make_user("alice", "agent", email="alice@example.com")
    make_user("lena", "agent")
    team_create(slug="desk", name="Service desk", members=["alice"], lead="lena")
    resolution_code_create(slug="fixed", name="Fixed for good")
    make_response(2, customer="C-1042", comment="Took a week to reset my VPN token <b>again</b>")
    case = Case.objects.select_related("owner").get()
    assert case.owner is not None
    assert case.owner.username == "alice"
    return case


def _look(page: Page, name: str) -> None:
    """Keep a screenshot of the page at its size; it fits the screen and passes axe."""
    size = page.viewport_size
    assert size is not None
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"agent-{name}-{size['width']}x{size['height']}.png"), full_page=True)
    assert page.evaluate(PAGE_OVERFLOW) <= 0, f"{name}: the page is wider than the screen"
    assert serious_violations(page) == [], name


def _result_on_screen(page: Page, text: str) -> None:
    """One of the two newest timeline entries says ``text`` (a reached call also records the status it
    changed) and it is within the viewport, without scrolling to it."""
    entry = page.locator("#case-timeline .event:nth-child(-n+2)", has_text=text)
    expect(entry).to_have_count(1)
    expect(entry).to_be_in_viewport()


def test_an_agent_works_the_top_case_of_the_queue_to_closed(screen: Page, live_server, routed_case):
    page = screen
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("queue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue")
    _look(page, "queue")
    page.get_by_role("link", name=f"Case {routed_case.pk}").first.click()
    expect(page).to_have_url(live_server.url + reverse("case-detail", args=[routed_case.pk]))
    expect(page.locator("#case-status")).to_contain_text("Score 2 is at or below the survey's threshold of 3.")
    expect(page.locator("#case-status")).to_contain_text(re.compile(r"First contact, due[\s\S]*of working time left"))
    _look(page, "case-new")

    # A marker on the window survives only if the page is updated in place, not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    page.locator(".case-actions summary").get_by_text("Log a contact", exact=True).click()
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Outcome").select_option("reached")
    page.get_by_role("button", name="Log contact").click()
    expect(page.locator("#case-work").get_by_role("status")).to_have_text("Contact logged.")
    expect(page.locator("#case-status")).to_contain_text("Contacted")
    _result_on_screen(page, "Channel: Phone. Outcome: Reached.")

    page.get_by_role("button", name="Start work").click()
    _result_on_screen(page, "Status changed from Contacted to In progress.")

    page.locator(".case-actions summary").get_by_text("Resolve", exact=True).click()
    page.get_by_label("Resolution code").select_option("fixed")
    page.get_by_role("button", name="Resolve").click()
    _result_on_screen(page, "Status changed from In progress to Resolved.")
    expect(page.locator("#case-timeline .event").first).to_contain_text("Resolution code: Fixed for good")

    page.get_by_role("button", name="Close", exact=True).click()
    _result_on_screen(page, "Status changed from Resolved to Closed.")
    assert page.evaluate("window.stillTheSamePage") is True
    status = page.locator("#case-status")
    for text in ("Resolved", "Closed", "by alice", "Time to resolve"):
        expect(status).to_contain_text(text)
    buttons = page.locator(".case-actions button")
    expect(buttons).to_have_count(1)
    expect(buttons).to_have_text("Reopen")
    _look(page, "case-closed")

    closed = Case.objects.get(pk=routed_case.pk)
    assert closed.status == "closed"
    assert closed.resolution_code is not None and closed.resolution_code.slug == "fixed"
    assert closed.first_contacted_at is not None


def test_an_agent_writes_to_the_customer_from_a_template(screen: Page, live_server, routed_case):
    page = screen
    customer = routed_case.response.customer
    customer.name, customer.email = "Ana Ruiz", "ana@example.com"
    customer.save()
    message_template_create(name="Sorry", subject="About case {case_number}", body="Hello {customer_name},\n\nSorry.")
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("case-detail", args=[routed_case.pk]))

    page.locator(".case-actions summary").get_by_text("Write to the customer", exact=True).click()
    page.get_by_label("Start from").select_option(label="Sorry")
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Subject")).to_have_value(f"About case {routed_case.pk}")
    message = page.get_by_label("Message")
    expect(message).to_have_value("Hello Ana Ruiz,\n\nSorry.")
    message.fill("Hello Ana Ruiz,\n\nSorry about the VPN: it is fixed.")
    _look(page, "case-compose")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Send email").click()

    expect(page.locator("#case-work").get_by_role("status")).to_have_text("Email sent to the customer.")
    _result_on_screen(page, "Channel: Email. Outcome: Email sent.")
    expect(page.locator("#case-status")).to_contain_text("Contacted")  # an email is a first contact
    assert page.evaluate("window.stillTheSamePage") is True
    sent = routed_case.messages.get()
    assert (sent.subject, sent.body) == (
        f"About case {routed_case.pk}",
        "Hello Ana Ruiz,\n\nSorry about the VPN: it is fixed.",
    )


def test_a_refused_change_is_shown_in_place(page: Page, live_server, routed_case):
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("case-detail", args=[routed_case.pk]))

    page.locator(".case-actions summary").get_by_text("Close unresolved", exact=True).click()
    page.get_by_role("button", name="Close unresolved").click()

    expect(page.locator("#case-work")).to_contain_text("Say why a case closes without resolution.")
    expect(page.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Reason")).to_be_visible()  # its folded form is open again
    expect(page.locator("#case-status")).to_contain_text("New")
    assert Case.objects.get(pk=routed_case.pk).status == "new"


def test_the_shortcuts_are_listed_on_question_mark_and_open_the_actions(page: Page, live_server, routed_case):
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("case-detail", args=[routed_case.pk]))

    page.keyboard.press("?")
    overlay = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Add a note")
    page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()

    page.keyboard.press("n")
    expect(page.locator("#id_note-text")).to_be_focused()


@pytest.mark.parametrize(
    ("username", "name", "width"),
    [("alice", "queue", 390), ("alice", "case-detail", 390), ("lena", "team-queue", 390), ("lena", "team-queue", 1280)],
)
def test_the_agent_pages_fit_the_screen(page: Page, live_server, routed_case, username, name, width):
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live_server, username, PASSWORD)

    page.goto(live_server.url + reverse(name, args=[routed_case.pk] if name == "case-detail" else []))

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"queue|Case \d+"))
    # Wide tables scroll inside their own region; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
