"""A manager imports an export file of responses in the browser: preview, mapping, report."""

from __future__ import annotations

import os
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import Page, expect

from surveys.models import Customer, Response, SavedMapping
from surveys.services.imports import import_job_create, import_job_run
from tests.browser.conftest import LAPTOP, PAGE_OVERFLOW, sign_in
from tests.factories import PASSWORD

FILE = b'Customer ID;NPS;Comment\nC-1;9;Quick fix\nC-2;3;"Slow; very slow"\nC-3;eleven;\n'
# A Delighted-shaped export without a customer id column, whose "Account" column holds one.
EXPORT = (
    b"Response ID,Score,Comment,Email,Name,Created At,Account,Plan\n"
    b"d-1,9,Fixed fast,ana@example.com,Ana Lima,2026-10-01 10:00:00 UTC,A-1,pro\n"
    b"d-2,4,Took a week,bo@example.com,Bo Bell,03/10/2026 09:15,A-2,free\n"
    b"d-3,12,,cy@example.com,Cy,2026-10-02 10:00:00 UTC,A-3,pro\n"
)
SHOTS = os.environ.get("SCREENSHOTS_DIR")


def upload(page: Page, live_server, path: Path) -> None:
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Manage").click()
    navigation.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Survey").select_option("support-2026")
    page.get_by_label("CSV or Excel file:", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()


def test_a_manager_changes_a_mapping_on_the_preview_saves_it_imports_and_reads_the_report(
    page: Page, live_server, maya, survey, tmp_path
):
    path = tmp_path / "delighted.csv"
    path.write_bytes(EXPORT)
    sign_in(page, live_server, "maya", PASSWORD)
    upload(page, live_server, path)

    expect(page.get_by_text("Recognised as a Delighted export.")).to_be_visible()
    expect(page.locator("#identity-note")).to_be_visible()
    rows = page.get_by_role("region", name="First 10 rows as they will be stored")
    expect(rows).to_contain_text("ana@example.com")
    expect(rows).to_contain_text("Ambiguous date")
    expect(page.get_by_label("Account")).to_have_value("attribute")

    page.get_by_label("Account").select_option("customer.external_id")
    page.get_by_label("Dates such as 03/10/2026 are").select_option("day-first")
    page.get_by_role("button", name="Update preview").click()
    expect(page.locator("#identity-note")).to_have_count(0)
    expect(rows).to_contain_text("A-1")
    expect(rows).not_to_contain_text("Ambiguous date")

    page.get_by_label("Save this mapping as").fill("Delighted with accounts")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Using the saved mapping \u201cDelighted with accounts\u201d.")).to_be_visible()
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Status: Done")).to_be_visible()
    expect(page.locator("#import-created")).to_have_text("2")
    expect(page.locator("#import-rejected")).to_have_text("1")
    rejected = page.get_by_role("region", name="Rejected rows")
    expect(rejected.get_by_role("row").nth(1)).to_contain_text("4")
    expect(rejected.get_by_role("row").nth(1)).to_contain_text("Score")
    expect(rejected.get_by_role("row").nth(1)).to_contain_text("12")
    expect(rejected).to_contain_text("Ensure this value is between 0 and 10.")
    assert sorted(Response.objects.values_list("customer__external_id", "submitted_at__day")) == [
        ("A-1", 1),
        ("A-2", 3),
    ]
    assert Customer.objects.get(external_id="A-1").attributes == {"Plan": "pro"}
    assert SavedMapping.objects.get().mapping["customer.external_id"] == "Account"


def test_the_page_of_a_running_import_updates_itself_when_it_finishes(page: Page, live_server, maya, survey):
    job = import_job_create(survey=survey, data=FILE, file_name="nps.csv", enqueue=False)
    sign_in(page, live_server, "maya", PASSWORD)
    page.goto(live_server.url + reverse("import-detail", args=[job.pk]))
    expect(page.get_by_role("heading", name="Status: Pending")).to_be_visible()

    import_job_run(job_id=job.pk)

    expect(page.get_by_role("heading", name="Status: Done")).to_be_visible()
    expect(page.locator("#import-created")).to_have_text("2")


def test_the_upload_preview_and_report_pages_fit_the_screen(screen: Page, live_server, maya, survey, tmp_path):
    path = tmp_path / "delighted.csv"
    path.write_bytes(EXPORT)
    sign_in(screen, live_server, "maya", PASSWORD)
    size = "laptop" if screen.viewport_size == LAPTOP else "phone"
    screen.goto(live_server.url + reverse("import-upload"))
    assert screen.evaluate(PAGE_OVERFLOW) <= 0
    _shoot(screen, f"upload-{size}")
    upload(screen, live_server, path)
    expect(screen.get_by_role("heading", name="Preview of delighted.csv")).to_be_visible()

    assert screen.evaluate(PAGE_OVERFLOW) <= 0
    for name in ("Update preview", "Save mapping", "Import"):
        button = screen.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert (
            box is not None and box["x"] >= 0 and box["x"] + box["width"] <= (screen.viewport_size or LAPTOP)["width"]
        )
    _shoot(screen, f"preview-{size}")
    screen.get_by_role("button", name="Import", exact=True).click()
    expect(screen.get_by_role("heading", name="Status: Done")).to_be_visible()
    assert screen.evaluate(PAGE_OVERFLOW) <= 0
    _shoot(screen, f"report-{size}")


def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
