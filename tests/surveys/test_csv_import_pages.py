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


def test_an_upload_is_imported_and_its_page_shows_what_became_of_each_row(
    manager_client, maya, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client)

    job = ImportJob.objects.get()
    assertRedirects(response, reverse("import-detail", args=[job.pk]))
    page = manager_client.get(reverse("import-detail", args=[job.pk]))
    assertContains(page, "Status: Done")
    assertContains(page, '<td class="num" id="import-created">2</td>', html=True)
    assertContains(page, '<td class="num" id="import-rejected">1</td>', html=True)
    assertContains(
        page, '<tr><td class="num">4</td><td>score</td><td>Ensure this value is between 0 and 10.</td></tr>', html=True
    )
    assertNotContains(page, "hx-trigger")
    assert job.uploaded_by == maya
    assert Response.objects.count() == 2


def test_a_pending_import_page_keeps_polling_for_its_progress(manager_client, survey):
    job = import_job_create(survey=survey, data=GOOD_FILE, file_name="nps.csv", enqueue=False)

    page = manager_client.get(reverse("import-detail", args=[job.pk]))

    assertContains(page, "Status: Pending")
    assertContains(page, 'hx-trigger="every 2s"')


def test_a_file_that_cannot_be_imported_is_refused_on_the_form(manager_client):
    response = upload(manager_client, b"client,rating text\nC-1,9\n")

    assert response.status_code == 200
    assertContains(response, "The file needs a column for customer.external_id")
    assert not ImportJob.objects.exists()


def test_columns_with_other_names_can_be_chosen_on_the_form(manager_client, django_capture_on_commit_callbacks):
    data = b"Client,Likelihood,Region\nC-1,9,EU\n"

    with django_capture_on_commit_callbacks(execute=True):
        upload(
            manager_client,
            data,
            column_customer_external_id="Client",
            column_score="Likelihood",
            attribute_columns="Region",
        )

    response = Response.objects.select_related("customer").get()
    assert (response.customer.external_id, response.score, response.customer.attributes) == ("C-1", 9, {"Region": "EU"})


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
