"""Praise: promoters' comments attributed to the agent or team that handled the ticket (the
invitation the help desk asked for names them), on the agent's own page /me/praise/.

The world: the desk of ``tests/followups/conftest.py`` (alice, bob and lena), and a billing team.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from followups.praise import PRAISE_DAYS, recent_praise
from followups.services import team_create
from tests.factories import handled_by, make_response, make_survey, make_user

pytestmark = pytest.mark.django_db


def praised(score: int, comment: str, *, agent: str = "", team: str = "", days_ago: float = 1, ticket: str = ""):
    """A response to an invitation for a ticket handled by ``agent`` of ``team``."""
    at = timezone.now() - timedelta(days=days_ago)
    response = make_response(score, comment=comment, submitted_at=at)
    handled_by(response, team, agent, ticket=ticket)
    return response


@pytest.fixture
def billing(desk, bob):
    return team_create(slug="billing", name="Billing", members=[])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_sees_praise_for_their_tickets_and_their_teams(desk, billing, alice):
    praised(10, "Alice fixed it in minutes", agent="alice", team="desk", days_ago=2)
    praised(9, "The desk was great", agent="bob", team="desk", days_ago=1)
    praised(10, "Team effort, no name", team="desk", days_ago=3)
    praised(10, "Billing sorted my invoice", agent="zed", team="billing")
    praised(8, "Fine, alice", agent="alice", team="desk")  # a passive: no praise
    praised(10, "", agent="alice", team="desk")  # nothing said
    praised(10, "Long ago, alice", agent="alice", team="desk", days_ago=PRAISE_DAYS + 1)
    make_response(10, comment="No ticket behind it")

    page = _client(alice).get(reverse("my-praise"))
    html = page.content.decode()
    quotes = [q for q in ("The desk was great", "Alice fixed it in minutes", "Team effort, no name") if q in html]
    assert quotes == ["The desk was great", "Alice fixed it in minutes", "Team effort, no name"]
    assert html.index("The desk was great") < html.index("Alice fixed it") < html.index("Team effort")
    assertContains(page, "for <strong>alice</strong> (Service desk)", html=False)
    assertContains(page, "for <strong>bob</strong> (Service desk)", html=False)
    assertContains(page, "for <strong>Service desk</strong>", html=False)
    for absent in ("Billing sorted", "Fine, alice", "Long ago", "No ticket behind it"):
        assertNotContains(page, absent)


def test_the_dashboard_reading_takes_all_attributed_praise(desk, billing):
    praised(10, "Billing sorted my invoice", agent="zed", team="billing")
    praised(10, "Team of an unknown slug", team="gone")
    praised(9, "Someone", agent="ann")
    make_response(10, comment="No ticket behind it")
    praise = recent_praise()
    assert [(r.comment, r.praised_agent, r.praised_team) for r in praise] == [
        ("Someone", "ann", ""),
        ("Team of an unknown slug", "", "gone"),
        ("Billing sorted my invoice", "zed", "Billing"),
    ]
    assert len(recent_praise(limit=2)) == 2


def test_the_dashboard_filtered_by_team_or_survey_praises_those_tickets_only(desk, billing, maya):
    make_survey("onboarding")
    praised(10, "Billing sorted my invoice", agent="zed", team="billing")
    praised(10, "The desk was quick", agent="alice", team="desk")
    onboarding = make_response(9, survey="onboarding", comment="Smooth onboarding")
    handled_by(onboarding, "desk", "alice")
    client = _client(maya)

    def said(**filters) -> set[str]:
        html = client.get("/", filters).content.decode()
        return {text for text in ("Billing sorted", "The desk was quick", "Smooth onboarding") if text in html}

    assert said() == {"Billing sorted", "The desk was quick", "Smooth onboarding"}
    assert said(team="desk") == {"The desk was quick", "Smooth onboarding"}
    assert said(team="desk", survey="support-2026") == {"The desk was quick"}


def test_praise_is_escaped(desk, alice):
    praised(10, "<script>alert(1)</script> thanks", agent="alice")
    page = _client(alice).get(reverse("my-praise"))
    assertNotContains(page, "<script>alert(1)</script>")
    assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt; thanks")


def test_an_agent_without_praise_is_told_so(desk, alice):
    assertContains(_client(alice).get(reverse("my-praise")), "No promoter comments")


def test_only_people_who_work_cases_see_the_page(desk, izzy):
    assert Client().get(reverse("my-praise")).status_code == 302
    assert _client(izzy).get(reverse("my-praise")).status_code == 403


def test_the_page_takes_a_fixed_number_of_queries(desk, alice):
    client = _client(alice)
    client.get(reverse("my-praise"))
    counts = []
    for size in (1, 6):
        for n in range(size):
            praised(10, f"Great {size}-{n}", agent="alice" if n % 2 else "bob", team="desk")
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("my-praise"))
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_managers_see_their_own_praise_too(desk):
    manager = make_user("mona", "manager")
    praised(10, "Mona called me back", agent="mona")
    assertContains(_client(manager).get(reverse("my-praise")), "Mona called me back")
