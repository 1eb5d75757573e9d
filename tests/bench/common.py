"""What both benchmarks share: Django set up against PostgreSQL, timing, output and clean-up.

Importing this module sets Django up (``DJANGO_SETTINGS_MODULE`` defaults to closedloop.settings)
and stops the process with a clear message unless ``DATABASE_URL`` names a reachable PostgreSQL
database: the figures only mean something against the production database engine.
Each benchmark prints progress lines and, as its last line, one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closedloop.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.db.models import Model, ProtectedError, QuerySet  # noqa: E402


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        sys.exit(
            "benchmarks need PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/closedloop_bench make bench"
        )
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        sys.exit(f"cannot connect to the database DATABASE_URL names: {exc}")


_require_postgres()


def progress(message: str) -> None:
    print(message, flush=True)


def report(figures: dict[str, Any]) -> None:
    """Print the result; it must stay the last line of the output."""
    print(json.dumps(figures), flush=True)


def migrate() -> None:
    progress(f"database {connection.settings_dict['NAME']}: applying migrations if needed")
    call_command("migrate", interactive=False, verbosity=0)


def run_token() -> str:
    """A short unique tag for the names of the rows a run creates, so concurrent runs never meet."""
    return uuid.uuid4().hex[:8]


def timed(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Run ``action(*args, **kwargs)`` once; return the wall time in seconds and its result."""
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def delete_rows(queryset: QuerySet) -> int:
    """Delete the rows and whatever the model's on_delete rules say goes with them.

    Rows of other apps that protect these (a follow-up case, say) were created by this run's
    ingestion, so they go first; the loop ends because each pass deletes what blocked the last.
    """
    while True:
        try:
            deleted, _ = queryset.delete()
            return deleted
        except ProtectedError as exc:
            by_model: dict[type[Model], list[Any]] = defaultdict(list)
            for obj in exc.protected_objects:
                by_model[type(obj)].append(obj.pk)
            for model, pks in by_model.items():
                delete_rows(model._default_manager.filter(pk__in=pks))
