"""Schemathesis hooks: rules of the API that JSON Schema cannot state, so generated data keeps them."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    """A review item's end_s is not before its start_s (documented on the field; 400 otherwise)."""
    op = ctx.operation
    if op.method.upper() != "POST" or op.path != "/api/review" or not isinstance(body, dict):
        return True
    start, end = body.get("start_s"), body.get("end_s")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end))
    return not numbers or end >= start
