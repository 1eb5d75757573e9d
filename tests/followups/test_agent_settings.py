"""An agent's own settings: away from routing, assignment emails and the daily digest."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from followups.models import AgentProfile, Notification
from followups.services.profiles import agent_profile_update

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _checked(html: str, name: str) -> bool:
    tag = html[html.index(f'name="{name}"') :]
    return " checked" in tag[: tag.index(">")]


def test_someone_who_never_saved_sees_the_defaults(alice):
    html = _client(alice).get(reverse("agent-settings")).content.decode()

    assert (_checked(html, "is_away"), _checked(html, "assignment_emails"), _checked(html, "digest_emails")) == (
        False,
        True,
        True,
    )
    assert not AgentProfile.objects.exists()  # reading the page stores nothing


def test_saving_creates_the_profile_and_unticked_boxes_turn_things_off(alice):
    client = _client(alice)

    response = client.post(reverse("agent-settings"), {"is_away": "on"}, follow=True)

    assertRedirects(response, reverse("agent-settings"))
    assertContains(response, "Your settings are saved.")
    profile = AgentProfile.objects.get(user=alice)
    assert (profile.is_away, profile.assignment_emails, profile.digest_emails) == (True, False, False)
    assert _checked(response.content.decode(), "is_away")


def test_saving_with_every_box_unticked_turns_everything_off(alice):
    agent_profile_update(user=alice, is_away=True, assignment_emails=True, digest_emails=True)

    _client(alice).post(reverse("agent-settings"), {})

    profile = AgentProfile.objects.get(user=alice)
    assert (profile.is_away, profile.assignment_emails, profile.digest_emails) == (False, False, False)


def test_the_service_updates_the_one_profile_in_place(alice):
    first = agent_profile_update(user=alice, is_away=True, assignment_emails=False, digest_emails=True)
    second = agent_profile_update(user=alice, is_away=False, assignment_emails=True, digest_emails=False)

    assert first.pk == second.pk
    assert AgentProfile.objects.filter(user=alice).count() == 1
    assert (second.is_away, second.assignment_emails, second.digest_emails) == (False, True, False)


def test_an_away_agent_gets_no_new_cases(desk, alice, open_case):
    agent_profile_update(user=alice, is_away=True, assignment_emails=True, digest_emails=True)

    owners = {open_case(2).owner.username for _ in range(4)}

    assert owners and "alice" not in owners


@pytest.mark.parametrize(("ticked", "emails"), [({"assignment_emails": "on"}, 1), ({}, 0)])
def test_assignment_emails_follow_the_setting(desk, alice, bob, lena, open_case, ticked, emails):
    for colleague in (bob, lena):  # away, so the case goes to alice
        agent_profile_update(user=colleague, is_away=True, assignment_emails=True, digest_emails=True)
    _client(alice).post(reverse("agent-settings"), ticked)

    case = open_case(5)

    assert case.owner == alice
    assert Notification.objects.filter(kind="case_assigned", recipient=alice).count() == emails
