"""A tamper-evident audit log of labelling decisions, kept in the store.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's
canonical JSON (seq, time, action, subject, detail), so editing, reordering or
deleting any entry breaks every later link; ``verify`` recomputes the chain.
Entries older than the retention (at least six months) may be pruned from the
head; the prune itself is logged with the hash of the last dropped entry, so the
new head's ``prev_hash`` stays accounted for.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vidlens.govern.tables import govern_audit

if TYPE_CHECKING:
    from vidlens.platform import Platform

GENESIS = "0" * 64


def entry_hash(prev_hash: str, seq: int, at: float, action: str, subject: str, detail: dict[str, Any]) -> str:
    body = json.dumps([seq, repr(float(at)), action, subject, detail], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(prev_hash.encode() + b"\n" + body.encode()).hexdigest()


def append(platform: Platform, action: str, subject: str, detail: dict[str, Any]) -> dict[str, Any]:
    """Add one entry at the end of the chain (serialised by the write transaction)."""
    store = platform.store
    with store.tx() as conn:
        last = conn.execute(store.for_update(sa.select(govern_audit.c.seq, govern_audit.c.hash)
                                             .order_by(govern_audit.c.seq.desc()).limit(1))).first()
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        at = time.time()
        detail = json.loads(json.dumps(detail, default=str))
        digest = entry_hash(prev, seq, at, action, subject, detail)
        conn.execute(govern_audit.insert().values(seq=seq, at=at, action=action, subject=subject, detail=detail,
                                                  prev_hash=prev, hash=digest))
    return {"seq": seq, "at": at, "action": action, "subject": subject, "detail": detail, "hash": digest}


def entries(platform: Platform, *, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(govern_audit).order_by(govern_audit.c.seq.desc()).limit(limit)
    if action:
        query = query.where(govern_audit.c.action == action)
    with platform.store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_seq: int | None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_seq": self.first_seq, "problems": self.problems}


def verify(platform: Platform) -> ChainReport:
    """Recompute every link; report the first entries that do not match."""
    problems: list[str] = []
    prev_hash: str | None = None
    prev_seq: int | None = None
    first: int | None = None
    count = 0
    pruned_heads: set[str] = set()
    with platform.store.read() as conn:
        for row in conn.execution_options(yield_per=1000).execute(
                sa.select(govern_audit).order_by(govern_audit.c.seq)):
            count += 1
            if first is None:
                first = row.seq
                if row.prev_hash != GENESIS and row.seq != 1:
                    pruned_heads.add(row.prev_hash)  # accounted for below by a prune entry
                elif row.prev_hash != GENESIS:
                    problems.append(f"entry {row.seq}: first entry does not start from the genesis hash")
            else:
                if row.seq != (prev_seq or 0) + 1:
                    problems.append(f"entries {prev_seq}..{row.seq}: sequence gap (deleted entries)")
                if row.prev_hash != prev_hash:
                    problems.append(f"entry {row.seq}: prev_hash does not match entry {prev_seq}")
            if entry_hash(row.prev_hash, row.seq, row.at, row.action, row.subject, row.detail) != row.hash:
                problems.append(f"entry {row.seq}: contents do not match its hash (edited)")
            if row.action == "audit.prune":
                pruned_heads.discard(str(row.detail.get("last_dropped_hash")))
            prev_hash, prev_seq = row.hash, row.seq
    for head in pruned_heads:
        problems.append(f"the oldest entries were removed without a logged prune (head links to {head[:12]}...)")
    return ChainReport(not problems, count, first, problems[:50])


def prune(platform: Platform, *, now: float | None = None) -> int:
    """Drop entries older than the configured retention; the drop is itself logged."""
    days = platform.settings.govern.audit_retention_days
    cutoff = (now or time.time()) - days * 86400
    with platform.store.tx() as conn:
        newest = sa.select(sa.func.max(govern_audit.c.seq)).scalar_subquery()
        doomed = conn.execute(sa.select(govern_audit.c.seq, govern_audit.c.hash)
                              .where(govern_audit.c.at < cutoff, govern_audit.c.seq < newest)  # keep the tail
                              .order_by(govern_audit.c.seq.desc()).limit(1)).first()
        if doomed is None:
            return 0
        count = conn.execute(sa.delete(govern_audit).where(govern_audit.c.seq <= doomed.seq)).rowcount
    append(platform, "audit.prune", "audit", {"dropped": count, "through_seq": doomed.seq,
                                              "last_dropped_hash": doomed.hash, "retention_days": days})
    return int(count)
