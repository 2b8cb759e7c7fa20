"""Digital-human tables: humans, their face and voice samples, and the ledger both are checked against.

The ledger (a ``vidlens.ledger`` chain) is the truth: every registration, consent revocation and
removal appends an entry chained to the one before; ``humans_humans`` and ``humans_samples`` are
views of it that ``HumanRegistry.verify`` checks. Embeddings are float32 bytes in the row, so a
registration is one transaction and never half-stored.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

humans = sa.Table(
    "humans_humans", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="active | revoked | removed"),
    sa.Column("consent", sa.JSON, nullable=True),
    sa.Column("samples_digest", sa.String(64), nullable=False),
    sa.Column("certificate", sa.JSON, nullable=False),
    sa.Column("ledger_seq", sa.Integer, nullable=False),
    sa.Column("registered_at", sa.Float, nullable=False),
)

samples = sa.Table(
    "humans_samples", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("human_id", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(8), nullable=False, comment="face | voice"),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("embedding", sa.LargeBinary, nullable=False),
)

ledger = sa.Table(
    "humans_ledger", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("human_id", sa.String(32), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False, comment="register | revoke | remove"),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
