"""CSV import jobs on the database: checking an upload, running it in chunks, the task and the command."""

from __future__ import annotations

import csv
import gc
import io
import re
from datetime import UTC, datetime
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_q.models import Success

from surveys.management.commands.import_responses import Command as ImportResponses
from surveys.models import Customer, ImportJob, Response
from surveys.services.imports import CHUNK_ROWS, REJECTED_KEPT, import_job_create, import_job_run
from surveys.signals import responses_ingested
from tests.concurrency import at_once
from tests.factories import make_response

HEADER = ("customer_id", "score", "comment", "external_id")


def csv_bytes(*rows: tuple, header: tuple = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def create(survey, data: bytes, **kwargs) -> ImportJob:
    return import_job_create(survey=survey, data=data, file_name="responses.csv", enqueue=False, **kwargs)


def imported(survey, data: bytes, chunk_rows: int = CHUNK_ROWS, **kwargs) -> ImportJob:
    return import_job_run(job_id=create(survey, data, **kwargs).pk, chunk_rows=chunk_rows)


FIVE_ROWS = csv_bytes(*[(f"C-{n}", n, f"comment {n}", f"r{n}") for n in range(1, 6)])


# Checking the upload


def test_an_upload_that_cannot_be_imported_is_refused_and_stores_nothing(survey):
    with pytest.raises(ValidationError) as caught:
        create(survey, csv_bytes(("C-1", "9"), header=("customer_id", "rating text")))

    assert "The file needs a column for score" in caught.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()


def test_a_file_with_only_a_header_is_refused(survey):
    with pytest.raises(ValidationError, match="no rows"):
        create(survey, csv_bytes())


def test_a_file_that_is_not_valid_csv_is_refused_with_the_line(survey):
    with pytest.raises(ValidationError, match="Line 3"):
        create(survey, b'customer_id,score,comment\nC-1,9,fine\nC-2,3,"never closed\n')


def test_a_pending_job_keeps_the_columns_it_will_read(survey, maya):
    job = create(
        survey,
        csv_bytes(("C-1", "9", "x"), header=("Customer ID", "Likelihood", "Plan")),
        uploaded_by=maya,
        mapping={"score": "Likelihood", "attribute:plan": "Plan"},
    )

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    assert job.mapping == {"customer.external_id": "Customer ID", "score": "Likelihood", "attribute:plan": "Plan"}
    assert job.uploaded_by == maya
    assert job.rows == 0


# Running a job


def test_valid_rows_are_stored_and_rejected_rows_are_listed_by_line(survey):
    data = csv_bytes(
        ("C-1", "9", "Fixed in minutes", "r1"),
        ("C-2", "3", "Took a week", "r2"),
        ("C-3", "11", "", "r3"),
        ("", "5", "", "r4"),
        ("C-5", "nine", "", "r5"),
    )

    job = imported(survey, data)

    assert (job.status, job.rows, job.created, job.duplicates) == (ImportJob.Status.DONE, 5, 2, 0)
    assert job.rejected == [
        {"line": 4, "errors": {"score": ["Ensure this value is between 0 and 10."]}, "values": {"score": "11"}},
        {"line": 5, "errors": {"customer.external_id": ["This field is required."]}, "values": {}},
        {
            "line": 6,
            "errors": {"score": ["Not an NPS score from 0 to 10: 'nine'. Scores on other scales are not converted."]},
            "values": {"score": "nine"},
        },
    ]
    stored = Response.objects.order_by("external_id")
    assert [(r.customer.external_id, r.score, r.category, r.comment) for r in stored] == [
        ("C-1", 9, "promoter", "Fixed in minutes"),
        ("C-2", 3, "detractor", "Took a week"),
    ]
    assert job.finished_at is not None


def test_imported_responses_have_the_import_channel_unless_a_column_says_otherwise(survey):
    imported(survey, csv_bytes(("C-1", "9", "email"), ("C-2", "8", ""), header=("customer_id", "score", "channel")))

    assert dict(Response.objects.values_list("customer__external_id", "channel")) == {"C-1": "email", "C-2": "import"}


def test_customer_details_and_attributes_come_from_their_columns(survey):
    imported(
        survey,
        csv_bytes(
            ("C-1", "ana@example.com", "Ana Silva", "9", "gold"),
            header=("customer_id", "email", "name", "score", "attribute:plan"),
        ),
    )

    customer = Customer.objects.get(external_id="C-1")
    assert (customer.email, customer.name, customer.attributes) == ("ana@example.com", "Ana Silva", {"plan": "gold"})


def test_times_without_an_offset_are_read_in_the_project_time_zone(survey, settings):
    settings.TIME_ZONE = "America/New_York"

    imported(survey, csv_bytes(("C-1", "9", "2026-07-01 10:00"), header=("customer_id", "score", "submitted_at")))

    assert Response.objects.get().submitted_at == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_rows_imported_before_are_duplicates_and_stored_once(survey):
    make_response(9, customer="C-1", external_id="r1")
    data = csv_bytes(("C-1", "9", "", "r1"), ("C-2", "7", "", "r2"), ("C-2", "7", "again", "r2"))

    job = imported(survey, data)

    assert (job.created, job.duplicates, job.rejected) == (1, 2, [])
    assert Response.objects.count() == 2


def test_uploading_the_same_file_again_creates_nothing_new(survey):
    imported(survey, FIVE_ROWS)

    again = imported(survey, FIVE_ROWS)

    assert (again.rows, again.created, again.duplicates) == (5, 0, 5)
    assert Response.objects.count() == 5


def test_a_file_without_external_ids_imported_again_creates_nothing_new(survey):
    rows = [(f"C-{n}", n, f"comment {n}", "2026-11-20T10:00:00+00:00") for n in range(1, 4)]
    data = csv_bytes(*rows, header=("customer_id", "score", "comment", "submitted_at"))
    first = imported(survey, data)
    again = imported(survey, data)
    assert (first.created, again.created, again.duplicates) == (3, 0, 3)
    assert Response.objects.count() == 3


def test_running_a_finished_job_again_changes_nothing(survey):
    job = imported(survey, FIVE_ROWS)

    again = import_job_run(job_id=job.pk)

    assert (again.status, again.rows, again.created, again.finished_at) == (
        job.status,
        job.rows,
        job.created,
        job.finished_at,
    )
    assert Response.objects.count() == 5


def test_a_run_resumes_after_the_rows_its_job_has_recorded(survey):
    job = create(survey, FIVE_ROWS)
    # As if a worker had committed the first two rows' chunk and then died.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, rows=2, created=2)

    job = import_job_run(job_id=job.pk, chunk_rows=2)

    assert (job.status, job.rows, job.created) == (ImportJob.Status.DONE, 5, 5)
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["r3", "r4", "r5"]


def test_a_run_resumed_inside_a_chunk_reports_each_rejected_row_by_its_own_line(survey):
    data = csv_bytes(
        ("C-1", "9", "", "r1"),
        ("C-2", "nine", "", "r2"),
        ("C-3", "11", "", "r3"),
        ("C-4", "4", "", "r4"),
        ("C-5", "5", "", "r5"),
    )
    job = create(survey, data)
    # The first chunk holds rows 1-3 and the worker that died had stored row 1 only.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, rows=1, created=1)

    job = import_job_run(job_id=job.pk, chunk_rows=3)

    assert (job.rows, job.created) == (5, 3)
    assert [(entry["line"], entry["values"]) for entry in job.rejected] == [
        (3, {"score": "nine"}),
        (4, {"score": "11"}),
    ]
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["r4", "r5"]


def test_a_job_is_read_and_stored_without_cyclic_garbage_collections(survey):
    collections: list[int] = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    job = create(survey, csv_bytes(*[(f"C-{n % 700}", n % 11, "", f"gc{n}") for n in range(3000)]))
    gc.collect()
    gc.callbacks.append(count)
    try:
        job = import_job_run(job_id=job.pk, chunk_rows=500)
    finally:
        gc.callbacks.remove(count)
    assert job.created == 3000
    # The reading thread and the chunk being stored share one pause: neither step's end resumes
    # the collector during the other, which would start collections by the dozen.
    assert len(collections) <= 1
    assert gc.isenabled()


def test_each_chunk_is_announced_once_after_it_commits(survey, django_capture_on_commit_callbacks):
    batches: list[list[int]] = []

    def receiver(sender, response_ids, **kwargs):
        batches.append(response_ids)

    responses_ingested.connect(receiver)
    try:
        job = create(survey, FIVE_ROWS)
        with django_capture_on_commit_callbacks(execute=True):
            import_job_run(job_id=job.pk, chunk_rows=2)
    finally:
        responses_ingested.disconnect(receiver)

    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(pk for batch in batches for pk in batch) == sorted(Response.objects.values_list("pk", flat=True))


def test_rejected_rows_beyond_those_listed_are_still_counted(survey):
    rows = [(f"C-{n}", "11", "", f"r{n}") for n in range(REJECTED_KEPT + 50)] + [("C-ok", "9", "", "ok")]

    job = imported(survey, csv_bytes(*rows), chunk_rows=100)

    assert (job.rows, job.created, job.duplicates) == (REJECTED_KEPT + 51, 1, 0)
    assert len(job.rejected) == REJECTED_KEPT
    assert [entry["line"] for entry in job.rejected] == list(range(2, REJECTED_KEPT + 2))
    assert (job.rejected_count, job.rejected_unlisted) == (REJECTED_KEPT + 50, 50)


@pytest.mark.parametrize(
    ("rows", "created", "duplicates", "listed", "count", "unlisted"),
    [(0, 0, 0, 0, 0, 0), (10, 10, 0, 0, 0, 0), (10, 6, 1, 3, 3, 0), (10, 2, 3, 2, 5, 3)],
)
def test_the_rejected_rows_are_those_neither_created_nor_duplicates(rows, created, duplicates, listed, count, unlisted):
    job = ImportJob(rows=rows, created=created, duplicates=duplicates, rejected=[{"line": 2, "errors": {}}] * listed)

    assert (job.rejected_count, job.rejected_unlisted) == (count, unlisted)


def test_the_file_is_dropped_once_the_import_finishes(survey):
    job = imported(survey, FIVE_ROWS)

    assert ImportJob.objects.get(pk=job.pk).content == ""


def test_a_job_whose_file_does_not_have_its_columns_fails_with_the_reason(survey):
    job = ImportJob.objects.create(
        survey=survey,
        file_name="edited.csv",
        content="customer_id,score\nC-1,9\n",
        mapping={"customer.external_id": "customer_id", "score": "NPS"},
    )

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == "The file has no column 'NPS'."
    assert not Response.objects.exists()


def test_an_upload_is_imported_by_the_task_cluster_once_it_commits(survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(survey=survey, data=FIVE_ROWS, file_name="responses.csv")
        assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PENDING

    job.refresh_from_db()
    assert (job.status, job.created) == (ImportJob.Status.DONE, 5)
    assert Success.objects.filter(func="surveys.tasks.import_job_run", args=(job.pk,)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_job_at_once_store_each_row_once(survey):
    job = create(survey, csv_bytes(*[(f"C-{n}", n % 11, "", "") for n in range(600)]))
    at_once(*[partial(import_job_run, job_id=job.pk, chunk_rows=50)] * 2)

    job.refresh_from_db()
    assert (job.status, job.rows, job.created) == (ImportJob.Status.DONE, 600, 600)
    # The rows carry no idempotency key: only the job's progress keeps them from being stored twice.
    assert Response.objects.count() == 600


# The management command


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("import_responses", *args, stdout=out)
    return out.getvalue()


def test_the_command_imports_a_file_and_prints_the_outcome(survey, tmp_path):
    path = tmp_path / "nps.csv"
    path.write_bytes(csv_bytes(("C-1", "9", "", "r1"), ("C-2", "12", "", "r2")))

    out = run_command(str(path), "--survey", "support-2026")

    job = ImportJob.objects.get()
    assert f"Import {job.pk} of nps.csv: 2 rows, 1 created, 0 already imported, 1 rejected." in out
    assert "line 3: score '12': Ensure this value is between 0 and 10." in out
    assert Response.objects.get().external_id == "r1"


def test_the_command_starts_without_walking_the_system_checks(survey, tmp_path, monkeypatch):
    def walked(*args, **kwargs):
        raise AssertionError("the system checks ran")

    monkeypatch.setattr("django.core.checks.run_checks", walked)
    path = tmp_path / "nps.csv"
    path.write_bytes(csv_bytes(("C-1", "9", "", "r1")))

    # As manage.py runs it: call_command would skip the checks whatever the command says.
    command = ImportResponses(stdout=io.StringIO())
    options = vars(
        command.create_parser("manage.py", "import_responses").parse_args([str(path), "--survey", "support-2026"])
    )
    command.execute(**options)

    assert Response.objects.get().external_id == "r1"


def test_the_command_reads_columns_named_with_map(survey, tmp_path):
    path = tmp_path / "nps.csv"
    path.write_bytes(csv_bytes(("C-1", "9", "EU"), header=("Client", "Likelihood", "Region")))

    run_command(
        str(path),
        "--survey",
        "support-2026",
        "--map",
        "customer.external_id=Client",
        "--map",
        "score=Likelihood",
        "--map",
        "attribute:region=Region",
    )

    response = Response.objects.select_related("customer").get()
    assert (response.customer.external_id, response.score, response.customer.attributes) == ("C-1", 9, {"region": "EU"})


def test_the_command_finishes_an_uploaded_import_given_its_id(survey):
    job = create(survey, FIVE_ROWS)

    out = run_command("--job", str(job.pk))

    assert "5 rows, 5 created" in out
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give either a FILE with --survey, or --job."),
        (("--job", "999"), "No import with id 999."),
        (("{file}", "--survey", "nope"), "No survey with slug 'nope'"),
        (("{file}", "--survey", "support-2026", "--map", "score"), "Write each --map as FIELD=COLUMN."),
        (("{missing}", "--survey", "support-2026"), "Cannot read"),
        (("{file}", "--survey", "support-2026", "--map", "score=NPS"), "The file has no column 'NPS' for score."),
    ],
)
def test_the_command_refuses_what_it_cannot_import(survey, tmp_path, args, message):
    path = tmp_path / "nps.csv"
    path.write_bytes(FIVE_ROWS)
    args = [arg.format(file=path, missing=tmp_path / "missing.csv") for arg in args]

    with pytest.raises(CommandError, match=re.escape(message)):
        run_command(*args)
    assert not Response.objects.exists()
