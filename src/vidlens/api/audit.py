"""The API audit table: who changed what, when, through which credential.

Handlers that change domain state in one transaction (a review decision) write their
audit row inside that same transaction with ``record``; every other write is recorded
by the middleware after the response, from what the handler noted with ``note``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.api.tables import api_audit

if TYPE_CHECKING:
    from starlette.requests import Request

    from vidlens.api.auth import Principal

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
    conn.execute(
        api_audit.insert().values(
            at=time.time(),
            actor=principal.name if principal else actor,
            role=principal.role if principal else None,
            via=via or (principal.via if principal else "anonymous"),
            key_id=principal.key_id if principal else None,
            method=method,
            path=path[:2000],
            action=action[:64],
            subject=subject[:255] if subject else None,
            status_code=status_code,
            detail=detail,
        )
    )


def note(request: Request, action: str, subject: str | None = None, **detail: Any) -> None:
    """Describe the write this request makes; the middleware records it with the outcome."""
    state = request.scope.setdefault(SCOPE_KEY, {})
    state.update(action=action, subject=subject, detail=detail or None)


def mark_recorded(request: Request) -> None:
    request.scope.setdefault(SCOPE_KEY, {})["recorded"] = True


def list_audit(conn: sa.Connection, limit: int = 100, actor: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(api_audit).order_by(api_audit.c.id.desc()).limit(limit)
    if actor:
        q = q.where(api_audit.c.actor == actor)
    return [dict(r._mapping) for r in conn.execute(q)]
