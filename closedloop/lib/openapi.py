"""The API's error answers in the OpenAPI schema, so clients and the schema-driven tests know them.

Views document their successful answers (and a 409 where the workflow can refuse a move); the
errors every view shares come from ``closedloop.lib.exceptions`` and DRF, and are added here once
per operation that can answer them, with the body those errors carry.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'Either {"detail": message} or {"field": ["message", ...], ...}.',
    "additionalProperties": {},
}
CONFLICT = OpenApiResponse(description="The current state does not allow this change; nothing is stored.")

_PAGE_PARAMETERS = frozenset({"page", "cursor"})
_DESCRIPTIONS = {
    "400": "Invalid input; nothing is stored.",
    "401": "No valid credentials.",
    "403": "Signed in, but the role may not do this.",
    "404": "No such object, or no such page.",
    "413": "The request body is larger than the API accepts.",
    "415": "The body is not JSON.",
}


def _error_codes(operation: dict[str, Any]) -> list[str]:
    """The shared error statuses ``operation`` can answer, from what it takes and who may call it."""
    parameters = operation.get("parameters", [])
    takes_body = "requestBody" in operation
    codes = []
    if takes_body or any(p["in"] == "query" for p in parameters):
        codes.append("400")
    if operation.get("security"):
        codes += ["401", "403"]
    if any(p["in"] == "path" or p["name"] in _PAGE_PARAMETERS for p in parameters):
        codes.append("404")
    if takes_body:
        codes += ["413", "415"]
    return codes


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the shared error answers and their body to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(operation):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.startswith("4"):
                    response.setdefault("content", body)
    return result
