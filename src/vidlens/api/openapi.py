"""The published OpenAPI document, made true to what the server answers.

FastAPI documents a route's success and its 422; the errors the platform adds everywhere (401
without credentials, 403 for a role or CSRF token, 404 for an unknown id in the path, 429 from the
rate limit, 422 in VidLens's envelope rather than FastAPI's) are added here to every operation, so
a route a capability adds later is described as truly as the built-in ones. A route names the
errors of its own (400, 409, 413, ...) with ``errors(...)``. Integer parameters get the 64-bit
bounds ``vidlens.api.bounds`` enforces. ``tests/api/test_api_schemathesis.py`` holds the server
to this document.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from vidlens.api.bounds import bound_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code (docs/api.md)."},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_PUBLIC = ("/api/health",)


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {"description": description or HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": _ERROR_REF}}}


def errors(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: ``errors(400, 409, s413="Larger than ...")``."""
    out: dict[int | str, dict[str, Any]] = {s: error_response(s) for s in statuses}
    for key, text in described.items():
        out[int(key.lstrip("s"))] = error_response(int(key.lstrip("s")), text)
    return out


def enum_of(name: str) -> dict[str, Any]:
    """``json_schema_extra`` for a parameter whose values are known only when the app is built (the
    installed analyzers): ``complete`` lists ``enums[name]`` in its schema."""
    return {"x-enum-of": name}


def _fill_enums(schema: dict[str, Any], enums: dict[str, list[str]]) -> None:
    name = schema.pop("x-enum-of", None)
    if name is not None:
        target = schema.get("items", schema)
        for sub in target.get("anyOf", [target]):
            if sub.get("type") == "array":
                sub["items"]["enum"] = enums[name]
            elif sub.get("type") == "string":
                sub["enum"] = enums[name]


def complete(doc: dict[str, Any], enums: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Add the platform-wide error answers, integer bounds and the ``enum_of`` values to ``doc``."""
    doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for schemas in (doc["components"]["schemas"],):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            params = op.get("parameters", [])
            for param in params:
                _fill_enums(param.get("schema", {}), enums or {})
            wanted: list[int] = []
            if path not in _PUBLIC:
                wanted += [401, 403, 429]
            if any(p.get("in") == "path" for p in params):
                wanted.append(404)
            if "requestBody" in op:
                wanted.append(400)  # a body that does not parse
            if params or "requestBody" in op:
                wanted.append(422)
            for status in wanted:
                responses.setdefault(str(status), error_response(status))
            for status, resp in responses.items():
                if status[0] in "45":
                    resp["content"] = {"application/json": {"schema": _ERROR_REF}}
                    if status == "422":
                        resp["description"] = "Validation failed"
    return bound_openapi(doc)


def install(app: FastAPI, enums: dict[str, list[str]]) -> None:
    """Serve ``complete(...)`` of FastAPI's document as ``/openapi.json``."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(default(), enums)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
