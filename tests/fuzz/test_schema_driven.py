"""Schemathesis, driven by the schema the API serves, against the WSGI app, as every role.

For each operation, generated requests (valid ones, and in negative mode ones that break the
schema: wrong types, missing fields, values out of range) are sent as an anonymous client, an
integration, an agent and a manager, in that order, so the manager's writes come last. No answer
may be a server error, and every answer must be documented: its status code, its content type
and its body's schema.
"""

from __future__ import annotations

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, note, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import FUZZ_SCALE, ROLES, FuzzWorld

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
# The coverage phase enumerates every boundary of every field, thousands of requests per run;
# tests/fuzz/test_edge_values.py sends the edges that matter here within a bounded budget.
schema.config.phases.update(phases=["examples", "fuzzing"])
schema.config.generation.update(modes=list(GenerationMode))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(
    max_examples=8 * FUZZ_SCALE,
    derandomize=True,
    deadline=None,
    # The world is built once per operation; examples share it, and the API's own rejections
    # (invalid examples) are expected in negative mode.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented_and_none_is_a_server_error(case, fuzz_world: FuzzWorld) -> None:
    case.path_parameters.update(fuzz_world.path_parameters(case.path))
    fuzz_world.aim(case.body)
    for role in ROLES:
        note(f"sent as {role}")
        response = case.call(headers=fuzz_world.headers(role))
        case.validate_response(response, checks=CHECKS)
