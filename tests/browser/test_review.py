"""A manager codes uncoded comments from the review page with the keyboard: filter, accept, skip, code by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from followups.models import ResponseRootCause, SuggestionDecision
from followups.services.coding import root_cause_taxonomy_seed
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.browser.test_layout import ON_SCREEN, PAGE_OVERFLOW
from tests.factories import PASSWORD, make_response, make_survey, make_user

NOW = datetime.now(UTC)


def test_a_manager_filters_accepts_with_the_keyboard_skips_one_and_codes_one_by_hand(page: Page, live_server):
    make_user("helen", "manager")
    make_survey()
    make_survey("onboarding")
    root_cause_taxonomy_seed()  # a live-server test starts from a flushed database
    vpn = make_response(7, comment="The VPN drops every hour", submitted_at=NOW - timedelta(hours=1))
    later = make_response(10, comment="Quick and friendly, thanks", submitted_at=NOW - timedelta(hours=2))
    odd = make_response(8, comment="The badge reader ignores me", submitted_at=NOW - timedelta(hours=3))
    elsewhere = make_response(7, survey="onboarding", comment="My laptop is broken", submitted_at=NOW)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "helen", PASSWORD)

    page.goto(live_server.url + reverse("review"))
    expect(page.get_by_role("heading", name="Review comments", level=1)).to_be_visible()
    expect(page.get_by_text("4 comments to code")).to_be_visible()
    page.get_by_label("Survey").select_option("support-2026")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("3 comments to code")).to_be_visible()
    expect(page.get_by_text("My laptop is broken")).to_have_count(0)

    first = page.locator(f"#comment-{vpn.pk}")
    expect(first).to_have_class("card review-item review-item--current")
    expect(first.get_by_text('mentions "vpn"')).to_be_visible()
    page.keyboard.press("a")  # accept the top suggestion of the current comment
    expect(first.get_by_text("Coded as VPN and remote access.").first).to_be_visible()
    second = page.locator(f"#comment-{later.pk}")
    expect(second).to_have_class("card review-item review-item--current")
    page.keyboard.press("s")  # skip it
    expect(second.get_by_text("Skipped")).to_be_visible()

    third = page.locator(f"#comment-{odd.pk}")
    expect(third).to_have_class("card review-item review-item--current")
    expect(third.get_by_text("No suggestion: pick a cause, or skip.")).to_be_visible()
    third.get_by_label("Code by hand").select_option("unclear-instructions")
    third.get_by_role("button", name="Code", exact=True).click()
    expect(third.get_by_text("Coded as Unclear instructions")).to_be_visible()

    codes = {code.response_id: (code.root_cause.slug, code.source) for code in ResponseRootCause.objects.all()}
    assert codes == {vpn.pk: ("vpn-access", "suggestion"), odd.pk: ("unclear-instructions", "manager")}
    decision = SuggestionDecision.objects.get()
    assert (decision.response_id, decision.accepted, decision.source) == (vpn.pk, True, "keyword")
    assert not ResponseRootCause.objects.filter(response__in=[later, elsewhere]).exists()

    page.reload()  # the skipped comment stays out of this session's review; the coded ones are done
    expect(page.get_by_text("0 comments to code, not counting 1 you skipped")).to_be_visible()


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_review_page_fits_the_screen(page: Page, live_server, size):
    make_user("helen", "manager")
    make_survey()
    root_cause_taxonomy_seed()
    make_response(7, comment="The VPN drops, my laptop is slow and the printer jams: " + "really " * 40)
    page.set_viewport_size(size)
    sign_in(page, live_server, "helen", PASSWORD)
    page.goto(live_server.url + reverse("review"))
    assert page.evaluate(PAGE_OVERFLOW) == 0
    buttons = page.locator("[data-review-item] button, [data-review-item] select")
    assert buttons.count() >= 8
    for index in range(buttons.count()):
        assert buttons.nth(index).evaluate(ON_SCREEN), buttons.nth(index).inner_text()
