"""Pages of the intake app: uploading a file of responses, previewing its mapping, following its import."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from closedloop.lib.requests import SignedInRequest
from closedloop.lib.roles import is_manager
from surveys.csv_import import identified_by_email, read_header
from surveys.export_shapes import normalise
from surveys.forms import COLUMN_LABELS, ImportMappingForm, ImportUploadForm
from surveys.models import ImportJob
from surveys.selectors import saved_mapping_for
from surveys.services.imports import (
    FINISHED,
    PREVIEW_ROWS,
    PreviewRow,
    import_job_draft_create,
    import_job_start,
    import_job_update_draft,
    import_preview,
)
from surveys.services.mappings import saved_mapping_save


def _require_manager(request: HttpRequest) -> None:
    if not is_manager(request.user):
        raise PermissionDenied


@login_required
def import_upload(request: SignedInRequest) -> HttpResponse:
    _require_manager(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_draft_create(
                survey=form.cleaned_data["survey"],
                data=upload.read(),
                file_name=upload.name,
                uploaded_by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("import-preview", pk=job.pk)
    return render(request, "surveys/import_upload.html", {"form": form, "time_zone": settings.TIME_ZONE})


@login_required
def import_preview_page(request: SignedInRequest, pk: int) -> HttpResponse:
    """A draft's columns with the field each fills, its first rows as they will be stored, and Import."""
    _require_manager(request)
    job = get_object_or_404(ImportJob.objects.select_related("survey"), pk=pk)
    if job.status != ImportJob.Status.DRAFT:
        return redirect("import-detail", pk=job.pk)
    header = read_header(job.content)
    initial = {"date_order": job.date_order, "time_zone": job.time_zone or settings.TIME_ZONE}
    form = ImportMappingForm(request.POST or None, header=header, mapping=job.mapping, initial=initial)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "preview")
        options = {
            "mapping": form.mapping(),
            "date_order": form.cleaned_data["date_order"],
            "time_zone": _own_zone(form.cleaned_data["time_zone"]),
        }
        try:
            if action == "import":
                import_job_start(job=job, **options)
                return redirect("import-detail", pk=job.pk)
            job = import_job_update_draft(job=job, **options)
            if action == "save":
                saved_mapping_save(
                    name=form.cleaned_data["mapping_name"], header=header, saved_by=request.user, **options
                )
            return redirect("import-preview", pk=job.pk)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
    saved = saved_mapping_for(header)
    context = {
        "job": job,
        "form": form,
        "rows": [_shown_row(row, job.mapping) for row in import_preview(job=job)],
        "preview_rows": PREVIEW_ROWS,
        "saved": saved if saved is not None and _same_mapping(saved.mapping, job.mapping) else None,
        "by_email": identified_by_email(job.mapping),
        "labels": COLUMN_LABELS,
    }
    return render(request, "surveys/import_preview.html", context)


def _shown_row(row: PreviewRow, mapping: dict[str, str]) -> dict[str, Any]:
    """A preview row for the template, its problems as (column, refused value, message)."""
    problems = [
        (_column_of(field, mapping), row.values.get(field, ""), message)
        for field, messages in row.errors.items()
        for message in messages
    ]
    return {"line": row.line, "stored": row.stored, "problems": problems}


def _column_of(field: str, mapping: dict[str, str]) -> str:
    return mapping.get(field) or ("row" if field == "non_field_errors" else field)


def _same_mapping(saved: dict[str, str], mapping: dict[str, str]) -> bool:
    """Whether a saved mapping is the job's; the file may spell its headers in another case."""
    return {field: normalise(column) for field, column in saved.items()} == {
        field: normalise(column) for field, column in mapping.items()
    }


def _own_zone(name: str) -> str:
    """The zone a job records: empty for the site's, so a later change of the site's zone follows."""
    return "" if name.strip() == settings.TIME_ZONE else name.strip()


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    job = get_object_or_404(ImportJob.objects.select_related("survey", "uploaded_by").defer("content"), pk=pk)
    if job.status == ImportJob.Status.DRAFT:
        return redirect("import-preview", pk=job.pk)
    context = {
        "job": job,
        "finished": job.status in FINISHED,
        "rejected_rows": _rejected_rows(job),
        "by_email": identified_by_email(job.mapping),
    }
    return render(request, "surveys/import_detail.html", context)


def _rejected_rows(job: ImportJob) -> list[tuple[int, str, str, str]]:
    """(line, column, refused value, message) for each listed problem, naming the column that fed the field."""
    rows: list[tuple[int, str, str, str]] = []
    for entry in job.rejected:
        values = entry.get("values", {})
        for field, messages in entry["errors"].items():
            column = _column_of(field, job.mapping)
            rows.extend((entry["line"], column, values.get(field, ""), message) for message in messages)
    return rows
