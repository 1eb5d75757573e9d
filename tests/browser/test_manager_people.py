"""A manager creates an agent and a working calendar without the admin, on a laptop and on a phone.

Every page of the journey is kept as a screenshot under the test's tmp path, must fit the screen
(nothing to scroll sideways to) and has no serious or critical accessibility violation (axe-core).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from followups.models import Team
from followups.services import team_create
from followups.services.coding import resolution_code_create
from followups.services.rules import routing_rule_create, sla_policy_create
from tests.browser.axe import serious_violations
from tests.browser.conftest import (
    LAPTOP,
    PAGE_OVERFLOW,
    PHONE,
    sign_in,
)
from tests.factories import PASSWORD, make_survey, make_user


@pytest.fixture(params=[LAPTOP, PHONE], ids=["laptop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=request.param)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


class Journey:
    """Looks at each page it is shown: keeps a screenshot, checks the fit and the accessibility."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page, self.folder = page, folder
        self.shots: list[Path] = []

    def look(self, name: str) -> None:
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        self.shots.append(path)
        assert self.page.evaluate(PAGE_OVERFLOW) == 0, f"{name}: the page is wider than the screen"
        assert serious_violations(self.page) == [], name


def test_a_manager_creates_an_agent_and_a_working_calendar(screen: Page, live_server, tmp_path):
    make_user("helen", "manager", email="helen@example.com")
    make_user("diego", "agent", email="diego@example.com")
    journey = Journey(screen, tmp_path)
    sign_in(screen, live_server, "helen", PASSWORD)

    screen.goto(live_server.url + reverse("manage-index"))
    journey.look("manage")
    screen.get_by_role("link", name="People").click()
    expect(screen.get_by_role("heading", name="People", level=1)).to_be_visible()
    journey.look("people")

    screen.get_by_role("link", name="Add a person").click()
    screen.get_by_label("Username").fill("nina")
    screen.get_by_label("First name").fill("Nina")
    screen.get_by_label("Last name").fill("Okafor")
    screen.get_by_label("Email").fill("nina@example.com")
    screen.get_by_label("Agent: works cases").check()
    screen.get_by_label("Initial password").fill("a long enough passphrase")
    journey.look("person-new")
    screen.get_by_role("button", name="Add person").click()
    expect(screen.get_by_text("nina is created and can sign in now.")).to_be_visible()
    expect(screen.get_by_role("link", name="Nina Okafor")).to_be_visible()
    journey.look("people-with-nina")

    screen.goto(live_server.url + reverse("team-settings-list"))
    journey.look("teams")
    screen.get_by_role("link", name="Add a team").click()
    screen.get_by_label("Name:", exact=True).fill("Service Desk Americas")
    screen.get_by_label("Slug").fill("americas")
    screen.get_by_label("Nina Okafor (nina)").check()
    screen.get_by_label("diego", exact=True).check()
    screen.get_by_label("Lead").select_option(label="diego")
    screen.get_by_label("Time zone").select_option("America/New_York")
    screen.get_by_label("Public holidays of").fill("US")
    # Monday to Friday keep the default 09:00-17:00; Monday gets a lunch break, Saturday a morning.
    screen.get_by_label("Monday: Closes", exact=True).fill("12:30")
    screen.get_by_label("Monday: Opens again").fill("13:30")
    screen.get_by_label("Monday: Closes again").fill("17:00")
    screen.get_by_label("Saturday: Opens", exact=True).fill("10:00")
    screen.get_by_label("Saturday: Closes", exact=True).fill("14:00")
    screen.get_by_label("Day off 1: Date").fill("2026-12-24")
    screen.get_by_label("Day off 1: What it is").fill("Office party")
    journey.look("team-new")
    screen.get_by_role("button", name="Add team").click()
    expect(screen.get_by_text("Team Service Desk Americas is saved.")).to_be_visible()
    journey.look("teams-with-americas")

    nina = User.objects.get(username="nina")
    assert nina.get_full_name() == "Nina Okafor" and nina.check_password("a long enough passphrase")
    team = Team.objects.get(slug="americas")
    assert set(team.members.values_list("username", flat=True)) == {"nina", "diego"}
    assert team.lead is not None and team.lead.username == "diego" and team.time_zone == "America/New_York"
    assert team.working_hours["mon"] == ["09:00-12:30", "13:30-17:00"] and team.working_hours["sat"] == ["10:00-14:00"]
    assert team.extra_holidays == ["2026-12-24"] and team.day_off_labels == {"2026-12-24": "Office party"}

    screen.get_by_role("link", name="Service Desk Americas").click()
    expect(screen.get_by_label("Monday: Opens again")).to_have_value("13:30")
    journey.look("team-edit")
    assert all(shot.stat().st_size > 0 for shot in journey.shots) and len(journey.shots) == 8


def test_the_configuration_pages_and_my_settings_fit_and_pass_axe(screen: Page, live_server, tmp_path):
    make_user("helen", "manager", email="helen@example.com")
    make_user("diego", "agent")
    survey = make_survey()
    team = team_create(slug="americas", name="Service Desk Americas", members=["diego"], lead="diego")
    routing_rule_create(
        name="Americas customers to Service Desk Americas",
        team=team,
        attribute_name="region",
        attribute_value="Americas",
        keywords=["refund", "outage", "billing", "invoice"],
        survey=survey,
    )
    sla_policy_create(name="Hot cases", priority="hot", first_contact_hours=4, resolution_hours=16)
    resolution_code_create(slug="fixed", name="Fixed")
    journey = Journey(screen, tmp_path)
    sign_in(screen, live_server, "helen", PASSWORD)
    for name in (
        "routing-rule-list",
        "sla-policy-list",
        "resolution-code-list",
        "survey-settings-list",
        "agent-settings",
    ):
        screen.goto(live_server.url + reverse(name))
        expect(screen.get_by_role("heading", level=1)).to_be_visible()
        journey.look(name)
    screen.goto(live_server.url + reverse("survey-settings-edit", args=[survey.pk]))
    journey.look("survey-edit")
    assert len(journey.shots) == 6
