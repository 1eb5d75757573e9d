"""A manager lands on the dashboard, filters it by survey and by segment, and the figures follow."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from surveys.services import responses_ingest
from tests.browser.axe import serious_violations
from tests.browser.conftest import LAPTOP, PAGE_OVERFLOW, sign_in
from tests.factories import PASSWORD, make_survey, response_item

SCREENSHOT = "/tmp/closedloop-dashboard-{size}.png"
MINUS = "\u2212"


@pytest.fixture
def responses(survey) -> None:
    make_survey("onboarding", name="Onboarding")
    items = []
    for score, slug, plan in (
        [(10, "support-2026", "gold")] * 30 + [(0, "onboarding", "basic")] * 30 + [(10, "onboarding", "gold")] * 10
    ):
        item = response_item(score, survey=slug)
        item["customer"]["attributes"] = {"plan": plan}
        items.append(item)
    assert not responses_ingest(items=items).rejected


def test_a_manager_filters_the_dashboard_by_survey_and_segment(screen: Page, live_server, maya, responses):
    sign_in(screen, live_server, "maya", PASSWORD)
    size = "laptop" if screen.viewport_size == LAPTOP else "phone"
    overall = screen.get_by_role("region", name="Selected period")
    # 40 promoters and 30 detractors of 70: +14.3, margin 1.96 * 100 * sqrt((1 - (1/7)^2) / 70) = 23.2.
    expect(overall).to_contain_text("NPS +14.3 ± 23.2")
    expect(overall).to_contain_text("from 70 responses")

    screen.get_by_label("Survey").select_option(label="Onboarding")
    screen.get_by_role("button", name="Apply").click()
    # 10 promoters and 30 detractors of 40: -50, margin 1.96 * 100 * sqrt((1 - 0.25) / 40) = 26.8.
    expect(overall).to_contain_text(f"NPS {MINUS}50.0 ± 26.8")
    expect(overall).to_contain_text("from 40 responses")
    assert "survey=onboarding" in screen.url

    screen.get_by_label("Segment (name:value)").fill("plan:basic")
    screen.get_by_role("button", name="Apply").click()
    expect(overall).to_contain_text(f"NPS {MINUS}100.0 ± 0.0")
    expect(overall).to_contain_text("from 30 responses")
    assert "attribute=plan%3Abasic" in screen.url

    screen.goto(live_server.url + reverse("home") + "?by=attribute:plan")
    expect(screen.locator("#segments-table tr.lagging")).to_contain_text("basic")
    screen.screenshot(path=SCREENSHOT.format(size=size), full_page=True)
    assert screen.evaluate(PAGE_OVERFLOW) == 0, f"the dashboard is wider than the {size} screen"
    assert serious_violations(screen) == []
