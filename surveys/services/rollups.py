"""The daily score rollup: kept equal to the responses at every write, set-based.

Each write path adds the rows it inserted (or takes away the rows it is about to change) with
one ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` statement, whatever the batch
size; PostgreSQL and SQLite (3.24 and later) both speak that dialect. The SELECT is built by the
ORM, so the day is truncated in the site's time zone exactly as the NPS API groups days.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from surveys.handling import HANDLING_TEAM
from surveys.models import DailyScoreCount, Response

_TABLE = DailyScoreCount._meta.db_table
_KEY = ("survey_id", "day", "channel", "team", "score")


def _apply(responses: QuerySet[Response], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the given responses' counts in one statement."""
    grouped = (
        responses.order_by()
        .annotate(
            rollup_day=TruncDate("submitted_at", tzinfo=timezone.get_current_timezone()),
            rollup_team=Coalesce(HANDLING_TEAM, Value("")),
        )
        .values("survey_id", "rollup_day", "channel", "rollup_team", "score")
        .annotate(counted=Count("pk") * Value(sign))
    )
    select, params = grouped.query.get_compiler(connection=connection).as_sql()
    columns = ", ".join(_KEY)
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
    sql = (
        f"INSERT INTO {_TABLE} ({columns}, responses) SELECT * FROM ({select}) AS batch WHERE true"
        f" ON CONFLICT ({columns}) DO UPDATE SET responses = {_TABLE}.responses + excluded.responses"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    if sign < 0:
        DailyScoreCount.objects.filter(responses=0).delete()


def rollups_add(*, response_ids: Sequence[int]) -> None:
    """Count newly stored responses into the rollup (one statement per batch)."""
    if response_ids:
        _apply(Response.objects.filter(pk__in=response_ids), 1)


def rollups_remove(*, response_ids: Sequence[int]) -> None:
    """Take responses out of the rollup before their score, day, channel or team change."""
    if response_ids:
        _apply(Response.objects.filter(pk__in=response_ids), -1)


@contextmanager
def rollups_recounted(*, response_ids: Sequence[int]) -> Iterator[None]:
    """Count ``response_ids`` again around a change to what the rollup groups them by (their
    score, or the invitation that names their team)."""
    rollups_remove(response_ids=response_ids)
    yield
    rollups_add(response_ids=response_ids)


@transaction.atomic
def rollups_rebuild() -> int:
    """Recompute the whole rollup from the responses; return the number of rollup rows."""
    DailyScoreCount.objects.all().delete()
    _apply(Response.objects.all(), 1)
    return DailyScoreCount.objects.count()
