"""``manage.py seed_demo``: fill an empty database with a year of demo data and print the logins.

``make run`` calls it on every start; once the demo is present it changes nothing and only
prints the logins again.
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from closedloop.demo import DEFAULT_PASSWORD, DEFAULT_SEED, TEAMS, USERS, demo_password_matches, demo_seed
from closedloop.lib.env import envstr


class Command(BaseCommand):
    help = (
        "Create demo data (teams, users, surveys, ~2,000 customers, ~3,000 responses over the last 12 months, "
        "root causes, routing rules, resolution codes, and the follow-up cases of the last quarter worked through "
        "their lifecycle) unless it is already present, then print the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same data).")
        parser.add_argument(
            "--password",
            help=f"Password of every demo login (default: $DEMO_PASSWORD, else {DEFAULT_PASSWORD}).",
        )

    def handle(self, *args, **options) -> None:
        password = options["password"] or envstr("DEMO_PASSWORD") or DEFAULT_PASSWORD
        started = time.monotonic()
        try:
            summary = demo_seed(password=password, seed=options["seed"])
        except ValidationError as exc:
            raise CommandError(f"Cannot create the demo data: {'; '.join(exc.messages)}") from exc
        if summary is None:
            self.stdout.write("demo data already present; nothing changed.")
            # The logins keep the password they were created with, whatever is given now.
            password_known = demo_password_matches(password=password)
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data created in {time.monotonic() - started:.1f} s: {summary.customers:,} customers "
                    f"({summary.accounts} B2B accounts), {summary.responses:,} responses over the last 12 months, "
                    f"{summary.root_cause_codes:,} root-cause codes, "
                    f"{summary.cases:,} follow-up cases worked since the loop went live."
                )
            )
            password_known = True
        self._print_logins(password if password_known else None)

    def _print_logins(self, password: str | None) -> None:
        self.stdout.write(f"\nSign in at {_site_url()}/")
        if password:
            self.stdout.write(f"Every demo login has the password: {password}")
        else:
            self.stdout.write("The demo logins keep the password chosen when the demo was created.")
        for user in USERS:
            team = f"{TEAMS[user.team]}{' (lead)' if user.lead else ''}" if user.team else ""
            self.stdout.write(f"  {user.username:<15} {user.role:<12} {team}".rstrip())


def _site_url() -> str:
    # `make run` serves on $PORT; an explicit SITE_URL (a proxy, a real host name) wins over it.
    port = os.environ.get("PORT")
    if port and not os.environ.get("SITE_URL"):
        return f"http://127.0.0.1:{port}"
    return settings.SITE_URL
