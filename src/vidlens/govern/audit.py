"""The audit log: one tamper-evident record of who changed what, kept in the store.

Every write through the API (with the account, role and credential that made it), every
account change from the CLI, and every labelling, watermarking and triage decision is one
entry of a ``vidlens.ledger`` hash chain in ``govern_audit``; each hash covers every column of
its entry and the previous entry's hash, so editing, reordering or deleting any entry is
reported by ``verify``, which names the first broken link. Entries older than the retention (at least six months) may be
pruned from the head; the prune itself is logged with the hash of the last dropped entry, so
the new head's ``prev_hash`` stays accounted for.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.govern.tables import govern_audit
from vidlens.ledger import GENESIS, Chain, Verification

if TYPE_CHECKING:
    from vidlens.store.db import Store

FIELDS = ("at", "actor", "role", "via", "key_id", "method", "path", "status_code", "action", "subject", "detail")
CHAIN = Chain(govern_audit, FIELDS, name="audit")
PRUNE = "audit.prune"


def _jsonable(value: Any) -> Any:
    """``value`` as the JSON the database stores and gives back: anything else as its ``str``,
    non-finite floats as strings (JSON has no NaN, and the hash must survive a round trip)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record(conn: sa.Connection, action: str, subject: str | None = None, detail: dict[str, Any] | None = None, *,
           actor: str | None = None, role: str | None = None, via: str | None = None, key_id: int | None = None,
           method: str | None = None, path: str | None = None, status_code: int | None = None) -> dict[str, Any]:
    """Append one entry inside the caller's write transaction, so a decision and its entry commit together."""
    return CHAIN.append(conn, {
        "at": round(time.time(), 6), "actor": actor, "role": role, "via": via, "key_id": key_id,
        "method": method, "path": path[:2000] if path else path, "status_code": status_code, "action": action[:64],
        "subject": subject, "detail": _jsonable(detail or {}),
    })


def append(store: Store, action: str, subject: str | None, detail: dict[str, Any] | None = None,
           **who: Any) -> dict[str, Any]:
    """Append one entry in its own transaction (``who``: the keyword arguments of ``record``)."""
    with store.tx() as conn:
        return record(conn, action, subject, detail, **who)


def entries(conn: sa.Connection, *, limit: int = 100, action: str | None = None,
            actor: str | None = None) -> list[dict[str, Any]]:
    """The newest entries first."""
    query = sa.select(govern_audit).order_by(govern_audit.c.seq.desc()).limit(limit)
    if action:
        query = query.where(govern_audit.c.action == action)
    if actor:
        query = query.where(govern_audit.c.actor == actor)
    return [dict(r._mapping) for r in conn.execute(query)]


def verify(store: Store) -> Verification:
    """Recompute every link; a chain whose head was pruned must say so in a logged prune."""
    with store.read() as conn:
        report = CHAIN.verify(conn, from_genesis=False)
        if report.first_seq is not None and report.start_hash != GENESIS:
            logged = {str((r.detail or {}).get("last_dropped_hash"))
                      for r in conn.execute(sa.select(govern_audit.c.detail).where(govern_audit.c.action == PRUNE))}
            if report.start_hash not in logged:
                report.broken(report.first_seq, f"the entries before {report.first_seq} were removed without a "
                                                f"logged prune (entry {report.first_seq} links to "
                                                f"{report.start_hash[:12]}...)")
    return report


def prune(store: Store, retention_days: int, *, now: float | None = None) -> int:
    """Drop entries older than ``retention_days``, always keeping the newest; the drop is itself logged."""
    cutoff = (now or time.time()) - retention_days * 86400
    with store.tx() as conn:
        CHAIN.lock(conn)
        newest = sa.select(sa.func.max(govern_audit.c.seq)).scalar_subquery()
        doomed = conn.execute(sa.select(govern_audit.c.seq, govern_audit.c.hash)
                              .where(govern_audit.c.at < cutoff, govern_audit.c.seq < newest)  # keep the tail
                              .order_by(govern_audit.c.seq.desc()).limit(1)).first()
        if doomed is None:
            return 0
        count = conn.execute(sa.delete(govern_audit).where(govern_audit.c.seq <= doomed.seq)).rowcount
        record(conn, PRUNE, "audit", {"dropped": count, "through_seq": doomed.seq,
                                      "last_dropped_hash": doomed.hash, "retention_days": retention_days})
    return int(count)
