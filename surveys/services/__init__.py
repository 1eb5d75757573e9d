"""Write services of the intake app; import them from here."""

from surveys.services.imports import import_job_create, import_job_run
from surveys.services.ingestion import IngestResult, Outcome, responses_ingest
from surveys.services.surveys import survey_create, survey_update

__all__ = [
    "IngestResult",
    "Outcome",
    "import_job_create",
    "import_job_run",
    "responses_ingest",
    "survey_create",
    "survey_update",
]
