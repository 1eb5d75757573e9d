"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live_server.

Every test in this folder is marked ``browser`` (select or skip them with ``-m``) and runs after all
other tests, for the reason given at ``pytest_collection_modifyitems``. Without
/usr/bin/chromium they are skipped, except on CI (``CI=true``), where a missing browser is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from closedloop.lib.roles import ROLES

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls made while
# a loop runs unless told they are safe, which they are here: the test code itself is synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
# The two screens every page is looked at on: a common laptop and a common phone.
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).parent


def pytest_itemcollected(item: pytest.Item) -> None:
    # Called through the item's own hooks, so only for tests in this folder.
    item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Once Playwright has started, this thread reports a running event loop between its calls, and
    # Django then keeps database connections per context instead of per thread (losing, for one, the
    # serialized rollback data). Running the browser tests last keeps every other test clear of that.
    # trylast: after pytest-django has put the database tests in its order, and after -m deselected.
    others = [item for item in items if not item.path.is_relative_to(HERE)]
    items[:] = others + [item for item in items if item.path.is_relative_to(HERE)]


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """Put back the role groups that a data migration makes.

    A live_server test commits its data, so the database is flushed after it, groups included; and
    serialized rollback cannot restore them here, for the reason given above.
    """
    Group.objects.bulk_create([Group(name=role) for role in ROLES], ignore_conflicts=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests on CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own browser context (no cookies shared between tests)."""
    context = browser.new_context()
    # Fail in seconds, not Playwright's default 30, when the page does not do what a test expects.
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(params=[LAPTOP, PHONE], ids=["laptop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A fresh page on a laptop's screen, then on a phone's: a test using it runs at both sizes."""
    context = browser.new_context(viewport=request.param)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# How far the page reaches past the viewport's right edge: above zero, the user scrolls sideways.
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def sign_in(page: Page, live_server, username: str, password: str) -> None:
    """Sign in through the login form, as a person would, and wait for the landing page
    (the dashboard for managers, the queue for agents)."""
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    landing = "|".join(re.escape(reverse(name)) for name in ("home", "queue"))
    expect(page).to_have_url(re.compile(f"^{re.escape(live_server.url)}({landing})$"))
