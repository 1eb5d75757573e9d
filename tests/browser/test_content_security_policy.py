"""The pages and the API docs work in a browser that enforces the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, make_response

# Injected by the browser's tooling, so the policy does not apply to it: it records each refusal.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:
    page.add_init_script(RECORD_VIOLATIONS)
    yield page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations")


def test_the_api_docs_render_under_the_policy(watched: Page, live_server):
    watched.goto(live_server.url + reverse("api-docs"))
    expect(watched.get_by_text("/api/v1/auth/token/").first).to_be_visible()
    assert violations(watched) == []


def test_the_home_page_draws_its_nps_bar_under_the_policy(watched: Page, live_server, maya, survey):
    for score in (10, 9, 3):
        make_response(score)
    sign_in(watched, live_server, "maya", PASSWORD)
    promoters = watched.locator(".mix__part--promoter").first.bounding_box()
    bar = watched.locator(".mix").first.bounding_box()
    assert promoters is not None and bar is not None
    # Two promoters of three: two thirds of the bar.
    assert promoters["width"] == pytest.approx(bar["width"] * 2 / 3, abs=1)
    assert violations(watched) == []
