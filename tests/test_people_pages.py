"""The manager's people pages under /manage/: list, create (with a password or a set-password link),
change role and teams, deactivate and reactivate, never leaving the product without a manager."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token

from closedloop.lib.roles import user_roles
from closedloop.users import user_set_active
from followups.services import team_create
from tests.factories import make_user


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


@pytest.fixture
def desk(alice):
    return team_create(slug="desk", name="Service desk", members=["alice"])


def roles_of(username: str) -> frozenset[str]:
    return user_roles(User.objects.get(username=username))


def test_the_index_links_every_set_up_page(manager):
    html = manager.get("/manage/").content.decode()
    assert 'href="/manage/people/"' in html and 'href="/manage/teams/"' in html


def test_the_list_shows_name_email_role_teams_state_and_last_sign_in(manager, alice, desk, olga):
    alice.first_name, alice.last_name = "Alice", "Martin"
    alice.save()
    html = manager.get("/manage/people/").content.decode()
    row = html[html.index("Alice Martin") :].split("</tr>")[0]
    assert "alice@example.com" in row and "Agent" in row and "Service desk" in row and "Active" in row
    assert "never" in row
    olga_row = html[html.index(">olga</a>") :].split("</tr>")[0]
    assert "No role" in olga_row  # a user without a role says so


def test_a_manager_creates_an_agent_with_a_password_in_a_team(manager, desk):
    reply = manager.post(
        "/manage/people/new/",
        {
            "username": "nina",
            "first_name": "Nina",
            "last_name": "Okafor",
            "email": "nina@example.com",
            "role": "agent",
            "teams": [desk.pk],
            "password": "a long enough passphrase",
        },
    )
    assert reply.status_code == 302 and reply["Location"] == "/manage/people/"
    nina = User.objects.get(username="nina")
    assert nina.get_full_name() == "Nina Okafor" and list(nina.teams.all()) == [desk]
    assert roles_of("nina") == {"agent"} and not nina.is_staff
    assert nina.check_password("a long enough passphrase")


def test_without_a_password_the_new_user_gets_a_link_to_choose_one(manager, client):
    reply = manager.post("/manage/people/new/", {"username": "nina", "email": "nina@example.com", "role": "manager"})
    assert reply.status_code == 302
    nina = User.objects.get(username="nina")
    assert not nina.has_usable_password() and nina.is_staff
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@example.com"]
    assert "choose your password" in mail.outbox[0].subject and "Your username is nina" in mail.outbox[0].body
    link = re.search(r"https?://[^/]+(/reset/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # The link is Django's own reset flow: it sets a first password.
    form_url = client.get(link[1])["Location"]
    done = client.post(form_url, {"new_password1": "my own passphrase 42", "new_password2": "my own passphrase 42"})
    assert done.status_code == 302
    nina.refresh_from_db()
    assert nina.check_password("my own passphrase 42")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"username": "maya", "email": "x@example.com"}, "already exists"),
        ({"username": "nina", "password": "123"}, "too short"),
        ({"username": "nina"}, "Needed to send the link"),
        ({"username": "nina", "email": "not an email"}, "valid email"),
        ({"username": "nina", "email": "n@example.com", "role": "root"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(manager, fields, error):
    before = User.objects.count()
    reply = manager.post("/manage/people/new/", {"role": "agent", **fields})
    assert reply.status_code == 200
    assert error in reply.content.decode()
    assert User.objects.count() == before and not mail.outbox


def test_a_manager_changes_role_name_email_and_teams(manager, alice, desk):
    other = team_create(slug="emea", name="EMEA")
    reply = manager.post(
        f"/manage/people/{alice.pk}/",
        {"first_name": "Alice", "last_name": "M", "email": "am@example.com", "role": "manager", "teams": [other.pk]},
    )
    assert reply.status_code == 302
    alice.refresh_from_db()
    assert (alice.get_full_name(), alice.email, alice.is_staff) == ("Alice M", "am@example.com", True)
    assert roles_of("alice") == {"manager"} and list(alice.teams.all()) == [other]


def test_the_last_active_manager_keeps_the_role(manager, maya):
    reply = manager.post(f"/manage/people/{maya.pk}/", {"role": "agent", "email": "maya@example.com"})
    assert reply.status_code == 200
    assert "last active manager" in reply.content.decode()
    assert roles_of("maya") == {"manager"}


def test_deactivating_revokes_the_token_and_reactivating_lets_them_back(manager, alice, client):
    Token.objects.create(user=alice)
    reply = manager.post(f"/manage/people/{alice.pk}/active/", {"active": "false"})
    assert reply.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active and not Token.objects.filter(user=alice).exists()
    assert "deactivated" in manager.get("/manage/people/").content.decode()

    manager.post(f"/manage/people/{alice.pk}/active/", {"active": "true"})
    alice.refresh_from_db()
    assert alice.is_active


def test_the_last_active_manager_cannot_be_deactivated(maya):
    other = make_user("mark", "manager")
    client = Client()
    client.force_login(other)
    assert client.post(f"/manage/people/{maya.pk}/active/", {"active": "false"}).status_code == 302
    maya.refresh_from_db()
    assert not maya.is_active
    # mark is now the only active manager: himself he cannot, nor can maya (inactive) come back to.
    reply = client.post(f"/manage/people/{other.pk}/active/", {"active": "false"}, follow=True)
    assert "cannot deactivate yourself" in reply.content.decode()
    other.refresh_from_db()
    assert other.is_active


def test_a_manager_deactivated_by_another_leaves_one(maya):
    mark = make_user("mark", "manager")
    user_set_active(user=maya, active=False, actor=mark)
    with pytest.raises(ValidationError, match="last active manager"):
        user_set_active(user=mark, active=False, actor=make_user("nobody", "agent"))


@pytest.mark.parametrize("url", ["/manage/", "/manage/people/", "/manage/people/new/"])
def test_only_managers_open_the_pages(url, alice, client):
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(alice)
    assert client.get(url).status_code == 403


def test_an_agent_cannot_deactivate_anyone(alice, maya, client):
    client.force_login(alice)
    assert client.post(f"/manage/people/{maya.pk}/active/", {"active": "false"}).status_code == 403
    maya.refresh_from_db()
    assert maya.is_active


def test_the_forms_carry_a_csrf_token(manager, alice):
    for url in ("/manage/people/", "/manage/people/new/", f"/manage/people/{alice.pk}/"):
        assert "csrfmiddlewaretoken" in manager.get(url).content.decode()


def test_the_list_reads_a_fixed_number_of_queries(manager, desk, django_assert_num_queries):
    with django_assert_num_queries(6) as small:
        manager.get("/manage/people/")
    for n in range(20):
        make_user(f"agent{n}", "agent")
    desk.members.add(*User.objects.filter(username__startswith="agent"))
    with django_assert_num_queries(len(small.captured_queries)):
        manager.get("/manage/people/")
