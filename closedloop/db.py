"""Set-based inserts: PostgreSQL's COPY for large batches, bulk_create elsewhere.

Ingestion writes up to 10,000 responses (and their new customers) per request and far more per
CSV file. A multi-row INSERT spends most of its time building and parsing one huge statement;
COPY streams rows in the server's own text format at several times the speed. Rows are given as
plain value tuples, since building a model instance per row costs more than the COPY itself.
The ids are taken from the table's sequence first, so callers get their primary keys back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connection, models

# Below this many rows the round trips of COPY cost more than a plain INSERT.
COPY_THRESHOLD = 200
# psycopg2 sends what each read returns as it comes: chunks this large keep the calls few while
# the server already inserts the first rows as the later ones are still being encoded.
COPY_CHUNK = 64 * 1024
NULL = "\\N"


def copy_text(text: str) -> str:
    """Escape text for COPY's text format (backslash, tab and line breaks)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _encoder(field: models.Field) -> Callable[[Any], str]:
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: copy_text(json.dumps(value, cls=field.encoder))
    if kind == "BooleanField":
        return lambda value: "t" if value else "f"
    if kind == "DateTimeField":
        return lambda value: value.isoformat()
    if kind in {"CharField", "TextField", "SlugField", "EmailField"}:
        return copy_text
    return str  # integers and foreign keys


class _Chunks:
    """A read-only file over COPY lines, encoding them only as psycopg2 asks for more."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def read(self, size: int = COPY_CHUNK) -> str:
        chunk: list[str] = []
        length = 0
        for line in self._lines:
            chunk.append(line)
            length += len(line)
            if length >= size:
                break
        return "".join(chunk)


def _copy(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], shared: dict[str, Any]
) -> list[int]:
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    given = [by_name[name] for name in fields]
    # Shared values and the defaults of the fields left out are the same on every row: encode
    # them once, as the tail of each line.
    rest = [f for f in meta.concrete_fields if f.attname not in fields and f is not meta.pk]
    tail = "".join("\t" + _text(f, shared[f.attname] if f.attname in shared else f.get_default()) for f in rest)
    tail += "\n"
    encoders = [_encoder(f) for f in given]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *given, *rest])
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        # The sequence is looked up once, in FROM: in the select list it would be per row.
        cursor.execute(
            "SELECT nextval(seq) FROM pg_get_serial_sequence(%s, %s) AS seq, generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        pks = [pk for (pk,) in cursor.fetchall()]
        lines = (
            f"{pk}\t"
            + "\t".join([NULL if value is None else encode(value) for encode, value in zip(encoders, row, strict=True)])
            + tail
            for pk, row in zip(pks, rows, strict=True)
        )
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", _Chunks(lines), COPY_CHUNK)
    return pks


def _text(field: models.Field, value: Any) -> str:
    return NULL if value is None else _encoder(field)(value)


def insert_values(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], **shared: Any
) -> list[int]:
    """Insert one row per tuple of ``fields`` values (attnames); return the new primary keys in order.

    ``shared`` gives values that are the same on every row (a batch's timestamp, say); the
    model's other fields take their defaults. Fields with auto_now/auto_now_add belong in one
    or the other. Runs in the current transaction; no model instances are built for COPY and no
    signals are sent, as with bulk_create.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
        return _copy(model, fields, rows, shared)
    objs = [model(**dict(zip(fields, row, strict=True)), **shared) for row in rows]
    return [obj.pk for obj in model._default_manager.bulk_create(objs)]


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new model instances and set their primary keys, in the current transaction.

    Fields with auto_now/auto_now_add must already be set by the caller (one timestamp for the
    whole batch); no signals are sent, exactly as with bulk_create.
    """
    if connection.vendor == "postgresql" and len(objs) >= COPY_THRESHOLD:
        fields = [f.attname for f in model._meta.concrete_fields if f is not model._meta.pk]
        pks = _copy(model, fields, [[obj.__dict__[name] for name in fields] for obj in objs], {})
        for obj, pk in zip(objs, pks, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
    elif objs:
        model._default_manager.bulk_create(objs, batch_size=1000)
