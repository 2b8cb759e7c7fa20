"""Hash chains: append-only tables in which every entry's hash covers the entry before it.

An entry is a row with ``seq`` (1, 2, 3, ...), ``prev_hash`` (the previous entry's hash, 64 zeros
for the first) and its own hash::

    hash = sha256(canonical_json({"seq": seq, "prev_hash": prev_hash, <field>: <value>, ...}))

over the chain's hashed fields (``vidlens.hashing.canonical_json``: sorted keys, no spaces,
UTF-8). Editing, reordering or deleting any entry breaks the link to every later one, and
``Chain.verify`` names the first broken link. The protect registry's ledger and the audit log are
two chains of this one kind. Appends are serialised per chain: SQLite's write transaction
already holds the database, PostgreSQL takes a transaction-scoped advisory lock on the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vidlens.hashing import canonical_json, sha256_bytes

GENESIS = "0" * 64
MAX_PROBLEMS = 50


def entry_hash(seq: int, prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of one entry (see the module docstring)."""
    return sha256_bytes(canonical_json({**fields, "seq": seq, "prev_hash": prev_hash}))


@dataclass
class Verification:
    """What ``Chain.verify`` found. ``first_broken`` is the seq of the first entry whose link or
    contents do not check out (None when the chain is intact)."""

    checked: int = 0
    first_seq: int | None = None
    start_hash: str = GENESIS
    first_broken: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def broken(self, seq: int, problem: str) -> None:
        if self.first_broken is None:
            self.first_broken = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_seq": self.first_seq,
                "first_broken": self.first_broken, "problems": self.problems}


@dataclass(frozen=True)
class Chain:
    """One hash-chained table: its ``seq`` and ``prev_hash`` columns, the column holding each
    entry's hash, and the columns the hash covers."""

    table: sa.Table
    fields: tuple[str, ...]
    hash_column: str = "hash"
    name: str = ""  # how problems name an entry: "<name> entry 3"

    def _label(self, seq: int) -> str:
        return f"{self.name} entry {seq}".strip()

    def head(self, conn: sa.Connection) -> tuple[int, str]:
        """(seq, hash) of the newest entry, or (0, GENESIS) for an empty chain."""
        t = self.table
        last = conn.execute(sa.select(t.c.seq, t.c[self.hash_column]).order_by(t.c.seq.desc()).limit(1)).first()
        return (0, GENESIS) if last is None else (int(last[0]), str(last[1]))

    def lock(self, conn: sa.Connection) -> None:
        """Hold the chain for this transaction so concurrent appends cannot fork it."""
        if conn.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(self.table.name.encode()).digest()[:8], "big", signed=True)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def append(self, conn: sa.Connection, values: Mapping[str, Any]) -> dict[str, Any]:
        """Append one entry inside the caller's write transaction; returns the row as written.

        ``values`` must hold every hashed field (JSON values already in their stored form) and may
        hold other columns, which the hash does not cover.
        """
        missing = [f for f in self.fields if f not in values]
        if missing:
            raise ValueError(f"{self.table.name}: entry lacks the hashed fields {missing}")
        self.lock(conn)
        seq, prev = self.head(conn)
        seq += 1
        row = {**values, "seq": seq, "prev_hash": prev}
        row[self.hash_column] = entry_hash(seq, prev, {f: values[f] for f in self.fields})
        conn.execute(self.table.insert().values(**row))
        return row

    def rows(self, conn: sa.Connection) -> Iterator[Mapping[str, Any]]:
        """Every entry, oldest first, streamed."""
        result = conn.execution_options(yield_per=1000).execute(sa.select(self.table).order_by(self.table.c.seq))
        for row in result:
            yield row._mapping

    def verify(self, conn: sa.Connection, *, from_genesis: bool = True) -> Verification:
        """Recompute every link. ``from_genesis=False`` accepts a chain whose oldest entries were
        pruned (its first entry then links to a hash the caller must account for: ``start_hash``)."""
        report = Verification()
        prev_seq: int | None = None
        prev_hash = GENESIS
        for row in self.rows(conn):
            seq = int(row["seq"])
            report.checked += 1
            if prev_seq is None:
                report.first_seq, report.start_hash = seq, str(row["prev_hash"])
                if from_genesis and seq != 1:
                    report.broken(seq, f"{self._label(1)} is missing (the chain starts at {seq})")
                elif seq == 1 and row["prev_hash"] != GENESIS:
                    report.broken(seq, f"{self._label(seq)} does not start from the genesis hash")
            else:
                if seq != prev_seq + 1:
                    report.broken(seq, f"{self._label(prev_seq + 1)} is missing: entries {prev_seq}..{seq} "
                                       "have a gap (deleted entries)")
                if row["prev_hash"] != prev_hash:
                    report.broken(seq, f"{self._label(seq)} does not chain to entry {prev_seq} "
                                       "(prev_hash differs)")
            want = entry_hash(seq, str(row["prev_hash"]), {f: row[f] for f in self.fields})
            if want != row[self.hash_column]:
                report.broken(seq, f"{self._label(seq)} was altered (hash mismatch)")
            prev_seq, prev_hash = seq, str(row[self.hash_column])
        return report
