"""An agent finds a case by searching for its customer and records a phone answer on the customer's
page; a lead reassigns a case on the team queue and assigns three at once. Each at a laptop's and a
phone's size, with no sideways scrolling, no serious accessibility violation, and a screenshot of
each page kept in tests/browser/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from followups.models import Case
from followups.services import team_create
from surveys.models import Customer, Response
from tests.browser.axe import serious_violations
from tests.browser.conftest import PAGE_OVERFLOW, sign_in
from tests.factories import PASSWORD, make_response, make_user

SHOTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def desk(survey) -> list[Case]:
    """Team desk (alice, bob; lena leads it) with four detractor cases routed to its agents."""
    make_user("alice", "agent")
    make_user("bob", "agent")
    make_user("lena", "agent")
    team_create(slug="desk", name="Service desk", members=["alice", "bob"], lead="lena")
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson"]
    for n, name in enumerate(names):
        response = make_response(2, customer=f"CUST-{n}", comment=f"The VPN dropped again, attempt {n}")
        Customer.objects.filter(pk=response.customer_id).update(name=name, email=f"c{n}@example.com")
    return list(Case.objects.order_by("pk"))


def _looked_at(page: Page, name: str) -> None:
    """No sideways scroll, no serious accessibility violation; a screenshot kept."""
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    assert serious_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_an_agent_finds_a_case_by_its_customer_and_records_a_phone_answer(screen: Page, live_server, desk, survey):
    grace = Case.objects.get(response__customer__name="Grace Hopper")
    owner = grace.owner
    assert owner is not None
    sign_in(screen, live_server, owner.username, PASSWORD)
    screen.goto(live_server.url + reverse("queue"))
    _looked_at(screen, "queue")

    screen.get_by_label("Search").fill("hopper")
    screen.get_by_role("button", name="Filter").click()
    rows = screen.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    expect(screen.locator(".count").first).to_contain_text("1")
    _looked_at(screen, "queue-search")

    rows.first.get_by_role("link", name="Grace Hopper").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    expect(screen.get_by_text("The VPN dropped again, attempt 1")).to_be_visible()
    _looked_at(screen, "customer")

    screen.get_by_label("Score (0 to 10)").select_option("4")
    screen.get_by_label("What they said").fill("Better, but the VPN still drops")
    screen.get_by_role("button", name="Record the answer").click()
    expect(screen.get_by_text("The phone answer is recorded.")).to_be_visible()
    expect(screen.get_by_text("Better, but the VPN still drops")).to_be_visible()
    answer = Response.objects.get(comment="Better, but the VPN still drops")
    assert answer.channel == "phone"
    assert Case.objects.filter(response=answer).exists()


def test_a_bad_phone_answer_is_shown_inline(page: Page, live_server, desk, survey):
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(live_server.url + reverse("customer-detail", args=["CUST-0"]))
    page.get_by_role("button", name="Record the answer").click()

    expect(page.locator("#id_phone-score-error")).to_have_text("This field is required.")
    assert not Response.objects.filter(channel="phone").exists()


def test_a_lead_reassigns_one_case_and_assigns_three_at_once(screen: Page, live_server, desk):
    sign_in(screen, live_server, "lena", PASSWORD)
    screen.goto(live_server.url + reverse("team-queue"))
    reassign = screen.get_by_role("button", name=f"Reassign case {desk[0].pk}")
    expect(reassign).to_be_visible()
    box, viewport = reassign.bounding_box(), screen.viewport_size
    assert box is not None and viewport is not None
    assert box["x"] + box["width"] <= viewport["width"]  # Reassign is on screen, not past its right edge
    _looked_at(screen, "team-queue")

    screen.get_by_label(f"Owner of case {desk[0].pk}").select_option(label="lena")
    reassign.click()
    expect(screen.locator(f"#case-row-{desk[0].pk}").get_by_role("status")).to_have_text("Owner changed.")
    assert Case.objects.filter(pk=desk[0].pk, owner__username="lena").exists()

    for case in desk[1:]:
        screen.get_by_label(f"Select case {case.pk}").check()
    screen.get_by_label("Assign the selected cases to").select_option(label="bob")
    screen.get_by_role("button", name="Change selected").click()
    expect(screen.get_by_text("Assigned to bob:")).to_be_visible()
    assert set(Case.objects.filter(pk__in=[c.pk for c in desk[1:]]).values_list("owner__username", flat=True)) == {
        "bob"
    }
    _looked_at(screen, "team-queue-bulk")
