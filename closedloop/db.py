"""Set-based inserts: PostgreSQL's COPY for large batches, bulk_create elsewhere.

Ingestion writes up to 10,000 responses (and their new customers) per request and far more per
CSV file. A multi-row INSERT spends most of its time building and parsing one huge statement;
COPY streams rows in the server's own text format at several times the speed. The ids are taken
from the table's sequence first, so callers get their primary keys exactly as with bulk_create.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

# Below this many rows the round trips of COPY cost more than a plain INSERT.
COPY_THRESHOLD = 500


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _encoder(field: models.Field) -> Callable[[Any], str]:
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: _escape(json.dumps(value, cls=field.encoder))
    if kind == "BooleanField":
        return lambda value: "t" if value else "f"
    if kind == "DateTimeField":
        return lambda value: value.isoformat()
    if kind in {"CharField", "TextField", "SlugField", "EmailField"}:
        return _escape
    return str  # integers and foreign keys


def _copy(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    fields = [f for f in model._meta.concrete_fields]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(objs)]
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        encoders = [(f.attname, _encoder(f)) for f in fields]
        buffer = io.StringIO()
        write = buffer.write
        for obj in objs:
            values = obj.__dict__
            write(
                "\t".join(
                    "\\N" if (value := values[attname]) is None else encode(value) for attname, encode in encoders
                )
            )
            write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", buffer)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows and set their primary keys, in the current transaction.

    Fields with auto_now/auto_now_add must already be set by the caller (one timestamp for the
    whole batch); no signals are sent, exactly as with bulk_create.
    """
    if not objs:
        return
    if connection.vendor == "postgresql" and len(objs) >= COPY_THRESHOLD:
        _copy(model, objs)
    else:
        model.objects.bulk_create(objs, batch_size=1000)
