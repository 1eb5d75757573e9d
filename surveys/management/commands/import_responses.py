"""manage.py import_responses: import a CSV file of responses now, or finish an uploaded import."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.models import ImportJob, Survey
from surveys.services.imports import import_job_create, import_job_run

# The rejected rows printed after an import; the job keeps more, and the admin shows them.
SHOWN_REJECTED = 20


class Command(BaseCommand):
    help = (
        "Import a CSV file of responses to a survey (the same checks and results as the upload page), "
        "or run an uploaded import by its id. Safe to run again: a finished import does nothing and "
        "an interrupted one resumes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="The CSV file, with a header row.")
        parser.add_argument("--survey", help="Slug of the survey the responses answer.")
        parser.add_argument(
            "--map",
            dest="columns",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="The column of a field whose header says something else, e.g. score=NPS or attribute:plan=Plan.",
        )
        parser.add_argument("--job", type=int, help="Run (or resume) the uploaded import with this id instead.")

    def handle(
        self, *args, file: Path | None, survey: str | None, columns: list[str], job: int | None, **options
    ) -> None:
        if file is not None and job is None:
            job_id = self._create(file, survey, columns).pk
        elif job is not None and file is None:
            job_id = job
        else:
            raise CommandError("Give either a FILE with --survey, or --job.")
        if not ImportJob.objects.filter(pk=job_id).exists():
            raise CommandError(f"No import with id {job_id}.")
        self._report(import_job_run(job_id=job_id))

    def _create(self, file: Path, slug: str | None, pairs: list[str]) -> ImportJob:
        survey = Survey.objects.filter(slug=slug or "").first()
        if survey is None:
            raise CommandError(f"No survey with slug {slug!r}; give one with --survey.")
        mapping = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        if len(mapping) != len(pairs):
            raise CommandError("Write each --map as FIELD=COLUMN.")
        try:
            return import_job_create(
                survey=survey, data=file.read_bytes(), file_name=file.name, mapping=mapping, enqueue=False
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _report(self, job: ImportJob) -> None:
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"Import {job.pk} failed: {job.error}")
        rejected = job.rejected_count
        self.stdout.write(
            f"Import {job.pk} of {job.file_name}: {job.rows} rows, {job.created} created, "
            f"{job.duplicates} already imported, {rejected} rejected."
        )
        for entry in job.rejected[:SHOWN_REJECTED]:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in entry["errors"].items())
            self.stdout.write(f"  line {entry['line']}: {problems}")
        if rejected > SHOWN_REJECTED:
            self.stdout.write(f"  ... and {rejected - SHOWN_REJECTED} more.")
