"""A manager opens the accounts ranked by risk, then one account's quarterly review, and prints it:
the print media hides the navigation, the filters and the buttons. On a laptop and on a phone,
every page fits the screen, runs under the Content-Security-Policy (its print button comes from a
static script) and has no serious accessibility violation; the screenshots are kept
under tests/browser/artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from followups.models import Case
from followups.quarters import Quarter
from followups.services import team_create
from surveys.models import Account, Customer, Invitation, Response
from tests.browser.axe import serious_violations
from tests.browser.conftest import PAGE_OVERFLOW, sign_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS, violations
from tests.factories import PASSWORD, make_response, make_user

SHOTS = Path(__file__).parent / "artifacts"
# The page's default quarter is the last complete one; the browser keeps real time (its session
# cookie would expire in a travelled past), so the quarters are today's.
LAST = Quarter.containing(timezone.localdate()).previous()
BEFORE = LAST.previous()


def _in(quarter: Quarter) -> datetime:
    return datetime.combine(quarter.first_day + timedelta(days=20), time(10), tzinfo=UTC)


def _answer(account: Account, score: int, at: datetime, **fields) -> Response:
    response = make_response(score, submitted_at=at, **fields)
    Customer.objects.filter(pk=response.customer_id).update(account=account)
    return response


def _world(survey) -> None:
    """Acme falls from +100 to -60 with a silent key contact and an overdue case; Globex holds steady."""
    make_user("helen", "manager", email="helen@example.com")
    make_user("alice", "agent", email="alice@example.com")
    team_create(slug="desk", name="Service desk", members=["alice"])
    acme = Account.objects.create(external_id="ACC-1", name="Acme Corp")
    globex = Account.objects.create(external_id="ACC-2", name="Globex")
    now, Q2, Q3 = timezone.now(), _in(BEFORE), _in(LAST)
    for n in range(12):
        _answer(acme, 10, Q2 + timedelta(hours=n))
        _answer(globex, 9, Q2 + timedelta(hours=n))
        _answer(globex, 9 if n % 3 else 8, Q3 + timedelta(hours=n))
    for n in range(10):
        _answer(acme, 9 if n < 2 else 3, Q3 + timedelta(hours=n), comment="Waited days for an answer")
    key = Customer.objects.create(external_id="KEY-1", name="Kim Key", account=acme, attributes={"key_contact": "yes"})
    Invitation.objects.create(
        survey=survey,
        customer=key,
        status=Invitation.Status.SENT,
        send_at=Q3,
        sent_at=Q3,
        next_attempt_at=Q3,
        created_at=Q3,
    )
    late = _answer(acme, 2, now - timedelta(days=3), comment="Still broken")
    # Committed at once (a live-server test), so the case opened on ingestion, as in production.
    Case.objects.filter(response=late).update(next_due=now - timedelta(hours=2))


def _look(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"accounts-{name}.png"), full_page=True)
    assert page.evaluate(PAGE_OVERFLOW) == 0, f"{name}: the page is wider than the screen"
    assert serious_violations(page) == [], name
    assert violations(page) == [], f"{name}: the Content-Security-Policy refused something"


def test_a_manager_ranks_the_accounts_opens_one_and_prints_its_review(screen: Page, live_server, survey):
    size = "phone" if screen.viewport_size and screen.viewport_size["width"] < 500 else "laptop"
    _world(survey)
    screen.add_init_script(RECORD_VIOLATIONS)
    sign_in(screen, live_server, "helen", PASSWORD)
    screen.goto(live_server.url + reverse("account-report-list"))
    expect(screen.get_by_role("heading", level=1)).to_have_text(f"Accounts by risk, {LAST.label}")
    first = screen.locator("table.accounts tbody tr").first
    expect(first).to_contain_text("Acme Corp")
    expect(first).to_contain_text("High risk (7 points): NPS fell 160 points, from +100 to -60")
    _look(screen, f"ranking-{size}")

    first.get_by_role("link", name="Acme Corp").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text(f"Acme Corp: quarterly review, {LAST.label}")
    expect(screen.locator(".nps-figure__value").first).to_have_text("-60")
    expect(screen.get_by_role("heading", name="Open detractor cases: 1, 1 overdue")).to_be_visible()
    expect(screen.get_by_text("Kim Key")).to_be_visible()
    expect(screen.get_by_role("button", name="Print or save as PDF")).to_be_visible()  # shown by the script
    _look(screen, f"review-{size}")

    screen.get_by_label("Quarter").select_option(BEFORE.label)
    screen.get_by_role("button", name="Show").click()
    expect(screen).to_have_url(live_server.url + reverse("account-report", args=["ACC-1"]) + f"?quarter={BEFORE.label}")
    expect(screen.get_by_role("heading", level=1)).to_have_text(f"Acme Corp: quarterly review, {BEFORE.label}")
    screen.go_back()

    screen.emulate_media(media="print")
    expect(screen.locator(".site-header")).to_be_hidden()
    expect(screen.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(screen.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(screen.get_by_role("button", name="Show")).to_be_hidden()
    expect(screen.get_by_role("heading", level=1)).to_be_visible()
    expect(screen.locator("svg.account-report__trend")).to_be_visible()
    screen.screenshot(path=str(SHOTS / f"accounts-review-print-{size}.png"), full_page=True)
    if size == "laptop":
        # What "print to PDF" gives: Chromium's own PDF of the print media, kept beside the screenshots.
        assert screen.pdf(path=str(SHOTS / "accounts-review.pdf"))[:4] == b"%PDF"
