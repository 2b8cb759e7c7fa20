"""Govern's tables: the audit log (one ``vidlens.ledger`` hash chain of who changed what) and the face
watch-list, whose every addition and removal is an entry of that chain."""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

govern_audit = sa.Table(
    "govern_audit", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True, comment="epoch seconds"),
    sa.Column("actor", sa.String(64), nullable=True, comment="user name, or the OS user for the CLI"),
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("via", sa.String(16), nullable=True, comment="key | session | cli | migration"),
    sa.Column("key_id", sa.Integer, nullable=True, comment="API key used, if any"),
    sa.Column("method", sa.String(8), nullable=True, comment="HTTP method, or CLI"),
    sa.Column("path", sa.Text, nullable=True, comment="request path or CLI command"),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text, nullable=True, comment="what the entry is about: a file, video:<id>, user:<name>"),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)

watchlist = sa.Table(
    "govern_watchlist", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, comment="who the face is, as the listing party knows them"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("model", sa.String(64), nullable=False, comment="the face model the embeddings come from"),
    sa.Column("embeddings", sa.LargeBinary, nullable=False, comment="n x 128 float32, unit rows"),
    sa.Column("added_at", sa.Float, nullable=False),
    sa.Column("added_by", sa.String(64), nullable=True),
    sa.Column("audit_seq", sa.Integer, nullable=False, comment="the audit entry that added it"),
)
