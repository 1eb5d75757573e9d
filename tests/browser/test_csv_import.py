"""A manager imports a CSV file of responses and follows the import in the browser."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

from surveys.services.imports import import_job_create, import_job_run
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

FILE = b'Customer ID;NPS;Comment\nC-1;9;Quick fix\nC-2;3;"Slow; very slow"\nC-3;eleven;\n'


def test_a_manager_uploads_a_file_and_sees_what_became_of_each_row(page: Page, live_server, maya, survey, tmp_path):
    path = tmp_path / "nps.csv"
    path.write_bytes(FILE)
    sign_in(page, live_server, "maya", PASSWORD)

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Manage").click()
    navigation.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Survey").select_option("support-2026")
    page.get_by_label("CSV file:", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Status: Done")).to_be_visible()
    expect(page.locator("#import-created")).to_have_text("2")
    expect(page.locator("#import-rejected")).to_have_text("1")
    rejected = page.get_by_role("region", name="Rejected rows")
    expect(rejected).to_contain_text("A valid integer from 0 to 10 is required.")


def test_the_page_of_a_running_import_updates_itself_when_it_finishes(page: Page, live_server, maya, survey):
    job = import_job_create(survey=survey, data=FILE, file_name="nps.csv", enqueue=False)
    sign_in(page, live_server, "maya", PASSWORD)
    page.goto(live_server.url + reverse("import-detail", args=[job.pk]))
    expect(page.get_by_role("heading", name="Status: Pending")).to_be_visible()

    import_job_run(job_id=job.pk)

    expect(page.get_by_role("heading", name="Status: Done")).to_be_visible()
    expect(page.locator("#import-created")).to_have_text("2")
