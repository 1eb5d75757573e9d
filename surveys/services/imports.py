"""Imports of responses from files: a file becomes an ImportJob, and the job is ingested in chunks.

An upload is checked whole before anything is stored (encoding, CSV structure, the columns that
feed each field), so a file that cannot be imported is refused at once and no job exists for it.
The upload page stores a file as a draft first, previews it with the mapping it proposes, and
starts the job once the mapping is chosen. The rows themselves are judged by the ingestion
service while the job runs on the task cluster.

A job runs in chunks, each in its own transaction: the chunk's responses, the root-cause codes
their old tool's tags name (``responses_tagged``), and the job's progress (``rows`` read so far,
with the counts) commit together under a lock on the job row. A run that is delivered twice, or
resumed after a worker died, starts after the recorded progress, so no row is ingested twice,
and each chunk sends ``responses_ingested`` once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import islice
from pathlib import Path
from queue import Full, Queue
from threading import Event, Thread
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from closedloop.lib.memory import collector_paused
from surveys.csv_import import (
    CsvFileError,
    CsvRow,
    Source,
    count_rows,
    file_encoding,
    flatten_errors,
    propose_mapping,
    read_header,
    read_rows,
    read_upload,
    resolve_mapping,
    tool_of,
)
from surveys.import_times import DateOrder
from surveys.intake import Errors, ResponseItem, parse_response_item
from surveys.models import Channel, ImportJob, Survey
from surveys.selectors import saved_mapping_for
from surveys.services.ingestion import MAX_BATCH, responses_ingest_parsed
from surveys.signals import responses_tagged
from surveys.xlsx import XLSX_MAGIC, is_workbook

# A chunk is one batch of the bulk endpoint's size: fewer, larger transactions import faster, and
# one chunk of rows in memory stays small.
CHUNK_ROWS = MAX_BATCH
# Rejected rows are listed up to this many; the count of all of them is rows - created - duplicates.
REJECTED_KEPT = 200
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED)
PREVIEW_ROWS = 10


def _zone(name: str) -> ZoneInfo:
    """The zone naive times are read in: ``name``, or the site's when empty."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(timezone.get_default_timezone_name())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"time_zone": [f"Unknown time zone {name[:64]!r}."]}) from exc


def _date_order(value: str) -> DateOrder | None:
    if not value:
        return None
    try:
        return DateOrder(value)
    except ValueError as exc:
        raise ValidationError({"date_order": ["Choose day-first or month-first."]}) from exc


def _is_workbook_file(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return is_workbook(file.read(len(XLSX_MAGIC)))
    except OSError as exc:
        raise ValidationError({"file": [f"Cannot read {path}: {exc.strerror}."]}) from exc


def _read_bytes(path: Path | None) -> bytes:
    if path is None:
        raise ValidationError({"file": ["No file given."]})
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError({"file": [f"Cannot read {path}: {exc.strerror}."]}) from exc


def _text_of(data: bytes) -> tuple[str, list[str]]:
    try:
        text = read_upload(data)
        header = read_header(text)
        if count_rows(text) == 0:
            raise CsvFileError("The file has a header but no rows.")
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    return text, header


@contextmanager
def _source(job: ImportJob) -> Iterator[Source]:
    """The job's file: its stored content, or the file on disk opened for streaming."""
    if not job.source_path:
        yield job.content
        return
    try:
        with open(job.source_path, encoding=job.source_encoding, newline="") as file:
            yield file
    except OSError as exc:
        raise CsvFileError(f"Cannot read {job.source_path}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise CsvFileError(f"The file is no longer {job.source_encoding} text.") from exc


def import_job_header(job: ImportJob) -> list[str]:
    """The column names of a job's file, wherever it is kept."""
    try:
        with _source(job) as source:
            return read_header(source)
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc


def _checked_file(path: Path) -> tuple[str, list[str]]:
    """The encoding and header of a CSV file on disk, checked whole in one streaming pass."""
    try:
        encoding = file_encoding(path)
        with open(path, encoding=encoding, newline="") as file:
            header = read_header(file)
            if count_rows(file) == 0:
                raise CsvFileError("The file has a header but no rows.")
    except OSError as exc:
        raise ValidationError({"file": [f"Cannot read {path}: {exc.strerror}."]}) from exc
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    return encoding, header


@transaction.atomic
def import_job_create(
    *,
    survey: Survey,
    data: bytes | None = None,
    path: Path | None = None,
    file_name: str,
    uploaded_by: User | None = None,
    mapping: Mapping[str, str] | None = None,
    exact: bool = False,
    date_order: str = "",
    time_zone: str = "",
    enqueue: bool = True,
) -> ImportJob:
    """Check a file of responses to ``survey`` (CSV or .xlsx) and store it as a pending job.

    The file is ``data``, stored with the job, or a CSV file at ``path``, read where it lies
    (in bounded memory however large it is) and so needed until the job has run; a workbook at
    ``path`` is read into the job like ``data``.

    ``mapping`` names the column for some fields ({"score": "NPS"}); the other fields are found
    by their column names, or by a known tool's export shape (with ``exact``, ``mapping`` is
    the whole mapping). ``date_order`` says how dates such as 03/10/2026 are written;
    ``time_zone`` is the zone of times without one (default: the site's). Raises
    ValidationError (on ``file``) when the file cannot be imported. With ``enqueue`` the task
    cluster runs the job once this transaction commits; without it the caller runs it with
    ``import_job_run``.
    """
    _zone(time_zone)
    _date_order(date_order)
    text, encoding = "", ""
    if path is not None and not _is_workbook_file(path):
        encoding, header = _checked_file(path)
    else:
        text, header = _text_of(data if data is not None else _read_bytes(path))
    try:
        columns = resolve_mapping(header, mapping, exact=exact)
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    job = ImportJob(
        survey=survey,
        uploaded_by=uploaded_by,
        file_name=file_name[:255],
        content=text,
        source_path=str(path.resolve()) if encoding and path is not None else "",
        source_encoding=encoding,
        mapping=columns,
        date_order=date_order,
        time_zone=time_zone,
        tool=tool_of(header),
    )
    job.full_clean()
    job.save()
    if enqueue:
        transaction.on_commit(partial(async_task, "surveys.tasks.import_job_run", job.pk))
    return job


@transaction.atomic
def import_job_draft_create(
    *, survey: Survey, data: bytes, file_name: str, uploaded_by: User | None = None
) -> ImportJob:
    """Store an uploaded file as a draft job with the mapping its headers suggest, for a preview.

    The file must read as CSV (or .xlsx) with rows; the mapping may still lack fields, which the
    preview lets the uploader choose. A mapping saved for files with the same columns is
    applied, with its time options. Nothing is imported until ``import_job_start``.
    """
    text, header = _text_of(data)
    saved = saved_mapping_for(header)
    try:
        mapping = propose_mapping(header) if saved is None else propose_mapping(header, saved.mapping, exact=True)
    except CsvFileError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    job = ImportJob(
        survey=survey,
        uploaded_by=uploaded_by,
        file_name=file_name[:255],
        content=text,
        mapping=mapping,
        status=ImportJob.Status.DRAFT,
        tool=tool_of(header),
        date_order=saved.date_order if saved else "",
        time_zone=saved.time_zone if saved else "",
    )
    job.full_clean()
    job.save()
    return job


def _checked_mapping(job: ImportJob, mapping: Mapping[str, str]) -> dict[str, str]:
    try:
        return resolve_mapping(read_header(job.content), mapping, exact=True)
    except CsvFileError as exc:
        raise ValidationError({"mapping": [exc.message]}) from exc


@transaction.atomic
def import_job_update_draft(
    *, job: ImportJob, mapping: Mapping[str, str], date_order: str = "", time_zone: str = ""
) -> ImportJob:
    """Record the mapping and time options chosen on a draft's preview, without starting it."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationError({"mapping": ["This import has started: its mapping can no longer change."]})
    _zone(time_zone)
    _date_order(date_order)
    try:
        job.mapping = propose_mapping(read_header(job.content), mapping, exact=True)
    except CsvFileError as exc:
        raise ValidationError({"mapping": [exc.message]}) from exc
    job.date_order, job.time_zone = date_order, time_zone
    job.full_clean()
    job.save(update_fields=["mapping", "date_order", "time_zone"])
    return job


@transaction.atomic
def import_job_start(
    *, job: ImportJob, mapping: Mapping[str, str], date_order: str = "", time_zone: str = "", enqueue: bool = True
) -> ImportJob:
    """Start a draft with its final mapping; ValidationError (on ``mapping``) if it cannot import."""
    job = import_job_update_draft(job=job, mapping=mapping, date_order=date_order, time_zone=time_zone)
    job.mapping = _checked_mapping(job, mapping)
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["mapping", "status"])
    if enqueue:
        transaction.on_commit(partial(async_task, "surveys.tasks.import_job_run", job.pk))
    return job


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """A row of the preview: what would be stored (``stored``) or why the row would be refused."""

    line: int
    values: dict[str, str]
    stored: dict[str, Any] | None
    errors: dict[str, list[str]]


def import_preview(*, job: ImportJob, rows: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """The first rows of a draft as they will be stored or rejected, judged as ingestion judges them.

    Reads only the first ``rows`` records; the survey is the job's, so no lookup is needed.
    """
    now = timezone.now()
    read = read_rows(
        job.content,
        mapping=job.mapping,
        survey=job.survey.slug,
        tz=_zone(job.time_zone),
        date_order=_date_order(job.date_order),
    )
    preview: list[PreviewRow] = []
    for row in islice(read, rows):
        errors: dict[str, Any] = row.errors or {}
        stored: dict[str, Any] | None = None
        if row.item is not None:
            item, errors = parse_response_item(row.item, now=now)
            if item is not None:
                stored = {
                    "customer": item.customer.external_id,
                    "email": item.customer.email or "",
                    "name": item.customer.name or "",
                    "score": item.score,
                    "submitted_at": item.submitted_at,
                    "comment": item.comment,
                    "attributes": item.customer.attributes or {},
                    "tags": row.tags,
                }
        preview.append(PreviewRow(row.line, row.values or {}, stored, flatten_errors(errors)))
    return preview


def import_job_run(
    *, job_id: int, chunk_rows: int = CHUNK_ROWS, progress: Callable[[int], None] | None = None
) -> ImportJob:
    """Ingest a job's rows from where it stands and mark it done; safe to call any number of times.

    Rows are ingested through ``responses_ingest`` exactly as the bulk API would (channel
    ``import`` unless a column says otherwise). A file that no longer reads as CSV fails the job.
    Once finished, the file's content is dropped: it holds customer data the responses now keep.
    A draft does not run: it waits for ``import_job_start``. ``progress`` is called with the
    number of rows read so far after each chunk.
    """
    job = ImportJob.objects.select_related("survey").get(pk=job_id)
    if job.status in FINISHED or job.status == ImportJob.Status.DRAFT:
        return job
    try:
        # Reading and storing a chunk allocate a few hundred thousand small objects and no
        # cycles: the cyclic collector would only walk them again and again. One pause for the
        # whole run, not one per step: the collector is process-wide, so the reading thread
        # ending its step would resume it in the middle of the chunk being stored, and the
        # other way round. A run leaves no cycles to collect (a 100,000-row import left 3 objects).
        with collector_paused(), _source(job) as source:
            rows = read_rows(
                source,
                mapping=job.mapping,
                survey=job.survey.slug,
                tz=_zone(job.time_zone),
                date_order=_date_order(job.date_order),
            )
            # The content now lives in the reader's buffer only; the job keeps no second copy.
            job.content = ""
            start = 0
            for chunk in _read_ahead(rows, chunk_rows):
                if not _import_chunk(job_id, start, chunk):
                    break
                start += len(chunk.rows)
                if progress is not None:
                    progress(start)
    except CsvFileError as exc:
        return _finish(job_id, ImportJob.Status.FAILED, error=exc.message)
    return _finish(job_id, ImportJob.Status.DONE)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Rows read from the file, and their items as ingestion checks them at ``now``.

    ``checked`` is aligned with ``rows``: None for a row the reader already rejected.
    """

    rows: list[CsvRow]
    checked: list[tuple[ResponseItem | None, Errors] | None]
    now: datetime


def _next_chunk(rows: Iterator[CsvRow], size: int) -> _Chunk | None:
    read = list(islice(rows, size))
    now = timezone.now()
    checked = [None if row.item is None else parse_response_item(row.item, now=now) for row in read]
    return _Chunk(read, checked, now) if read else None


def _read_ahead(rows: Iterator[CsvRow], size: int) -> Iterator[_Chunk]:
    """The chunks of ``rows``, the next one read and checked by a thread while the caller stores the last.

    Storing a chunk mostly waits for PostgreSQL, which releases the interpreter: reading the
    file and checking its items meanwhile hides most of their cost. At most two chunks are in
    memory; reading only the file, the thread needs no database connection. When the caller
    stops early, the thread stops at its next chunk.
    """
    ready: Queue[_Chunk | BaseException | None] = Queue(maxsize=1)
    stop = Event()

    def read() -> None:
        try:
            while not stop.is_set() and (chunk := _next_chunk(rows, size)):
                _hand_over(ready, chunk, stop)
            _hand_over(ready, None, stop)
        except BaseException as exc:  # handed to the caller, who raises it
            _hand_over(ready, exc, stop)

    reader = Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while (got := ready.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        reader.join()


def _hand_over(ready: Queue, value: object, stop: Event) -> None:
    while not stop.is_set():
        try:
            ready.put(value, timeout=0.1)
            return
        except Full:
            continue


def _locked(job_id: int) -> ImportJob:
    # The content is not needed to record progress, and is the bulk of the row.
    return ImportJob.objects.select_for_update().defer("content").get(pk=job_id)


def _rejection(row: CsvRow, errors: Mapping[str, Any]) -> dict[str, Any]:
    """A rejected row as the report lists it: its line, the errors by field, and the refused values."""
    flat = flatten_errors(dict(errors))
    values = row.values or {}
    return {
        "line": row.line,
        "errors": flat,
        "values": {field: values[field][:200] for field in flat if field in values},
    }


@transaction.atomic
def _import_chunk(job_id: int, start: int, chunk: _Chunk) -> bool:
    """Ingest the rows of ``chunk`` (rows ``start``...) not yet recorded; False once the job is finished.

    The lock serialises runs of one job: whichever run is behind skips what the other stored.
    """
    job = _locked(job_id)
    if job.status in FINISHED:
        return False
    skipped = max(job.rows - start, 0)
    pending = chunk.rows[skipped:]
    if not pending:
        return True
    read = [
        (row, checked) for row, checked in zip(pending, chunk.checked[skipped:], strict=True) if checked is not None
    ]
    items = [row for row, _ in read]
    result = responses_ingest_parsed(
        parsed=[checked for _, checked in read], default_channel=Channel.IMPORT, now=chunk.now
    )
    rejected = {row.line: _rejection(row, row.errors) for row in pending if row.errors is not None}
    rejected.update({items[index].line: _rejection(items[index], found) for index, found in result.rejected})
    listed = [rejected[line] for line in sorted(rejected)][: max(REJECTED_KEPT - len(job.rejected), 0)]
    tagged = {
        outcome.response_id: row.tags
        for row, outcome in zip(items, result.outcomes, strict=True)
        if row.tags and outcome.status == "created"
    }
    if tagged:
        responses_tagged.send(sender=ImportJob, response_tags=tagged)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.RUNNING,
        rows=job.rows + len(pending),
        created=job.created + result.count("created"),
        duplicates=job.duplicates + result.count("duplicate"),
        rejected=job.rejected + listed,
    )
    return True


@transaction.atomic
def _finish(job_id: int, status: str, error: str = "") -> ImportJob:
    job = _locked(job_id)
    if job.status not in FINISHED:
        ImportJob.objects.filter(pk=job_id).update(status=status, error=error, content="", finished_at=timezone.now())
    return ImportJob.objects.defer("content").get(pk=job_id)
