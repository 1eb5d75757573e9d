"""The served OpenAPI schema tells the truth: each body its own fields, lists in their envelope,
nullable fields nullable and the shared error answers documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from closedloop.lib.pagination import StandardPagination

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def openapi() -> Schema:
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def resolve(openapi: Schema, schema: Schema) -> Schema:
    """``schema`` with its top-level ``$ref`` followed."""
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def request_fields(openapi: Schema, path: str, method: str) -> set[str]:
    body = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return set(resolve(openapi, body)["properties"])


def success_body(openapi: Schema, path: str, method: str) -> Schema:
    responses = openapi["paths"][path][method]["responses"]
    code = min(code for code in responses if code.startswith("2"))
    return resolve(openapi, responses[code]["content"]["application/json"]["schema"])


def _list_views(patterns: list, prefix: str = "") -> list[tuple[str, Any]]:
    """(route, view class) of every mounted API view that pages a list (declares ``pagination_class``)."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _list_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if route.startswith("api/") and getattr(view, "pagination_class", None) is not None:
                found.append((route, view))
    return found


def _openapi_path(route: str) -> str:
    """``api/v1/cases/<int:case_id>/`` as the schema writes it: ``/api/v1/cases/{case_id}/``.

    drf-spectacular calls a ``pk`` parameter ``id`` (its SCHEMA_COERCE_PATH_PK default).
    """
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}")


CASE_BODIES = {
    ("/api/v1/cases/{case_id}/transition/", "post"): {"to", "note", "reason", "resolution_code"},
    ("/api/v1/cases/{case_id}/assign/", "post"): {"owner"},
    ("/api/v1/cases/{case_id}/notes/", "post"): {"text"},
    ("/api/v1/cases/{case_id}/contacts/", "post"): {"channel", "outcome", "note"},
    ("/api/v1/cases/{case_id}/root-causes/", "put"): {"root_causes"},
    ("/api/v1/responses/{response_id}/root-causes/", "put"): {"root_causes"},
    ("/api/v1/responses/{response_id}/suggestions/", "post"): {"root_cause", "source", "accepted", "model_version"},
}


@pytest.mark.parametrize(("operation", "fields"), CASE_BODIES.items(), ids=[path for path, _ in CASE_BODIES])
def test_each_case_endpoint_documents_the_body_it_reads(openapi: Schema, operation, fields: set[str]) -> None:
    assert request_fields(openapi, *operation) == fields


def test_the_list_views_are_found() -> None:
    # Guards the walk below: if it found nothing, the envelope test would pass vacuously.
    paths = {_openapi_path(route) for route, _ in _list_views(get_resolver().url_patterns)}
    assert {"/api/v1/cases/", "/api/v1/responses/", "/api/v1/webhooks/{id}/deliveries/"} <= paths
    assert len(paths) >= 10


def test_every_list_endpoint_documents_its_paginated_envelope(openapi: Schema) -> None:
    for route, view in _list_views(get_resolver().url_patterns):
        path = _openapi_path(route)
        envelope = success_body(openapi, path, "get")
        assert envelope["type"] == "object", path
        assert envelope["properties"]["results"]["type"] == "array", path
        assert {"next", "previous"} <= set(envelope["properties"]), path
        assert envelope["properties"]["next"]["nullable"] is True, path
        if issubclass(view.pagination_class, StandardPagination):
            assert "count" in envelope["required"], path


def test_no_operation_answers_a_bare_array(openapi: Schema) -> None:
    for path, operations in openapi["paths"].items():
        for method in operations:
            responses = operations[method]["responses"]
            # A CSV download has no JSON body to wrap in an envelope.
            if any(
                code.startswith("2") and "text/csv" in answer.get("content", {}) for code, answer in responses.items()
            ):
                continue
            if any(code.startswith("2") and code != "204" for code in responses):
                assert success_body(openapi, path, method).get("type") != "array", (method, path)


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("CaseOutput", "owner"),
        ("CaseOutput", "next_due"),
        ("CaseDetail", "resolution_code"),
        ("CaseEvent", "actor"),
        ("TeamOutput", "lead"),
        ("WebhookEndpointOutput", "created_by"),
        ("WebhookDeliveryOutput", "delivered_at"),
        ("ResponseOutput", "case"),
        ("UserOutput", "role"),
    ],
)
def test_fields_that_can_be_null_are_documented_nullable(openapi: Schema, component: str, field: str) -> None:
    assert openapi["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_signed_in_operations_document_the_refusals(openapi: Schema) -> None:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if operation.get("security"):
                assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in operation:
                assert "400" in codes, (method, path)


def test_errors_are_documented_with_their_body(openapi: Schema) -> None:
    transition = openapi["paths"]["/api/v1/cases/{case_id}/transition/"]["post"]["responses"]
    conflict = transition["409"]["content"]["application/json"]["schema"]
    assert resolve(openapi, conflict)["type"] == "object"
