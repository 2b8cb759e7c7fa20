"""Integers at the edge: every integer path or query parameter of every route fits a 64-bit column.

Python's ints are unbounded and the databases' are not (SQLite raises ``OverflowError`` past
2^63-1), so a number a client invents must be refused as a 422 before it reaches a query. The
check reads the route's own declared parameters, so a route a capability adds later is covered
without saying so; ``bound_openapi`` writes the same bounds into the published schema.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# An id inside a JSON body: the path and query checks below cannot see bodies, so their models say it.
BodyId = Annotated[int, Field(ge=1, le=INT64_MAX)]


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, typing.Annotated):
        return any(_is_int(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


_cache: dict[int, tuple[APIRoute, tuple[tuple[str, str], ...]]] = {}  # routes are not hashable


def _int_params(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """``(location, name)`` of the route's integer path and query parameters."""
    cached = _cache.get(id(route))
    if cached is not None and cached[0] is route:
        return cached[1]
    found: set[tuple[str, str]] = set()
    todo: list[Dependant] = [route.dependant]
    while todo:
        dep = todo.pop()
        todo.extend(dep.dependencies)
        for where, fields in (("path", dep.path_params), ("query", dep.query_params)):
            found.update((where, f.alias) for f in fields if _is_int(f.field_info.annotation))
    _cache[id(route)] = (route, tuple(sorted(found)))
    return _cache[id(route)][1]


def check_int_bounds(request: Request) -> None:
    """App-wide dependency: 422 for an integer parameter outside [-2^63, 2^63-1]."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors = []
    for where, name in _int_params(route):
        raw = [request.path_params.get(name)] if where == "path" else request.query_params.getlist(name)
        for value in raw:
            try:
                number = int(str(value).strip())
            except ValueError:
                continue  # not a number at all: the route's own validation says so
            if not INT64_MIN <= number <= INT64_MAX:
                errors.append({"type": "int_range", "loc": (where, name), "input": value,
                               "msg": f"must be an integer from {INT64_MIN} to {INT64_MAX}"})
    if errors:
        raise RequestValidationError(errors)


def bound_openapi(doc: dict[str, Any]) -> dict[str, Any]:
    """Give every integer parameter in ``doc`` the 64-bit bounds the server enforces, and write the
    bounds of integers inside bodies (``BodyId``) as the exact integers they are."""
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                _bound(param.get("schema", {}))
    for schema in doc.get("components", {}).get("schemas", {}).values():
        _exact(schema)
    return doc


def _bound(schema: dict[str, Any]) -> None:
    for sub in schema.get("anyOf", []) + ([schema["items"]] if "items" in schema else []):
        _bound(sub)
    if schema.get("type") == "integer":
        schema["maximum"] = min(schema.get("maximum", INT64_MAX), INT64_MAX)
        schema["minimum"] = max(schema.get("minimum", INT64_MIN), INT64_MIN)


def _exact(schema: Any) -> None:
    """Pydantic writes 2^63-1 as the float 2^63, which a client may then send: clamp and make it exact."""
    if isinstance(schema, list):
        for sub in schema:
            _exact(sub)
    if not isinstance(schema, dict):
        return
    for sub in schema.values():
        _exact(sub)
    if schema.get("type") == "integer":
        for key, clamp in (("maximum", min), ("minimum", max)):
            if key in schema:
                schema[key] = int(clamp(schema[key], INT64_MAX if key == "maximum" else INT64_MIN))
