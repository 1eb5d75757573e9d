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


def test_an_agent_sets_their_name_email_and_time_zone(alice):
    client = _client(alice)
    data = {
        "section": "details",
        "me-first_name": "Alice",
        "me-last_name": "Martin",
        "me-email": "a@example.org",
        "me-time_zone": "Europe/Paris",
    }
    assertRedirects(client.post(reverse("agent-settings"), data), reverse("agent-settings"))
    alice.refresh_from_db()
    assert (alice.get_full_name(), alice.email, alice.agent_profile.time_zone) == (
        "Alice Martin",
        "a@example.org",
        "Europe/Paris",
    )
    html = client.get(reverse("agent-settings")).content.decode()
    assert 'value="Martin"' in html and '<option value="Europe/Paris" selected>' in html


def test_a_bad_email_or_zone_is_shown_and_nothing_is_stored(alice):
    data = {"section": "details", "me-email": "nope", "me-time_zone": "Mars/Olympus"}
    html = _client(alice).post(reverse("agent-settings"), data).content.decode()
    assert "valid email" in html and "Select a valid choice" in html
    alice.refresh_from_db()
    assert alice.email == "alice@example.com" and not AgentProfile.objects.exists()


def test_away_until_a_date_is_kept_only_while_away(alice):
    client = _client(alice)
    client.post(reverse("agent-settings"), {"is_away": "on", "away_until": "2026-12-31"})
    assert str(AgentProfile.objects.get(user=alice).away_until) == "2026-12-31"
    client.post(reverse("agent-settings"), {"away_until": "2026-12-31"})
    assert AgentProfile.objects.get(user=alice).away_until is None


def test_an_agent_creates_a_token_shown_once_and_revokes_it(alice):
    from rest_framework.authtoken.models import Token

    client = _client(alice)
    reply = client.post(reverse("my-token"), {"action": "create"})
    token = Token.objects.get(user=alice)
    assert token.key in reply.content.decode()
    assert "no-store" in reply["Cache-Control"]
    settings_page = client.get(reverse("agent-settings")).content.decode()
    assert token.key not in settings_page and "Revoke my token" in settings_page

    client.post(reverse("my-token"), {"action": "create"})
    assert Token.objects.get(user=alice).key != token.key  # replaced: the old one stops working

    client.post(reverse("my-token"), {"action": "revoke"})
    assert not Token.objects.filter(user=alice).exists()


def test_the_token_page_takes_posts_only_and_signed_in_agents(alice, izzy):
    assert _client(alice).get(reverse("my-token")).status_code == 405
    assert _client(izzy).post(reverse("my-token"), {"action": "create"}).status_code == 403
