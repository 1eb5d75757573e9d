"""The whole outer loop in the browser: the worst theme becomes an improvement that is previewed
and shipped, every customer who raised it gets one email quoting their own words, and the
improvement page shows the deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from followups.models import CustomerUpdate, Improvement, ResponseRootCause, RootCause
from followups.services.coding import root_cause_taxonomy_seed
from surveys.models import Customer
from tests.browser.conftest import LAPTOP, sign_in
from tests.factories import PASSWORD, make_response, make_user
from tests.followups.smtp import smtp_server

WORDS = {
    "C-1": "Waited three days before anyone answered my ticket.",
    "C-2": "Nobody replied for a week & I had to call.",
    "C-3": "Slow <b>first</b> answer, then fine.",
}


@pytest.fixture
def themes(survey, settings, live_server):
    settings.SITE_URL = live_server.url
    make_user("helen", "manager", email="helen@example.com")
    root_cause_taxonomy_seed()  # a live-server test starts from a flushed database
    slow = RootCause.objects.get(slug="slow-response")
    for external_id, comment in WORDS.items():
        response = make_response(
            2, customer=external_id, comment=comment, submitted_at=timezone.now() - timedelta(days=3)
        )
        ResponseRootCause.objects.create(response=response, root_cause=slow)
    for external_id in WORDS:
        Customer.objects.filter(external_id=external_id).update(email=f"{external_id.lower()}@example.com")
    # One who raised it and unsubscribed from updates: told nothing.
    gone = make_response(1, customer="C-4", comment="Too slow", submitted_at=timezone.now() - timedelta(days=2))
    ResponseRootCause.objects.create(response=gone, root_cause=slow)
    Customer.objects.filter(external_id="C-4").update(email="c-4@example.com", updates_unsubscribed_at=timezone.now())
    for _ in range(4):
        make_response(10)


def test_a_manager_ships_the_worst_theme_as_an_improvement_and_each_customer_hears_once(
    page: Page, live_server, themes
):
    page.set_viewport_size(LAPTOP)
    with smtp_server() as mailbox:
        sign_in(page, live_server, "helen", PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Themes").click()
        worst = page.locator("table.themes tbody tr").first
        expect(worst).to_contain_text("Slow first response")
        worst.get_by_role("link", name="Create improvement").click()

        page.get_by_label("Owner").select_option("helen")
        page.get_by_label("Message to customers").fill("Every ticket now gets a first answer within the hour.")
        page.get_by_role("button", name="Save the improvement").click()
        improvement = Improvement.objects.get()
        expect(page.locator("#improvement-status")).to_have_text("Proposed")

        page.get_by_role("link", name="Preview and ship").click()
        reach = page.get_by_role("region", name="Who it reaches")
        expect(reach).to_contain_text("3 customers will get the email")
        expect(reach).to_contain_text("1: unsubscribed")
        expect(page.get_by_role("region", name="Ship it")).to_be_visible()
        page.get_by_label("I have read the email and want to send it to these customers").check()
        page.get_by_role("button", name="Ship and send 3 updates").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("Updates sent for")
        page.goto(live_server.url + reverse("improvement_detail", args=[improvement.pk]))
        expect(page.locator("#improvement-status")).to_have_text("Shipped")
        deliveries = page.get_by_role("region", name="Customer updates")
        expect(deliveries.locator(".count", has_text="Sent")).to_contain_text("3")
        expect(deliveries.locator(".count", has_text="Suppressed")).to_contain_text("1")

        # Shipping again sends nothing.
        page.goto(live_server.url + reverse("improvement_ship", args=[improvement.pk]))
        expect(page.get_by_role("button", name="Ship and send")).to_have_count(0)

    for external_id, words in WORDS.items():
        (email,) = mailbox.to(f"{external_id.lower()}@example.com")
        plain = email.message.get_body(("plain",))
        assert plain is not None
        text = plain.get_content()
        assert words in text
        assert "Every ticket now gets a first answer within the hour." in text
    assert mailbox.to("c-4@example.com") == []
    assert len(mailbox.received) == 3
    assert CustomerUpdate.objects.filter(improvement=improvement, status="sent").count() == 3
