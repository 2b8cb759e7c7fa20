"""Govern's tables: the hash-chained audit log."""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

govern_audit = sa.Table(
    "govern_audit", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True, comment="epoch seconds"),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text, nullable=False, comment="file path or video id the entry is about"),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)
