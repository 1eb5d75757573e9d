"""Pages of the intake app: uploading a CSV file of responses and following its import."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from closedloop.lib.requests import SignedInRequest
from closedloop.lib.roles import is_manager
from surveys.forms import ImportUploadForm
from surveys.models import ImportJob
from surveys.services.imports import FINISHED, import_job_create


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
            job = import_job_create(
                survey=form.cleaned_data["survey"],
                data=upload.read(),
                file_name=upload.name,
                uploaded_by=request.user,
                mapping=form.mapping(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("import-detail", pk=job.pk)
    return render(request, "surveys/import_upload.html", {"form": form, "time_zone": settings.TIME_ZONE})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    job = get_object_or_404(ImportJob.objects.select_related("survey", "uploaded_by").defer("content"), pk=pk)
    context = {"job": job, "finished": job.status in FINISHED, "rejected_rows": _rejected_rows(job)}
    return render(request, "surveys/import_detail.html", context)


def _rejected_rows(job: ImportJob) -> list[tuple[int, str, str]]:
    """(line, column, message) for each listed problem, naming the column that fed the field."""
    rows: list[tuple[int, str, str]] = []
    for entry in job.rejected:
        for field, messages in entry["errors"].items():
            column = job.mapping.get(field) or ("row" if field == "non_field_errors" else field)
            rows.extend((entry["line"], column, message) for message in messages)
    return rows
