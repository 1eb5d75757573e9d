"""What a new user sees fits the screen: on a laptop (1366 x 768) and on a phone (390 x 844), every
button of the webhook page is legible, every column of the team queue and of the themes is on
screen, no table widens the page or scrolls sideways, and a manager's header is one line on the
laptop.

Visibility is measured in the page: an element counts as on screen when its box lies inside the
viewport and inside every ancestor that clips it; legible when its text colour and the first
opaque background behind it (getComputedStyle) reach WCAG AA's 4.5:1.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from followups.models import Case, ResponseRootCause, RootCause, WebhookEndpoint
from followups.services import team_create
from followups.services.coding import root_cause_taxonomy_seed
from followups.services.webhooks import webhook_endpoint_create
from tests.browser.conftest import LAPTOP, PAGE_OVERFLOW, sign_in
from tests.factories import PASSWORD, make_response, make_user

# Set to a folder to keep a screenshot of the themes page at each size, to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS")

AA_CONTRAST = 4.5
LONG_COMMENT = "The VPN drops every twenty minutes and nobody could tell me why, so I lost a morning of work."

CONTRAST = """(element) => {
  const rgba = (text) => {
    const [r, g, b, a = 1] = text.match(/[\\d.]+/g).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  let background = { r: 255, g: 255, b: 255 };
  for (let node = element; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour.a > 0) { background = colour; break; }
  }
  const [light, dark] = [luminance(rgba(getComputedStyle(element).color)), luminance(background)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}"""

# Scrolled to vertically (the page only: a table region scrolled sideways would hide the defect),
# the element's box must lie inside the viewport and inside every ancestor that clips its
# overflow (a table region): otherwise the user has to scroll sideways to reach it.
ON_SCREEN = """(element) => {
  window.scrollTo(0, Math.max(0, element.getBoundingClientRect().top + window.scrollY - innerHeight / 2));
  const box = element.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return false;
  if (box.left < 0 || box.right > document.documentElement.clientWidth) return false;
  for (let node = element.parentElement; node; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.overflowX === "visible" && style.overflowY === "visible") continue;
    const frame = node.getBoundingClientRect();
    if (box.left < frame.left - 1 || box.right > frame.right + 1) return false;
  }
  return true;
}"""


# A table region that would scroll sideways: its table is wider than the region shows.
FITS_ITS_REGION = "(table) => table.scrollWidth <= table.parentElement.clientWidth"


@pytest.fixture
def desk(survey) -> WebhookEndpoint:
    """A manager, a team with cases of long comments, and an endpoint whose deliveries failed."""
    make_user("helen", "manager", email="helen@example.com")
    for name in ("diego", "emily", "marcus"):
        make_user(name, "agent", email=f"{name}@example.com")
    team_create(slug="americas", name="Service Desk Americas", members=["emily", "marcus"], lead="diego")
    # Nothing listens on port 9: every delivery fails with an error the page shows.
    endpoint = webhook_endpoint_create(
        url="http://127.0.0.1:9/api/v2/integrations/closedloop/webhooks/incoming",
        description="Posts each case to the help desk ticket as an internal note, next to the ticket itself.",
        created_by=None,
    )
    for number in range(3):
        make_response(2 + number, customer=f"C-1100{number}", comment=LONG_COMMENT, ticket_ref=f"INC-2690{number}")
    assert Case.objects.count() == 3
    assert endpoint.deliveries.exists()
    return endpoint


def _legible_and_on_screen(element: Locator) -> None:
    name = element.inner_text()
    assert element.evaluate(ON_SCREEN), f"{name!r} is not fully on screen"
    contrast = element.evaluate(CONTRAST)
    assert contrast >= AA_CONTRAST, f"{name!r} has a contrast of {contrast:.2f}:1"


def test_the_webhook_page_shows_every_button_legibly_and_fits(screen: Page, live_server, desk):
    sign_in(screen, live_server, "helen", PASSWORD)
    screen.goto(live_server.url + reverse("webhook-detail", args=[desk.pk]))
    buttons = [
        screen.get_by_role("button", name="Deactivate"),
        screen.get_by_role("button", name="Delete endpoint"),
        *screen.get_by_role("button", name="Replay").all(),
    ]
    assert len(buttons) >= 3
    for button in buttons:
        _legible_and_on_screen(button)
    assert screen.evaluate(PAGE_OVERFLOW) == 0
    if screen.viewport_size == LAPTOP:
        # On a laptop the tables fit their cards: no sideways scrolling to reach a column.
        for table in screen.locator("table").all():
            assert table.evaluate(FITS_ITS_REGION), table.inner_text()[:80]


def test_the_team_queue_shows_every_column_and_the_reassign_button(screen: Page, live_server, desk):
    sign_in(screen, live_server, "helen", PASSWORD)
    screen.goto(live_server.url + reverse("team-queue"))
    row = screen.locator("table.queue tbody tr").first
    cells = row.locator("th, td").all()
    # The box to tick for the bulk form, then the ten columns.
    assert len(cells) == len(screen.locator("table.queue thead th").all()) == 11
    for cell in cells:
        assert cell.evaluate(ON_SCREEN), f"the {cell.get_attribute('data-label') or 'case'} column is off screen"
    assert row.get_by_label("Owner of case").evaluate(ON_SCREEN)
    _legible_and_on_screen(row.get_by_role("button", name="Reassign"))
    assert screen.evaluate(PAGE_OVERFLOW) == 0


@pytest.fixture
def themes(desk) -> None:
    """Coded answers of this month and the month before, so the themes table has every column:
    one theme with enough answers for an NPS, one with too few."""
    root_cause_taxonomy_seed()  # a live-server test starts from a flushed database
    causes = RootCause.objects.in_bulk(["slow-response", "vpn-access"], field_name="slug")
    for days, scores in ((3, [0, 2, 6, 7, 9, 10] * 6), (40, [9, 10] * 15)):
        for score in scores:
            response = make_response(score, submitted_at=timezone.now() - timedelta(days=days))
            ResponseRootCause.objects.create(response=response, root_cause=causes["slow-response"])
    response = make_response(3, comment=LONG_COMMENT, submitted_at=timezone.now() - timedelta(days=2))
    ResponseRootCause.objects.create(response=response, root_cause=causes["vpn-access"])


def test_the_themes_table_fits_the_screen_with_every_column_of_each_theme(screen: Page, live_server, themes):
    sign_in(screen, live_server, "helen", PASSWORD)
    today = timezone.localdate()
    period = f"?start={today - timedelta(days=29):%Y-%m-%d}&end={today:%Y-%m-%d}"
    screen.goto(live_server.url + reverse("themes") + period)
    table = screen.locator("table.themes")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    screen.get_by_text("The last twelve months in figures").click()
    months = screen.locator("table.themes-trends__table")
    expect(months).to_be_visible()
    if SCREENSHOTS:
        size = "laptop" if screen.viewport_size == LAPTOP else "phone"
        screen.screenshot(path=str(Path(SCREENSHOTS) / f"themes-{size}.png"), full_page=True)
    assert screen.evaluate(PAGE_OVERFLOW) == 0
    for name, shown in (("themes", table), ("months", months)):
        assert shown.evaluate(FITS_ITS_REGION), f"the {name} table scrolls sideways"
    for row in rows.all():
        cells = row.locator("th, td").all()
        # The theme, then responses, detractors, NPS, impact, the last twelve months, the change and the link.
        assert len(cells) == len(table.locator("thead th").all()) == 8
        for cell in cells:
            assert cell.evaluate(ON_SCREEN), f"the {cell.get_attribute('data-label') or 'theme'} column is off screen"
    expect(rows.filter(has_text="VPN and remote access")).to_contain_text("too few to say (1)")


def test_a_managers_header_is_one_line_on_a_laptop(page: Page, live_server, desk):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "helen", PASSWORD)
    header = page.locator(".site-header__inner")
    items = header.locator(".brand, .site-nav > ul > li, .account > *").all()
    assert len(items) >= 9  # the brand, every page a manager has, the name, settings and sign out
    tops = [item.bounding_box()["y"] for item in items]  # type: ignore[index]
    bottoms = [box["y"] + box["height"] for item in items if (box := item.bounding_box())]
    # One line: every item starts above the point where the first-placed item ends.
    assert max(tops) < min(bottoms), "the header wraps onto a second line"


def test_the_manage_menu_opens_and_closes_from_the_keyboard_and_lists_the_set_up_pages(page: Page, live_server, desk):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "helen", PASSWORD)
    navigation = page.get_by_role("navigation", name="Main")
    webhooks = navigation.get_by_role("link", name="Webhooks")
    expect(webhooks).to_be_hidden()

    navigation.get_by_text("Manage").focus()
    page.keyboard.press("Enter")
    for name in ("Import", "Survey waves", "Root causes", "Webhooks", "People and settings", "Admin"):
        _legible_and_on_screen(navigation.get_by_role("link", name=name, exact=True))
    page.keyboard.press("Escape")
    expect(webhooks).to_be_hidden()
    expect(navigation.get_by_text("Manage")).to_be_focused()

    navigation.get_by_text("Manage").click()
    page.get_by_role("contentinfo").click()  # anywhere else closes it
    expect(webhooks).to_be_hidden()
