"""Values at the edges of every type, sent to every operation of the served schema.

Each example starts from a valid request that hypothesis draws from the operation's schema, then
replaces one part of it (a body field at any depth, the whole body, a query or a path parameter)
with an edge: dates outside any plausible range, non-finite and huge numbers, NUL and other
control characters, lone surrogates, deep nesting, duplicate keys, wrong types, long strings.
Bodies are written as JSON text, so values Python's encoder refuses (1e400, duplicate keys) reach
the server as a client could send them. No answer may be a server error or break the schema.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis.core.result import Err
from werkzeug.test import Client

from closedloop.lib.roles import MANAGER
from tests.fuzz.conftest import FUZZ_SCALE, FuzzWorld
from tests.fuzz.test_schema_driven import CHECKS, schema

DEEP = 1000
# JSON texts a client can send in place of any value.
VALUE_EDGES = (
    # Times: year 1 and year 9999 with the largest offsets, impossible and five-digit dates.
    '"0001-01-01T00:00:00+23:59"',
    '"0001-01-01T00:00:00-23:59"',
    '"9999-12-31T23:59:59.999999-23:59"',
    '"9999-12-31T23:59:59+23:59"',
    '"0001-01-01"',
    '"9999-12-31"',
    '"2026-02-30T25:61:00Z"',
    '"+10000-01-01T00:00:00Z"',
    # Numbers: beyond a double, beyond 64 bits, negative zero, below the smallest double.
    "1e400",
    "-1e400",
    "1e-400",
    str(2**64),
    str(-(2**63) - 1),
    "-0.0",
    "1.7976931348623157e308",
    "-1",
    # Strings: NUL, every other control character, a lone surrogate, invisible separators, length.
    json.dumps("\x00"),
    json.dumps("slug\x00tail"),
    json.dumps("".join(map(chr, range(1, 32))) + "\x7f\x85"),
    '"\\ud800"',
    json.dumps("\u2028\u2029\u200e\ufeff\U0001f600"),
    json.dumps("x" * 100_000),
    # Wrong types and empty containers.
    "null",
    "true",
    '""',
    "[]",
    "{}",
    "[null]",
    '{"": null}',
    # Nesting far past anything real, and an object with a duplicate key.
    "[" * DEEP + "]" * DEEP,
    '{"a":' * DEEP + "1" + "}" * DEEP,
    '{"a": 1, "a": 2}',
)
# Whole bodies that are not a JSON object of the operation's fields.
BODY_EDGES = (*VALUE_EDGES, "", "not json", "[" * 100_000)
# Query and path values: the edges above as a client writes them in a URL, and a few of its own.
TEXT_EDGES = (
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01",
    "1e400",
    "nan",
    "inf",
    str(2**64),
    str(-(2**63) - 1),
    "-0",
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "x" * 10_000,
    "",
    ",,,",
    "me,none",
)
PATH_EDGES = (str(2**63), str(2**64), "0", "9" * 40, "a" * 300)
PLACEHOLDER = "\ufffdedge\ufffd"


def _operations() -> list[APIOperation]:
    """Every operation of the schema; one the schema describes wrongly fails the module loudly."""
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()
APP = get_wsgi_application()


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """Every position in ``value`` (a decoded JSON body) that another value could take."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*path, key))
        found.append((*path, "unexpected_field"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaves(item, (*path, index))
    return found


def _replace(body: Any, path: tuple, new: Any) -> Any:
    """A copy of ``body`` with ``new`` at ``path`` (a new key when the object has none)."""
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(body) if isinstance(body, dict) else list(body)
    inner = body.get(head) if isinstance(body, dict) else body[head]
    copy[head] = _replace(inner, tuple(rest), new)
    return copy


@st.composite
def edge_requests(draw: st.DrawFn, operation: APIOperation, world: FuzzWorld) -> tuple[Any, dict[str, Any]]:
    """A valid request for ``operation`` with one part replaced by an edge; returns (case, request)."""
    media_type = "application/json" if operation.body else None
    case = draw(operation.as_strategy(GenerationMode.POSITIVE, media_type=media_type))
    case.path_parameters.update(world.path_parameters(operation.path))
    has_body = bool(operation.body)
    # An optional body the draw left out (a PATCH changing nothing) is sent as an empty object.
    body = case.body if isinstance(case.body, dict | list) else {}
    world.aim(body)
    targets = ["body"] * has_body + ["query"] * bool(list(operation.query)) + ["path"] * bool(case.path_parameters)
    target = draw(st.sampled_from(targets or ["none"]))
    query = dict(case.query or {})
    path_parameters = dict(case.path_parameters or {})
    text = json.dumps(body) if has_body else None
    if target == "body":
        position = draw(st.sampled_from([(), *_leaves(body)]))
        edge = draw(st.sampled_from(BODY_EDGES if position == () else VALUE_EDGES))
        text = edge if position == () else json.dumps(_replace(body, position, PLACEHOLDER))
        text = text.replace(json.dumps(PLACEHOLDER), edge)
        note(f"body at {position!r}: {edge[:80]}")
    elif target == "query":
        names = sorted({*query, *(p.name for p in operation.query)})
        name = draw(st.sampled_from(names))
        query[name] = draw(st.sampled_from(TEXT_EDGES))
        note(f"query {name}={query[name][:80]!r}")
    elif target == "path":
        name = draw(st.sampled_from(sorted(path_parameters)))
        path_parameters[name] = draw(st.sampled_from(PATH_EDGES))
        note(f"path {name}={path_parameters[name][:80]!r}")
    url = operation.path.format(**path_parameters)
    return case, {"path": url, "method": operation.method.upper(), "query_string": query, "data": text}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
@settings(
    max_examples=12 * FUZZ_SCALE,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_edge_value_yields_a_server_error_or_breaks_the_schema(
    operation: APIOperation, fuzz_world: FuzzWorld, data: st.DataObject
) -> None:
    case, request = data.draw(edge_requests(operation, fuzz_world))
    response = Client(APP).open(
        **request,
        headers=fuzz_world.headers(MANAGER),
        content_type="application/json" if request["data"] is not None else None,
    )
    case.validate_response(response, checks=CHECKS)


BODY_OPERATIONS = [operation for operation in OPERATIONS if operation.body]


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=[op.label for op in BODY_OPERATIONS])
def test_a_body_over_the_site_limit_is_refused_as_documented(operation: APIOperation, fuzz_world: FuzzWorld) -> None:
    # Over the limit of every endpoint but the bulk one, which takes batches far larger.
    body = json.dumps({"padding": "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    case = operation.Case(path_parameters=fuzz_world.path_parameters(operation.path), media_type="application/json")
    response = Client(APP).open(
        path=operation.path.format(**case.path_parameters),
        method=operation.method.upper(),
        data=body,
        headers=fuzz_world.headers(MANAGER),
        content_type="application/json",
    )
    case.validate_response(response, checks=CHECKS)
