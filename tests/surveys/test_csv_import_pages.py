"""The web pages of CSV imports: uploading a file and following its job."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from surveys.models import ImportJob, Response
from surveys.services.imports import import_job_create, import_job_run

GOOD_FILE = b"customer_id,score,comment,external_id\nC-1,9,Quick fix,r1\nC-2,3,Slow,r2\nC-3,12,,r3\n"


def upload(client, data: bytes = GOOD_FILE, name: str = "nps.csv", **fields):
    form = {"survey": "support-2026", "file": SimpleUploadedFile(name, data, content_type="text/csv"), **fields}
    return client.post(reverse("import-upload"), form)


def choose(client, job: ImportJob, action: str = "import", columns: dict[int, str] | None = None, **fields):
    """Post the preview form of ``job`` with the fields it proposes, changed by ``columns``."""
    page = client.get(reverse("import-preview", args=[job.pk]))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({f"column_{index}": field for index, field in (columns or {}).items()})
    return client.post(reverse("import-preview", args=[job.pk]), {**data, **fields, "action": action})


@pytest.fixture
def manager_client(client, maya, survey):
    client.force_login(maya)
    return client


def test_the_upload_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("import-upload"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("user", ["alice", "izzy", "olga"])
def test_only_managers_may_import(client, survey, user, request):
    client.force_login(request.getfixturevalue(user))

    assert client.get(reverse("import-upload")).status_code == 403
    assert upload(client).status_code == 403
    assert not ImportJob.objects.exists()


def test_the_upload_page_offers_the_surveys_and_names_the_time_zone(manager_client, settings):
    response = manager_client.get(reverse("import-upload"))

    assertContains(response, '<option value="support-2026">Support 2026</option>', html=True)
    assertContains(response, f"read in {settings.TIME_ZONE}")
    assertContains(response, ".xlsx")


def test_an_upload_is_imported_and_its_page_shows_what_became_of_each_row(
    manager_client, maya, django_capture_on_commit_callbacks
):
    response = upload(manager_client)
    job = ImportJob.objects.get()
    assertRedirects(response, reverse("import-preview", args=[job.pk]))
    assert (job.status, Response.objects.count()) == (ImportJob.Status.DRAFT, 0)
    with django_capture_on_commit_callbacks(execute=True):
        started = choose(manager_client, job)

    assertRedirects(started, reverse("import-detail", args=[job.pk]))
    page = manager_client.get(reverse("import-detail", args=[job.pk]))
    assertContains(page, "Status: Done")
    assertContains(page, '<td class="num" id="import-created">2</td>', html=True)
    assertContains(page, '<td class="num" id="import-rejected">1</td>', html=True)
    assertContains(
        page,
        '<tr><td class="num">4</td><td>score</td><td>12</td><td>Ensure this value is between 0 and 10.</td></tr>',
        html=True,
    )
    assertNotContains(page, "hx-trigger")
    assert job.uploaded_by == maya
    assert Response.objects.count() == 2


def test_a_pending_import_page_keeps_polling_for_its_progress(manager_client, survey):
    job = import_job_create(survey=survey, data=GOOD_FILE, file_name="nps.csv", enqueue=False)

    page = manager_client.get(reverse("import-detail", args=[job.pk]))

    assertContains(page, "Status: Pending")
    assertContains(page, 'hx-trigger="every 2s"')


def test_a_file_that_is_not_csv_is_refused_on_the_form(manager_client):
    response = upload(manager_client, b'customer_id,score\n"C-1,9\n')

    assert response.status_code == 200
    assertContains(response, "the file is not valid CSV")
    assert not ImportJob.objects.exists()


def test_a_mapping_without_the_fields_an_import_needs_is_refused_on_the_preview(manager_client):
    upload(manager_client, b"client,rating text\nC-1,9\n")
    job = ImportJob.objects.get()

    response = choose(manager_client, job)

    assert response.status_code == 200
    assertContains(response, "The file needs a column for customer.external_id")
    job.refresh_from_db()
    assert (job.status, Response.objects.count()) == (ImportJob.Status.DRAFT, 0)


def test_the_preview_shows_each_column_with_its_field_and_the_first_rows_as_stored(manager_client):
    data = (
        b"Response ID,Score,Comment,Email,Name,Created At,Plan\n"
        b"r1,9,ok, Ana@X.com ,Ana,2026-10-01 10:00:00 UTC,pro\n"
        b"r2,7,,,,2026-10-02,free\n"
    )
    upload(manager_client, data)
    job = ImportJob.objects.get()

    page = manager_client.get(reverse("import-preview", args=[job.pk]))

    assertContains(page, "Recognised as a Delighted export.")
    assertContains(page, "the email (trimmed, lower-cased) identifies each customer")
    form = page.context["form"]
    assert [(column, field.value()) for column, field in form.column_fields()] == [
        ("Response ID", "external_id"),
        ("Score", "score"),
        ("Comment", "comment"),
        ("Email", "customer.email"),
        ("Name", "customer.name"),
        ("Created At", "submitted_at"),
        ("Plan", "attribute"),
    ]
    stored, rejected = page.context["rows"]
    assert stored["stored"]["customer"] == "ana@x.com"
    assert stored["stored"]["attributes"] == {"Plan": "pro"}
    assert rejected["problems"] == [
        ("Email", "", "No customer id column, and this row has no email to identify the customer.")
    ]
    assertContains(page, "Rejected")


def test_columns_with_other_names_can_be_chosen_on_the_preview(manager_client, django_capture_on_commit_callbacks):
    upload(manager_client, b"Client,Likelihood,Region\nC-1,9,EU\n")
    job = ImportJob.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        choose(manager_client, job, columns={0: "customer.external_id", 1: "score", 2: "attribute"})

    response = Response.objects.select_related("customer").get()
    assert (response.customer.external_id, response.score, response.customer.attributes) == ("C-1", 9, {"Region": "EU"})


def test_a_field_chosen_for_two_columns_is_refused(manager_client):
    upload(manager_client, b"Client,Likelihood,Region\nC-1,9,EU\n")
    job = ImportJob.objects.get()

    response = choose(manager_client, job, columns={0: "score", 1: "score"})

    assertContains(response, "Score (0-10) is chosen for two columns")


def test_a_saved_mapping_is_offered_again_for_the_next_file_with_the_same_headers(manager_client):
    upload(manager_client, b"Client,Likelihood,Region\nC-1,9,EU\n")
    first = ImportJob.objects.get()
    saved = choose(
        manager_client,
        first,
        "save",
        columns={0: "customer.external_id", 1: "score", 2: "attribute"},
        mapping_name="Old tool",
        date_order="day-first",
    )
    assertRedirects(saved, reverse("import-preview", args=[first.pk]))

    upload(manager_client, b"region,likelihood,client\nUS,3,C-2\n")
    second = ImportJob.objects.latest("pk")

    assert second.mapping == {"customer.external_id": "client", "score": "likelihood", "attribute:Region": "region"}
    assert second.date_order == "day-first"
    page = manager_client.get(reverse("import-preview", args=[second.pk]))
    assertContains(page, "Using the saved mapping &ldquo;Old tool&rdquo;.")


def test_the_preview_reads_a_fixed_number_of_queries(manager_client, django_assert_num_queries):
    upload(manager_client, GOOD_FILE)
    small = ImportJob.objects.get()
    rows = "".join(f"C-{n},{n % 11},,r{n}\n" for n in range(500))
    upload(manager_client, b"customer_id,score,comment,external_id\n" + rows.encode())
    large = ImportJob.objects.latest("pk")

    with django_assert_num_queries(5) as counted:
        manager_client.get(reverse("import-preview", args=[small.pk]))
    with django_assert_num_queries(len(counted.captured_queries)):
        manager_client.get(reverse("import-preview", args=[large.pk]))


def test_a_file_above_the_size_limit_is_refused(manager_client, settings):
    settings.IMPORT_MAX_BYTES = 50

    response = upload(manager_client)

    assertContains(response, "The file is larger than 50")
    assert not ImportJob.objects.exists()


def test_a_file_name_and_an_error_from_the_file_are_shown_escaped(manager_client, survey):
    job = ImportJob.objects.create(
        survey=survey,
        file_name="<script>alert(1)</script>.csv",
        content="customer_id,score\nC-1,9\n",
        mapping={"customer.external_id": "customer_id", "score": "<b>NPS</b>"},
    )
    import_job_run(job_id=job.pk)
    page = manager_client.get(reverse("import-detail", args=[job.pk]))

    assertNotContains(page, "<script>alert(1)</script>")
    assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt;.csv")
    assertContains(page, "The file has no column &#x27;&lt;b&gt;NPS&lt;/b&gt;&#x27;.")
    assertContains(page, "Status: Failed")


def test_an_unknown_import_is_not_found(manager_client):
    assert manager_client.get(reverse("import-detail", args=[999])).status_code == 404


def test_a_file_name_with_a_nul_character_is_stored_without_it(manager_client):
    upload(manager_client, name="nps\x00.csv")

    assert ImportJob.objects.get().file_name == "nps.csv"
