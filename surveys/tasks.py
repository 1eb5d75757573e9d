"""Background work of the intake app: thin adapters that the task cluster calls by name."""

from __future__ import annotations

from surveys.services.imports import import_job_run as _import_job_run


def import_job_run(job_id: int) -> None:
    """Import an uploaded CSV file; delivered at least once, and safe to run again."""
    _import_job_run(job_id=job_id)
