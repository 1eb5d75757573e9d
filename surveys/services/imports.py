"""CSV imports of responses: a file becomes an ImportJob, and the job is ingested in chunks.

An upload is checked whole before anything is stored (encoding, CSV structure, the columns that
feed each field), so a file that cannot be imported is refused at once and no job exists for it.
The rows themselves are judged by the ingestion service while the job runs on the task cluster.

A job runs in chunks, each in its own transaction: the chunk's responses and the job's progress
(``rows`` read so far, with the counts) commit together under a lock on the job row. A run that
is delivered twice, or resumed after a worker died, starts after the recorded progress, so no
row is ingested twice, and each chunk sends ``responses_ingested`` once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from itertools import islice

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from surveys.csv_import import (
    CsvFileError,
    CsvRow,
    count_rows,
    decode,
    flatten_errors,
    read_header,
    read_rows,
    resolve_mapping,
)
from surveys.models import Channel, ImportJob, Survey
from surveys.services.ingestion import responses_ingest

CHUNK_ROWS = 2000
# Rejected rows are listed up to this many; the count of all of them is rows - created - duplicates.
REJECTED_KEPT = 200
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED)


@transaction.atomic
def import_job_create(
    *,
    survey: Survey,
    data: bytes,
    file_name: str,
    uploaded_by: User | None = None,
    mapping: Mapping[str, str] | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Check a CSV file of responses to ``survey`` and store it as a pending job.

    ``mapping`` names the column for some fields ({"score": "NPS"}); the other fields are found
    by their column names. Raises ValidationError (on ``file``) when the file cannot be
    imported. With ``enqueue`` the task cluster runs the job once this transaction commits;
    without it the caller runs it with ``import_job_run``.
    """
    try:
        text = decode(data)
        columns = resolve_mapping(read_header(text), mapping)
        if count_rows(text) == 0:
            raise CsvFileError("The file has a header but no rows.")
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    job = ImportJob(survey=survey, uploaded_by=uploaded_by, file_name=file_name[:255], content=text, mapping=columns)
    job.full_clean()
    job.save()
    if enqueue:
        transaction.on_commit(partial(async_task, "surveys.tasks.import_job_run", job.pk))
    return job


def import_job_run(*, job_id: int, chunk_rows: int = CHUNK_ROWS) -> ImportJob:
    """Ingest a job's rows from where it stands and mark it done; safe to call any number of times.

    Rows are ingested through ``responses_ingest`` exactly as the bulk API would (channel
    ``import`` unless a column says otherwise). A file that no longer reads as CSV fails the job.
    Once finished, the file's content is dropped: it holds customer data the responses now keep.
    """
    job = ImportJob.objects.select_related("survey").get(pk=job_id)
    if job.status in FINISHED:
        return job
    try:
        rows = read_rows(job.content, mapping=job.mapping, survey=job.survey.slug, tz=timezone.get_default_timezone())
        start = 0
        while chunk := list(islice(rows, chunk_rows)):
            if not _import_chunk(job_id, start, chunk):
                break
            start += len(chunk)
    except CsvFileError as exc:
        return _finish(job_id, ImportJob.Status.FAILED, error=exc.message)
    return _finish(job_id, ImportJob.Status.DONE)


def _locked(job_id: int) -> ImportJob:
    # The content is not needed to record progress, and is the bulk of the row.
    return ImportJob.objects.select_for_update().defer("content").get(pk=job_id)


@transaction.atomic
def _import_chunk(job_id: int, start: int, chunk: list[CsvRow]) -> bool:
    """Ingest the rows of ``chunk`` (rows ``start``...) not yet recorded; False once the job is finished.

    The lock serialises runs of one job: whichever run is behind skips what the other stored.
    """
    job = _locked(job_id)
    if job.status in FINISHED:
        return False
    pending = chunk[max(job.rows - start, 0) :]
    if not pending:
        return True
    items = [row for row in pending if row.item is not None]
    result = responses_ingest(items=[row.item for row in items], default_channel=Channel.IMPORT)
    errors = {row.line: row.errors for row in pending if row.errors is not None}
    errors.update({items[index].line: found for index, found in result.rejected})
    listed = sorted(errors.items())[: max(REJECTED_KEPT - len(job.rejected), 0)]
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.RUNNING,
        rows=job.rows + len(pending),
        created=job.created + result.count("created"),
        duplicates=job.duplicates + result.count("duplicate"),
        rejected=job.rejected + [{"line": line, "errors": flatten_errors(found)} for line, found in listed],
    )
    return True


@transaction.atomic
def _finish(job_id: int, status: str, error: str = "") -> ImportJob:
    job = _locked(job_id)
    if job.status not in FINISHED:
        ImportJob.objects.filter(pk=job_id).update(status=status, error=error, content="", finished_at=timezone.now())
    return ImportJob.objects.defer("content").get(pk=job_id)
