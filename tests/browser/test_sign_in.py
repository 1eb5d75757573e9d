"""A manager's first visit: sign in, read the NPS, sign out again with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, sign_in
from tests.factories import PASSWORD, make_response

SCREENSHOT = "/tmp/closedloop-home-phone.png"


@pytest.fixture
def responses(survey) -> None:
    # 18 promoters, 6 passives, 6 detractors (enough for an NPS: 30): NPS 40,
    # margin 1.96 * 100 * sqrt((0.8 - 0.16) / 30) = 28.6.
    for score in (10, 9, 9, 7, 3) * 6:
        make_response(score, comment="The VPN token reset took a week." if score < 7 else "")


def test_a_manager_signs_in_reads_the_nps_and_signs_out_with_the_keyboard(page: Page, live_server, maya, responses):
    sign_in(page, live_server, "maya", PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("region", name="Selected period")).to_contain_text("NPS +40.0 ± 28.6")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Admin")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    sign_out = page.get_by_role("button", name="Sign out")
    # Past the brand, a manager's navigation (its Manage menu closed) and My settings: twelve presses at most.
    for _ in range(12):
        page.keyboard.press("Tab")
        if sign_out.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Sign out cannot be reached with the Tab key")
    assert sign_out.evaluate("button => getComputedStyle(button).outlineStyle") == "solid"
    page.keyboard.press("Enter")

    expect(page).to_have_url(live_server.url + reverse("login"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(live_server.url + reverse("home"))
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + r"\?next=/$"))


def test_the_home_page_fits_a_phone_screen(page: Page, live_server, maya, responses):
    make_response(2, comment="x" * 300)  # one long unbroken word must wrap, not widen the page
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "maya", PASSWORD)

    page.screenshot(path=SCREENSHOT, full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
