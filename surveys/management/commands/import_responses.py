"""manage.py import_responses: import a file of responses now, or finish an uploaded import."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.csv_import import ATTRIBUTE_NAME_MAX, ATTRIBUTE_PREFIX
from surveys.import_times import DateOrder
from surveys.models import ImportJob, SavedMapping, Survey
from surveys.services.imports import import_job_create, import_job_header, import_job_run
from surveys.services.mappings import saved_mapping_save

# The rejected rows printed after an import; the job keeps more, and the admin shows them.
SHOWN_REJECTED = 20
# Progress is written to stderr every this many rows.
PROGRESS_EVERY = 50_000


class Command(BaseCommand):
    help = (
        "Import a file of responses to a survey (CSV or .xlsx; the same checks and results as the upload page), "
        "or run an uploaded import by its id. Safe to run again: a finished import does nothing and "
        "an interrupted one resumes."
    )
    # The system checks walk every URL pattern and model, a third of a second before the first
    # row: the web server and `manage.py check --deploy` run them, an import of a file need not.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="The CSV or Excel file, with a header row.")
        parser.add_argument("--survey", help="Slug of the survey the responses answer.")
        parser.add_argument(
            "--map",
            dest="columns",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="The column of a field whose header says something else, e.g. score=NPS or attribute:plan=Plan.",
        )
        parser.add_argument(
            "--attribute",
            dest="attributes",
            action="append",
            default=[],
            metavar="COLUMN",
            help="A column stored as a customer attribute under its own name.",
        )
        parser.add_argument(
            "--date-order",
            choices=[order.value for order in DateOrder],
            default="",
            help="How dates such as 03/10/2026 are written; without it, rows with ambiguous dates are rejected.",
        )
        parser.add_argument("--time-zone", default="", help="Zone of times without one (default: the site's).")
        parser.add_argument("--mapping", dest="saved", help="Use the mapping saved under this name.")
        parser.add_argument("--save-mapping", dest="save_as", help="Save the mapping used under this name.")
        parser.add_argument("--job", type=int, help="Run (or resume) the uploaded import with this id instead.")

    def handle(self, *args, file: Path | None, job: int | None, **options) -> None:
        if file is not None and job is None:
            job_id = self._create(file, **options).pk
        elif job is not None and file is None:
            job_id = job
        else:
            raise CommandError("Give either a FILE with --survey, or --job.")
        if not ImportJob.objects.filter(pk=job_id).exists():
            raise CommandError(f"No import with id {job_id}.")
        self._shown_progress = 0
        self._report(import_job_run(job_id=job_id, progress=self._progress))

    def _progress(self, rows: int) -> None:
        if rows // PROGRESS_EVERY > self._shown_progress:
            self._shown_progress = rows // PROGRESS_EVERY
            sys.stderr.write(f"  {rows} rows read\n")

    def _create(
        self,
        file: Path,
        *,
        survey: str | None,
        columns: list[str],
        attributes: list[str],
        date_order: str,
        time_zone: str,
        saved: str | None,
        save_as: str | None,
        **options,
    ) -> ImportJob:
        target = Survey.objects.filter(slug=survey or "").first()
        if target is None:
            raise CommandError(f"No survey with slug {survey!r}; give one with --survey.")
        mapping = dict(pair.split("=", 1) for pair in columns if "=" in pair)
        if len(mapping) != len(columns):
            raise CommandError("Write each --map as FIELD=COLUMN.")
        mapping.update({ATTRIBUTE_PREFIX + column[:ATTRIBUTE_NAME_MAX]: column for column in attributes})
        exact = False
        if saved:
            stored = SavedMapping.objects.filter(name=saved).first()
            if stored is None:
                raise CommandError(f"No saved mapping named {saved!r}.")
            mapping = {**stored.mapping, **mapping}
            date_order = date_order or stored.date_order
            time_zone = time_zone or stored.time_zone
            exact = True
        try:
            job = import_job_create(
                survey=target,
                path=file,
                file_name=file.name,
                mapping=mapping,
                exact=exact,
                date_order=date_order,
                time_zone=time_zone,
                enqueue=False,
            )
            if save_as:
                saved_mapping_save(
                    name=save_as,
                    header=import_job_header(job),
                    mapping=job.mapping,
                    date_order=date_order,
                    time_zone=time_zone,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self._describe(job))
        return job

    def _describe(self, job: ImportJob) -> str:
        tool = f"a {job.tool} export" if job.tool else "columns matched by name"
        identity = "; customers identified by email" if "customer.external_id" not in job.mapping else ""
        columns = ", ".join(f"{field}={column}" for field, column in job.mapping.items())
        return f"Reading {job.file_name} ({tool}{identity}): {columns}"

    def _report(self, job: ImportJob) -> None:
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"Import {job.pk} failed: {job.error}")
        rejected = job.rejected_count
        self.stdout.write(
            f"Import {job.pk} of {job.file_name}: {job.rows} rows, {job.created} created, "
            f"{job.duplicates} already imported, {rejected} rejected."
        )
        for entry in job.rejected[:SHOWN_REJECTED]:
            values = entry.get("values", {})
            problems = "; ".join(
                f"{job.mapping.get(field, field)}"
                + (f" {values[field]!r}" if field in values else "")
                + f": {' '.join(messages)}"
                for field, messages in entry["errors"].items()
            )
            self.stdout.write(f"  line {entry['line']}: {problems}")
        if rejected > SHOWN_REJECTED:
            self.stdout.write(f"  ... and {rejected - SHOWN_REJECTED} more.")
