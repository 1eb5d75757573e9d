"""In Chromium, on a laptop and a phone: a manager previews an improvement's update email, ships it,
and sees the deliveries; the customer's pages from the email's links fit the screen too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from followups.models import CustomerUpdate, Improvement, ResponseRootCause, RootCause
from followups.services.coding import root_cause_taxonomy_seed
from followups.services.delivery import customer_updates_deliver
from surveys.customer_links import Purpose, customer_url
from surveys.models import Customer
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.browser.test_layout import PAGE_OVERFLOW
from tests.factories import PASSWORD, make_improvement, make_response, make_user

LONG_COMMENT = (
    "The VPN drops every twenty minutes and nobody could tell me why, so I lost a morning of work "
    "and had to redo the whole quarterly report from the office instead."
)
# Set to a folder to keep the screenshots of each size for a person to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS")


@pytest.fixture(params=[LAPTOP, PHONE], ids=["laptop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=request.param)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def improvement(survey) -> Improvement:
    make_user("helen", "manager", email="helen@example.com")
    root_cause_taxonomy_seed()
    vpn = RootCause.objects.get(slug="vpn-access")
    for number in range(3):
        who = Customer.objects.create(
            external_id=f"C-2000{number}", email=f"c{number}@example.com", name=f"Alexandra Montgomery-Smythe {number}"
        )
        response = make_response(
            3, customer=who.external_id, comment=LONG_COMMENT, submitted_at=timezone.now() - timedelta(days=4)
        )
        ResponseRootCause.objects.create(response=response, root_cause=vpn)
    return make_improvement(
        "VPN client rolled back and a second gateway added",
        vpn,
        customer_message="We rolled the faulty client update back and added a second gateway.",
    )


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        size = "laptop" if page.viewport_size == LAPTOP else "phone"
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{size}.png"), full_page=True)


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_a_manager_previews_ships_and_sees_the_deliveries(screen: Page, live_server, improvement):
    sign_in(screen, live_server, "helen", PASSWORD)
    screen.goto(live_server.url + reverse("improvement_ship", args=[improvement.pk]))
    expect(screen.get_by_text("3 customers will get the email", exact=False)).to_be_visible()
    expect(screen.frame_locator("iframe.ship-html").locator("blockquote")).to_contain_text("The VPN drops")
    assert screen.evaluate(PAGE_OVERFLOW) == 0
    _shot(screen, "ship-preview")
    screen.get_by_label("I have read the email").check()
    screen.get_by_role("button", name="Ship and send 3 updates").click()
    expect(screen.get_by_text("Shipped: 3 updates queued, 0 suppressed.")).to_be_visible()
    customer_updates_deliver()
    screen.reload()
    expect(screen.get_by_role("heading", name="Deliveries")).to_be_visible()
    expect(screen.locator(".ship-counts")).to_contain_text("3 sent")
    assert screen.evaluate(PAGE_OVERFLOW) == 0
    _shot(screen, "ship-deliveries")
    assert CustomerUpdate.objects.filter(improvement=improvement, status="sent").count() == 3


def test_the_customer_pages_fit_the_screen(screen: Page, live_server, improvement):
    customer = Customer.objects.get(external_id="C-20000")
    now = timezone.now()
    Improvement.objects.filter(pk=improvement.pk).update(status="shipped", shipped_at=now)
    CustomerUpdate.objects.create(
        improvement=improvement,
        customer=customer,
        response=customer.responses.get(),
        status="sent",
        sent_at=now,
        next_attempt_at=now,
        created_at=now,
    )
    for purpose in Purpose:
        screen.goto(customer_url(customer.pk, purpose).replace("http://127.0.0.1:8000", live_server.url))
        expect(screen.locator("h1")).to_be_visible()
        assert screen.evaluate(PAGE_OVERFLOW) == 0, purpose
        _shot(screen, f"customer-{purpose}")
    screen.goto(customer_url(customer.pk, Purpose.UNSUBSCRIBE).replace("http://127.0.0.1:8000", live_server.url))
    screen.get_by_role("button", name="Unsubscribe").click()
    expect(screen.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    customer.refresh_from_db()
    assert customer.updates_unsubscribed_at is not None
