"""API tokens die with the password that obtained them, with the account, and on request."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A preferred hasher the test's MD5 hashes get upgraded to on sign-in, at a test's speed."""

    iterations = 1000


def token_for(username: str) -> str:
    reply = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert reply.status_code == 200
    return reply.json()["token"]


def works(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/surveys/").status_code == 200


def test_set_password_then_save_revokes_the_token(maya):
    token = token_for("maya")
    maya.set_password("a-new-secret-passphrase-7")
    maya.save()
    assert not works(token)
    assert not Token.objects.filter(user=maya).exists()


def test_a_password_changed_in_the_admin_revokes_the_token(maya, alice):
    token = token_for("alice")
    admin = Client()
    admin.force_login(maya)
    new = "a-new-secret-passphrase-7"
    reply = admin.post(
        f"/admin/auth/user/{alice.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    assert not works(token)


def test_manage_py_changepassword_revokes_the_token(maya, monkeypatch):
    token = token_for("maya")
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": "a-new-secret-passphrase-7",
    )
    call_command("changepassword", "maya")
    assert not works(token)


def test_the_password_reset_form_revokes_the_token(alice):
    token = token_for("alice")
    client = Client()
    client.post("/password_reset/", {"email": alice.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line).strip()
    form_page = client.get(link[link.index("/reset/") :], follow=True)
    new = "a-new-secret-passphrase-7"
    done = client.post(form_page.request["PATH_INFO"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert not works(token)


def test_deactivation_revokes_the_token_for_good(alice):
    token = token_for("alice")
    alice.is_active = False
    alice.save()
    alice.is_active = True
    alice.save()
    assert not works(token)


def test_other_changes_keep_the_token(alice):
    token = token_for("alice")
    alice.first_name = "Alice"
    alice.save()
    alice.save(update_fields=["last_login"])
    assert works(token)


def test_a_stronger_hash_of_the_same_password_keeps_the_token(alice, settings):
    token = token_for("alice")
    settings.PASSWORD_HASHERS = [
        "tests.test_tokens.QuickPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = alice.password
    token_for("alice")  # signing in with the password re-hashes it with the preferred hasher
    alice.refresh_from_db()
    assert alice.password != old_hash
    assert works(token)


def test_a_user_revokes_their_own_token_with_it(alice):
    token = token_for("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not works(token)
    assert token_for("alice") != token


def test_a_signed_in_user_revokes_their_token_from_the_session(alice):
    token = token_for("alice")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/", follow=True)
    reply = client.delete("/api/v1/auth/token/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert reply.status_code == 204
    assert not works(token)


def test_revoking_needs_credentials(db):
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401


@pytest.mark.parametrize("method", ["post", "delete"])
def test_the_schema_documents_signing_in_and_revoking(anonymous_api, db, method):
    operation = anonymous_api.get("/api/v1/schema/?format=json").json()["paths"]["/api/v1/auth/token/"][method]
    expected = {"post": {"200", "429"}, "delete": {"204"}}[method]
    assert expected <= set(operation["responses"])
