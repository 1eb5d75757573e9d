"""A manager turns the worst theme into an improvement in the browser, plans it, and reads its history;
the board, the improvement pages and the themes with their new column fit a laptop and a phone."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from followups.models import Improvement, ImprovementStatusChange, ResponseRootCause, RootCause
from followups.services.coding import root_cause_taxonomy_seed
from followups.services.improvements import improvement_create, improvement_move, improvement_priority_override
from tests.browser.conftest import LAPTOP, sign_in
from tests.browser.test_layout import ON_SCREEN, PAGE_OVERFLOW
from tests.factories import PASSWORD, make_response, make_user

# Set to a folder to keep a screenshot of each page at each size, to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS")


def _coded(score: int, slug: str, comment: str = "") -> None:
    response = make_response(score, comment=comment, submitted_at=timezone.now() - timedelta(days=4))
    ResponseRootCause.objects.create(response=response, root_cause=RootCause.objects.get(slug=slug))


@pytest.fixture
def themes(survey) -> None:
    """The default taxonomy and coded responses: slow first response is the worst theme by far."""
    make_user("helen", "manager", email="helen@example.com")
    root_cause_taxonomy_seed()  # a live-server test starts from a flushed database
    for score in (0, 1, 2, 3):
        _coded(score, "slow-response", "Waited three days before anyone answered the ticket at all.")
    _coded(6, "vpn-access", "VPN drops every hour")
    for _ in range(4):
        make_response(10)


def test_a_manager_creates_an_improvement_from_the_worst_theme_and_plans_it(page: Page, live_server, themes):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "helen", PASSWORD)
    page.goto(live_server.url + reverse("themes"))
    worst = page.locator("table.themes tbody tr").first
    expect(worst).to_contain_text("Slow first response")
    worst.get_by_role("link", name="Create improvement").click()

    expect(page.get_by_role("heading", name="New improvement", level=1)).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Fix: Slow first response")
    page.get_by_label("Owner").select_option("helen")
    page.get_by_label("Message to customers").fill("Every ticket now gets a first answer within the hour.")
    page.get_by_role("button", name="Save the improvement").click()

    improvement = Improvement.objects.get()
    expect(page).to_have_url(live_server.url + reverse("improvement_detail", args=[improvement.pk]))
    expect(page.locator("#improvement-status")).to_have_text("Proposed")
    expect(page.locator("#priority-explanation")).to_contain_text("Raised by 4 customers; their themes cost")
    page.get_by_role("button", name="Move to planned").click()

    expect(page.get_by_text("Moved to planned.")).to_be_visible()
    expect(page.locator("#improvement-status")).to_have_text("Planned")
    rows = page.locator("#status-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("(created)")
    expect(rows.nth(1)).to_contain_text("Proposed")
    expect(rows.nth(1)).to_contain_text("Planned")
    expect(rows.nth(1)).to_contain_text("helen")
    assert list(ImprovementStatusChange.objects.values_list("from_status", "to_status", "actor__username")) == [
        ("", "proposed", "helen"),
        ("proposed", "planned", "helen"),
    ]
    assert list(improvement.root_causes.values_list("slug", flat=True)) == ["slow-response"]


def test_the_board_the_improvement_pages_and_the_themes_fit_the_screen(screen: Page, live_server, themes):
    helen = make_user("olivia", "manager")
    causes = RootCause.objects.in_bulk(["slow-response", "vpn-access", "no-updates"], field_name="slug")
    long_title = "Staff the morning shift so that every ticket opened before nine gets a first answer within the hour"
    first = improvement_create(
        title=long_title, actor=helen, root_causes=list(causes.values()), owner=helen, target_date=timezone.localdate()
    )
    improvement_priority_override(improvement=first, score=1200, reason="The service review with the board is in May")
    for status in ("planned", "in_progress", "declined"):
        made = improvement_create(title=f"An improvement now {status}", actor=helen, root_causes=[causes["vpn-access"]])
        improvement_move(improvement=made, to_status=status, actor=helen)
    sign_in(screen, live_server, "olivia", PASSWORD)
    size = "laptop" if screen.viewport_size == LAPTOP else "phone"
    for name, url in (
        ("board", reverse("improvement_board")),
        ("detail", reverse("improvement_detail", args=[first.pk])),
        ("new", reverse("improvement_create") + "?root_cause=slow-response"),
        ("themes", reverse("themes")),  # with its "Create improvement" column
    ):
        screen.goto(live_server.url + url)
        if SCREENSHOTS:
            screen.screenshot(path=str(Path(SCREENSHOTS) / f"improvements-{name}-{size}.png"), full_page=True)
        assert screen.evaluate(PAGE_OVERFLOW) == 0, f"the {name} page is wider than the {size} screen"
        for button in screen.locator("main button, main .button").all():
            assert button.evaluate(ON_SCREEN), f"{button.inner_text()!r} is off screen on the {name} page"
