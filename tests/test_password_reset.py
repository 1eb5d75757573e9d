"""A forgotten password, reset through the product's own pages from the sign-in page to the new sign-in."""

from __future__ import annotations

import re
import uuid

from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import make_user

NEW_PASSWORD = "a-new-Passw0rd-for-maya"


def test_the_sign_in_page_links_to_the_reset_form(db):
    page = Client().get(reverse("login"))
    assert f'href="{reverse("password_reset")}"' in page.content.decode()


def test_a_reset_runs_from_the_email_to_a_sign_in_with_the_new_password(db):
    maya = make_user("maya", email=f"maya-{uuid.uuid4().hex}@example.com")
    # An address of its own: the reset form's limit counts per address in a shared cache.
    client = Client(REMOTE_ADDR=f"2001:db8:{uuid.uuid4().hex[:4]}::1")

    form = client.get(reverse("password_reset"))
    assert "Reset your password" in form.content.decode()
    assert "Django administration" not in form.content.decode()
    sent = client.post(reverse("password_reset"), {"email": maya.email}, follow=True)
    assert "Check your email" in sent.content.decode()

    [email] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/reset/\S+/)", email.body)
    assert link is not None
    choose = client.get(link.group(1), follow=True)
    assert "Choose a new password" in choose.content.decode()
    done = client.post(
        choose.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Password changed" in done.content.decode()

    signed_in = Client().post(reverse("login"), {"username": "maya", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_a_used_link_says_so(db):
    page = Client().get(reverse("password_reset_confirm", args=["MQ", "set-password"]))
    assert "This link has expired or was used already." in page.content.decode()
