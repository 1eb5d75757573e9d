"""Set-based inserts: PostgreSQL's COPY for all but the smallest batches, bulk_create elsewhere.

Ingestion writes up to 10,000 responses (and their new customers) per request and far more per
CSV file. A multi-row INSERT spends most of its time building and parsing one huge statement;
COPY streams rows in the server's own text format at several times the speed. Rows are given as
plain value tuples, since building a model instance per row costs more than the COPY itself.
The ids are taken from the table's sequence first, so callers get their primary keys back.
Inserts that must skip rows conflicting with a unique constraint cannot use COPY; they send their
rows as one JSON document instead.

Measured by tests/bench/ingest.py (50,000 responses in batches of 10,000): ingestion runs at
0.25-0.28 of a bare COPY of the same rows through these paths, at 0.09 through bulk_create.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

# Below this many rows the extra round trip of COPY (for the ids) costs more than Django building
# a plain INSERT; measured here, COPY is quicker from two or three rows on.
COPY_THRESHOLD = 3
# Rows encoded and sent at a time: blocks this large keep the Python calls few, and small enough
# that the server is inserting the first block while the next is being encoded.
COPY_BLOCK = 1000
NULL = "\\N"


def copy_text(text: str) -> str:
    """Escape text for COPY's text format (backslash, tab and line breaks)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def text_array(texts: Sequence[str]) -> str:
    """A PostgreSQL text[] literal of the texts, to pass as one parameter cast ``::text[]``.

    A batch's 10,000 keys as a Python list go out as ARRAY['...', ...] with a literal each,
    which psycopg2 quotes and the server parses one by one; this literal is built by a few
    C-level replaces and read by the array parser at once. Being a constant, the server tests
    membership by hashing or in the index, never by scanning the array per row.
    """
    escaped = "\x00".join(texts).replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + escaped.replace("\x00", '","') + '"}' if texts else "{}"


def _copy_texts(texts: Sequence[str | None]) -> list[str]:
    """Escape a column of texts at once, None becoming COPY's NULL.

    Escaping value by value costs a Python call each; joined on NUL (which PostgreSQL text never
    holds) the column is escaped by four C-level replaces over one string and split back.
    """
    nulls = None in texts
    joined = "\x00".join(["" if text is None else text for text in texts] if nulls else cast("Sequence[str]", texts))
    if joined.count("\x00") != len(texts) - 1:
        raise ValueError("PostgreSQL text cannot hold NUL characters")
    escaped = copy_text(joined).split("\x00")
    if nulls:
        return [NULL if text is None else value for text, value in zip(texts, escaped, strict=True)]
    return escaped


def _column(field: models.Field, values: Sequence[Any]) -> list[str]:
    """One column of a COPY block as text, in the server's text format."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        encoder = cast(models.JSONField, field).encoder
        return _copy_texts([None if v is None else _json(v, encoder) for v in values])
    if kind in _TEXTS:
        return _copy_texts(values)
    if kind == "BooleanField":
        return [NULL if v is None else "t" if v else "f" for v in values]
    if kind == "DateTimeField":
        return [NULL if v is None else v.isoformat() for v in values]
    if kind in _WRITTEN_AS_STR:
        return [NULL if v is None else str(v) for v in values]
    raise _unwritable(field)


def _check_writable(fields: Sequence[models.Field]) -> None:
    """Refuse, before anything is sent, a field whose type COPY has no text format for here.

    str() of any other value may read back as another value, or not at all.
    """
    for field in fields:
        if field.get_internal_type() not in _WRITABLE:
            raise _unwritable(field)


def _unwritable(field: models.Field) -> TypeError:
    return TypeError(
        f"COPY cannot write {field.model.__name__}.{field.name}: no text format for a {field.get_internal_type()}"
    )


_TEXTS = frozenset({"CharField", "TextField", "SlugField", "EmailField"})
# Field types whose Python value's str() is PostgreSQL's own text for it: integers, keys (the
# related row's id) and durations ("2 days, 8:00:00" is a valid interval).
_WRITTEN_AS_STR = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "ForeignKey",
        "OneToOneField",
        "DurationField",
    }
)
_WRITABLE = _TEXTS | _WRITTEN_AS_STR | {"JSONField", "BooleanField", "DateTimeField"}


def _json(value: Any, encoder: type[json.JSONEncoder] | None) -> str:
    # orjson writes a small object several times quicker than the standard library, which shows
    # at 10,000 customers' attributes per batch; what it refuses (integers past 64 bits, keys that
    # are not strings) and fields with an encoder of their own go the standard library's way.
    if encoder is None:
        try:
            return orjson.dumps(value).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, cls=encoder)


def _blocks(fields: Sequence[models.Field], pks: list[int], rows: Sequence[Sequence[Any]], tail: str) -> Iterator[str]:
    """COPY text for the rows, a block of COPY_BLOCK rows at a time, encoded column by column."""
    for start in range(0, len(rows), COPY_BLOCK):
        columns = zip(*rows[start : start + COPY_BLOCK], strict=True)
        texts = [[str(pk) for pk in pks[start : start + COPY_BLOCK]]]
        texts += [_column(field, values) for field, values in zip(fields, columns, strict=True)]
        # Every line ends with the same tail: joining on it writes it once per line.
        yield tail.join(map("\t".join, zip(*texts, strict=True))) + tail


class _Blocks:
    """A read-only file over COPY text, encoding a block only as psycopg2 asks for more.

    psycopg2 sends whatever each read returns, so the server already inserts the first rows
    while the later ones are still being encoded.
    """

    def __init__(self, blocks: Iterator[str]) -> None:
        self._blocks = blocks

    def read(self, size: int = -1) -> str:
        return next(self._blocks, "")


def _copy(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], shared: dict[str, Any]
) -> list[int]:
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    given = [by_name[name] for name in fields]
    # Shared values and the defaults of the fields left out are the same on every row: encode
    # them once, as the tail of each line.
    rest = [f for f in meta.concrete_fields if f.attname not in fields and f is not meta.pk]
    _check_writable([*given, *rest])
    tail = "".join("\t" + _column(f, [shared[f.attname] if f.attname in shared else f.get_default()])[0] for f in rest)
    tail += "\n"
    columns = ", ".join(_quoted(f) for f in [meta.pk, *given, *rest])
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        # The sequence is looked up once, in FROM: in the select list it would be per row.
        cursor.execute(
            "SELECT nextval(seq) FROM pg_get_serial_sequence(%s, %s) AS seq, generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        pks = [pk for (pk,) in cursor.fetchall()]
        # The raw cursor's errors are psycopg2's own: wrapped, a unique violation is Django's
        # IntegrityError, which callers retry on, like any other statement's.
        with connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", _Blocks(_blocks(given, pks, rows, tail)))
    return pks


def _quoted(field: models.Field) -> str:
    """The field's column, quoted (every concrete field has one)."""
    return connection.ops.quote_name(cast(str, field.column))


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


def insert_rows(model: type[models.Model], objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert new model instances and set their primary keys, in the current transaction.

    Fields with auto_now/auto_now_add must already be set by the caller (one timestamp for the
    whole batch); no signals are sent, exactly as with bulk_create. With ``ignore_conflicts``
    the rows that would break a unique constraint are left out and no primary keys are set,
    again as bulk_create does.
    """
    if not objs:
        return
    if connection.vendor != "postgresql" or (len(objs) < COPY_THRESHOLD and not ignore_conflicts):
        model._default_manager.bulk_create(objs, batch_size=1000, ignore_conflicts=ignore_conflicts)
        return
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    if ignore_conflicts:
        _insert_skipping_conflicts(model, fields, objs)
        return
    names = [f.attname for f in fields]
    pks = _copy(model, names, [[obj.__dict__[name] for name in names] for obj in objs], {})
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


class _RowEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        # To the microsecond, as the column keeps it (Django's encoder stops at milliseconds).
        return o.isoformat() if isinstance(o, datetime) else super().default(o)


def _insert_skipping_conflicts(
    model: type[models.Model], fields: list[models.Field], objs: Sequence[models.Model]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, the rows travelling as one JSON document.

    COPY cannot skip conflicts, and bulk_create builds a statement with a placeholder per value;
    one JSON parameter is encoded in C and turned back into rows by the server at once.
    """
    rows = [{f.column: obj.__dict__[f.attname] for f in fields} for obj in objs]
    columns = ", ".join(_quoted(f) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s)"
            " ON CONFLICT DO NOTHING",
            [json.dumps(rows, cls=_RowEncoder)],
        )


# A bulk write of at least this many rows refreshes its table's statistics at once. Until
# autovacuum reads the table again (a minute or more later) the planner believes it holds the
# rows it had: a delivery claim over a fan-out it thinks is a handful of rows sorts every due row
# for each batch of 100, instead of reading the first hundred in index order.
STATISTICS_ROWS = 1000


def statistics_refresh(model: type[models.Model], *, written: int) -> None:
    """ANALYZE ``model``'s table after ``written`` rows went in, when that is many (PostgreSQL)."""
    if written >= STATISTICS_ROWS and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
