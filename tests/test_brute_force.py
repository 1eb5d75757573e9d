"""Sign-in lockouts per account and per address, on every sign-in path, and the password-reset limit."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from closedloop import throttling
from tests.factories import PASSWORD, make_user

LIMIT = settings.AXES_FAILURE_LIMIT
ROOT = Path(__file__).resolve().parent.parent


def fresh_address() -> str:
    """An address (a /64 of its own) no other test or run used: Redis keeps the counts between them."""
    digits = uuid.uuid4().hex
    return f"2001:db8:{digits[:4]}:{digits[4:8]}::1"


def fresh_email() -> str:
    return f"maya-{uuid.uuid4().hex}@example.com"


def page_sign_in(username: str, password: str, address: str):
    # A new client each time: nothing may be remembered in the session or the process.
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def api_sign_in(username: str, password: str, address: str):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def signed_in(reply) -> bool:
    return reply.status_code == 302 and "_auth_user_id" in reply.wsgi_request.session


def test_the_right_password_works_after_a_few_mistakes(maya):
    address = fresh_address()
    for _ in range(LIMIT - 1):
        assert page_sign_in("maya", "wrong", address).status_code == 200
    assert signed_in(page_sign_in("maya", PASSWORD, address))


def test_the_page_refuses_the_right_password_after_the_limit_and_says_why(maya):
    address = fresh_address()
    for _ in range(LIMIT):
        page_sign_in("maya", "wrong", address)
    reply = page_sign_in("maya", PASSWORD, address)
    assert reply.status_code == 429
    assert not signed_in(reply)
    assert "Too many failed sign-ins" in reply.content.decode()
    assert int(reply["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_the_token_api_refuses_the_right_password_after_the_limit_with_a_json_429(maya):
    address = fresh_address()
    for _ in range(LIMIT - 1):
        assert api_sign_in("maya", "wrong", address).status_code == 400
    assert api_sign_in("maya", "wrong", address).status_code == 429
    reply = api_sign_in("maya", PASSWORD, address)
    assert reply.status_code == 429
    assert "token" not in reply.json()
    assert reply.json()["detail"] == throttling.lockout_message()  # said once, without DRF's "Expected available"
    assert int(reply["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_failures_on_one_path_lock_the_others(maya):
    address = fresh_address()
    for _ in range(LIMIT):
        api_sign_in("maya", "wrong", address)
    assert page_sign_in("maya", PASSWORD, address).status_code == 429
    admin = Client(REMOTE_ADDR=address).post("/admin/login/", {"username": "maya", "password": PASSWORD})
    assert admin.status_code == 429


def test_an_account_is_locked_whatever_address_the_guesses_come_from(maya, alice):
    for _ in range(LIMIT):
        api_sign_in("maya", "wrong", fresh_address())
    assert api_sign_in("maya", PASSWORD, fresh_address()).status_code == 429
    # The addresses made one mistake each: other accounts still sign in from them.
    assert api_sign_in("alice", PASSWORD, fresh_address()).status_code == 200


def test_an_address_is_locked_whatever_accounts_it_guesses(maya):
    address = fresh_address()
    for number in range(LIMIT):
        page_sign_in(f"nobody-{number}", "wrong", address)
    assert page_sign_in("maya", PASSWORD, address).status_code == 429
    assert signed_in(page_sign_in("maya", PASSWORD, fresh_address()))


def test_behind_the_proxy_the_forwarded_address_is_the_client(maya, settings):
    settings.BEHIND_TLS_PROXY = True
    proxy = fresh_address()
    attacker, colleague = fresh_address(), fresh_address()
    for number in range(LIMIT):
        APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"10.0.0.1, {attacker}").post(
            "/api/v1/auth/token/", {"username": f"nobody-{number}", "password": "wrong"}, format="json"
        )
    through_proxy = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=colleague)
    assert through_proxy.post("/api/v1/auth/token/", {"username": "maya", "password": PASSWORD}).status_code == 200


def test_without_a_proxy_a_forged_forwarded_header_changes_nothing(maya):
    address = fresh_address()
    for number in range(LIMIT):
        APIClient(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=fresh_address()).post(
            "/api/v1/auth/token/", {"username": f"nobody-{number}", "password": "wrong"}, format="json"
        )
    assert api_sign_in("maya", PASSWORD, address).status_code == 429


def test_a_lockout_ends_after_the_cool_off_however_long_the_attacker_keeps_trying(maya):
    address = fresh_address()
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT):
            api_sign_in("maya", "wrong", address)
        # Guessing on through the lockout neither counts nor extends it.
        for _ in range(3):
            clock.shift(cool_off / 4)
            assert api_sign_in("maya", "wrong", address).status_code == 429
        clock.shift(cool_off / 4 + dt.timedelta(seconds=1))
        assert api_sign_in("maya", PASSWORD, address).status_code == 200


def test_failures_are_kept_in_the_database_every_process_reads(maya):
    address = fresh_address()
    for _ in range(LIMIT):
        api_sign_in("maya", "wrong", address)
    assert AccessAttempt.objects.filter(username="maya").count() == 1
    assert AccessAttempt.objects.get(username="maya").failures_since_start == LIMIT


def reset_request(email: str, address: str):
    return Client(REMOTE_ADDR=address).post("/password_reset/", {"email": email})


def test_the_password_reset_form_is_limited_per_address(db):
    email = make_user(f"reset-{uuid.uuid4().hex}", email=fresh_email()).email
    address = fresh_address()
    for _ in range(10):
        assert reset_request(fresh_email(), address).status_code == 302
    refused = reset_request(email, address)
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert mail.outbox == []
    assert reset_request(email, fresh_address()).status_code == 302
    assert len(mail.outbox) == 1


def test_the_password_reset_form_is_limited_per_email(db):
    email = make_user(f"reset-{uuid.uuid4().hex}", email=fresh_email()).email
    for _ in range(3):
        assert reset_request(f" {email.upper()} ", fresh_address()).status_code == 302
    assert reset_request(email, fresh_address()).status_code == 429
    assert len(mail.outbox) == 3


def stored_counts() -> int:
    """How many counters the throttle cache holds, read from the store itself, not this process."""
    throttle = caches["throttle"]
    if settings.CACHES["throttle"]["BACKEND"].endswith("DatabaseCache"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {throttle._table}")  # type: ignore[attr-defined]
            return cursor.fetchone()[0]
    client = throttle._cache.get_client(write=False)  # type: ignore[attr-defined]
    return len(client.keys("throttle:*"))


def test_password_reset_counts_live_in_the_cache_every_process_shares(db):
    before = stored_counts()
    reset_request(fresh_email(), fresh_address())
    # One counter for the address and one for the email.
    assert stored_counts() == before + 2


def test_migrate_makes_the_table_the_limits_count_in(tmp_path) -> None:
    # Without Redis the counts live in a database cache table: a fresh database has it after
    # `migrate` alone (the test runner makes cache tables itself, so this runs a real migrate).
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "closedloop.settings"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert ("closedloop_throttle",) in tables
