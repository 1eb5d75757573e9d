"""An agent works a detractor's case from "My queue" to resolved, with htmx updating the page in place.

The same forms without JavaScript (post, redirect, get) are covered by the Django client tests in
tests/followups/test_agent_case_page.py.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from followups.models import Case
from followups.services import team_create
from followups.services.coding import resolution_code_create
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, make_response, make_user


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


def test_an_agent_logs_a_call_and_resolves_the_top_case_of_the_queue(page: Page, live_server, routed_case):
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("queue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue")
    top_row = page.locator("table.queue tbody tr").first
    expect(top_row).to_contain_text("Took a week to reset my VPN token <b>again</b>")  # shown as text
    top_row.get_by_role("link", name=f"Case {routed_case.pk}").click()
    expect(page).to_have_url(live_server.url + reverse("case-detail", args=[routed_case.pk]))

    # A marker on the window survives only if the page is updated in place, not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Outcome").select_option("reached")
    page.get_by_role("button", name="Log contact").click()

    work = page.locator("#case-work")
    expect(work.get_by_role("status")).to_have_text("Contact logged.")
    expect(page.locator("#case-status")).to_contain_text("Contacted")
    expect(page.locator("#case-timeline")).to_contain_text("Channel: Phone. Outcome: Reached.")
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.get_by_role("button", name="Log contact")).to_be_focused()  # the focus stays where it was

    page.get_by_label("New status").select_option("resolved")
    page.get_by_label("Resolution code").select_option("fixed")
    page.get_by_role("button", name="Change status").click()

    expect(work.get_by_role("status")).to_have_text("Status changed.")
    expect(page.locator("#case-status")).to_contain_text("Resolved")
    expect(page.locator("#case-timeline")).to_contain_text("Status changed from Contacted to Resolved.")
    assert page.evaluate("window.stillTheSamePage") is True

    page.goto(live_server.url + reverse("queue"))
    expect(page.get_by_text("No open cases.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Case {routed_case.pk}")).to_have_count(0)
    resolved = Case.objects.get(pk=routed_case.pk)
    assert resolved.resolution_code is not None
    assert (resolved.status, resolved.resolution_code.slug) == ("resolved", "fixed")
    assert resolved.first_contacted_at is not None


def test_a_refused_change_is_shown_in_place(page: Page, live_server, routed_case):
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("case-detail", args=[routed_case.pk]))

    page.get_by_label("New status").select_option("closed")
    page.get_by_role("button", name="Change status").click()

    expect(page.locator("#case-work")).to_contain_text("Say why a case closes without resolution.")
    expect(page.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#case-status")).to_contain_text("New")
    assert Case.objects.get(pk=routed_case.pk).status == "new"


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
