"""Govern: one audit log for API writes and labelling decisions, hashed as a ``vidlens.ledger`` chain.

Until now the API kept ``api_audit`` (not chained) beside ``govern_audit`` (chained with its own
formula: sha256(prev_hash + "\\n" + JSON [seq, repr(at), action, subject, detail])). This revision:

1. adds the API's columns (actor, role, via, key_id, method, path, status_code) to ``govern_audit``;
2. checks the existing chain with its old formula, then re-hashes it in place with the ledger's
   formula (same seq, same order, same first ``prev_hash``, so a logged prune still accounts for
   the head) -- the format had to change for the two chains to be one kind;
3. appends the ``api_audit`` rows in their order, each keeping its time and who made it;
4. appends an ``audit.migrate`` entry recording the old chain's head hash, whether it verified
   under the old formula (and its first problems), and how many entries were re-hashed and
   imported, so the conversion itself sits inside the chain;
5. drops ``api_audit``.

The protect ledger needs nothing: its entries were already hashed the ledger's way.

Revision ID: govern_0002
"""
import hashlib
import json
import time

import sqlalchemy as sa
from alembic import op

revision = "govern_0002"
down_revision = "govern_0001"
branch_labels = None
depends_on = "api_0001"

GENESIS = "0" * 64
FIELDS = ("at", "actor", "role", "via", "key_id", "method", "path", "status_code", "action", "subject", "detail")


def _api_columns() -> list[sa.Column]:
    return [
        sa.Column("actor", sa.String(64), nullable=True, comment="user name, or the OS user for the CLI"),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("via", sa.String(16), nullable=True, comment="key | session | cli | migration"),
        sa.Column("key_id", sa.Integer, nullable=True, comment="API key used, if any"),
        sa.Column("method", sa.String(8), nullable=True, comment="HTTP method, or CLI"),
        sa.Column("path", sa.Text, nullable=True, comment="request path or CLI command"),
        sa.Column("status_code", sa.Integer, nullable=True),
    ]


def _old_hash(row: dict) -> str:
    """The 0.1 formula, frozen here: the only place it is still needed."""
    body = json.dumps([row["seq"], repr(float(row["at"])), row["action"], row["subject"], row["detail"]],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(row["prev_hash"].encode() + b"\n" + body.encode()).hexdigest()


def _ledger_hash(seq: int, prev_hash: str, row: dict) -> str:
    """``vidlens.ledger.entry_hash`` as of this revision, frozen."""
    doc = {**{f: row[f] for f in FIELDS}, "seq": seq, "prev_hash": prev_hash}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     allow_nan=False).encode()).hexdigest()


def _json(value: object) -> object:
    """A JSON column's value, as stored (SQLite hands back text, PostgreSQL parsed JSON)."""
    return json.loads(value) if isinstance(value, str) else value


def _check_old_chain(rows: list[dict]) -> list[str]:
    problems: list[str] = []
    prev = None
    for row in rows:
        if prev is not None and (row["seq"] != prev["seq"] + 1 or row["prev_hash"] != prev["hash"]):
            problems.append(f"entry {row['seq']} does not chain to entry {prev['seq']}")
        if _old_hash(row) != row["hash"]:
            problems.append(f"entry {row['seq']}: contents do not match its hash")
        prev = row
    return problems


def upgrade() -> None:
    with op.batch_alter_table("govern_audit") as batch:
        for column in _api_columns():
            batch.add_column(column)
        batch.alter_column("subject", existing_type=sa.Text, nullable=True,
                           comment="what the entry is about: a file, video:<id>, user:<name>",
                           existing_comment="file path or video id the entry is about")
    conn = op.get_bind()
    audit = sa.table("govern_audit", *(sa.column(c) for c in ("seq", "prev_hash", "hash", *FIELDS)))
    old = [dict(r._mapping) for r in conn.execute(sa.select(audit).order_by(audit.c.seq))]
    for row in old:
        row["detail"] = _json(row["detail"])
    api = sa.table("api_audit", *(sa.column(c) for c in ("id", *FIELDS)))
    imported = [dict(r._mapping) for r in conn.execute(sa.select(api).order_by(api.c.id))]
    if old or imported:  # a new install has nothing to convert and nothing to record
        conn.execute(sa.delete(audit))
        op.bulk_insert(sa.table("govern_audit", sa.column("seq"), sa.column("prev_hash"), sa.column("hash"),
                                *(sa.column(f, sa.JSON if f == "detail" else None) for f in FIELDS)),
                       _one_chain(old, imported))
    op.drop_index("ix_api_audit_at", table_name="api_audit")
    op.drop_table("api_audit")


def _one_chain(old: list[dict], imported: list[dict]) -> list[dict]:
    """The rows of the converted chain: the old entries re-hashed, the API rows, the migration entry."""
    problems = _check_old_chain(old)
    entries = [{f: row.get(f) for f in FIELDS} for row in old]  # the actor columns stay empty for these
    entries += [{**{f: row[f] for f in FIELDS}, "detail": _json(row["detail"]) or {}} for row in imported]
    entries.append({"at": round(time.time(), 6), "actor": None, "role": None, "via": "migration", "key_id": None,
                    "method": None, "path": None, "status_code": None, "action": "audit.migrate",
                    "subject": "audit", "detail": {
                        "revision": revision, "format": "vidlens.ledger", "rehashed": len(old),
                        "imported": {"api_audit": len(imported)},
                        "previous_head": old[-1]["hash"] if old else None,
                        "previous_chain_ok": not problems, "previous_problems": problems[:20]}})
    seq = old[0]["seq"] if old else 1
    prev = old[0]["prev_hash"] if old else GENESIS  # a pruned head stays accounted for by its logged prune
    rows = []
    for entry in entries:
        digest = _ledger_hash(seq, prev, entry)
        rows.append({**entry, "seq": seq, "prev_hash": prev, "hash": digest})
        seq, prev = seq + 1, digest
    return rows


def downgrade() -> None:
    raise NotImplementedError("govern_0002 merged the API audit table into the audit chain and re-hashed it; "
                              "restore the database backup taken before upgrading to go back")
