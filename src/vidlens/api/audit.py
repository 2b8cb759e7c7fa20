"""Request-side plumbing of the audit log (``vidlens.govern.audit``): who changed what, through which credential.

Handlers that change domain state in one transaction (a review decision) write their
audit entry inside that same transaction with ``record``; every other write is recorded
by the middleware after the response, from what the handler noted with ``note``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.govern import audit as audit_log

if TYPE_CHECKING:
    from starlette.requests import Request

    from vidlens.api.auth import Principal
    from vidlens.store.db import Store

SCOPE_KEY = "vidlens.audit"


def record(
    conn: sa.Connection,
    *,
    principal: Principal | None,
    method: str,
    path: str,
    action: str,
    status_code: int,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    via: str | None = None,
    actor: str | None = None,
) -> None:
    audit_log.record(
        conn, action, subject, detail,
        actor=principal.name if principal else actor,
        role=principal.role if principal else None,
        via=via or (principal.via if principal else "anonymous"),
        key_id=principal.key_id if principal else None,
        method=method,
        path=path,
        status_code=status_code,
    )


def author(request: Request, principal: Principal, status_code: int) -> dict[str, Any]:
    """``vidlens.govern.audit.record``'s keywords for a change this request makes inside its own transaction."""
    return {"actor": principal.name, "role": principal.role, "via": principal.via, "key_id": principal.key_id,
            "method": request.method, "path": request.url.path, "status_code": status_code}


def decide(store: Store, request: Request, principal: Principal, action: str, subject: str, detail: dict[str, Any],
           status_code: int) -> dict[str, Any]:
    """Record a decision (its evidence in ``detail``) as the one entry of this request, with who made it."""
    with store.tx() as conn:
        entry = audit_log.record(conn, action, subject, detail, actor=principal.name, role=principal.role,
                                 via=principal.via, key_id=principal.key_id, method=request.method,
                                 path=request.url.path, status_code=status_code)
    mark_recorded(request)
    return entry


def note(request: Request, action: str, subject: str | None = None, **detail: Any) -> None:
    """Describe the write this request makes; the middleware records it with the outcome."""
    state = request.scope.setdefault(SCOPE_KEY, {})
    state.update(action=action, subject=subject, detail=detail or None)


def mark_recorded(request: Request) -> None:
    request.scope.setdefault(SCOPE_KEY, {})["recorded"] = True


def list_audit(conn: sa.Connection, limit: int = 100, actor: str | None = None) -> list[dict[str, Any]]:
    return audit_log.entries(conn, limit=limit, actor=actor)
