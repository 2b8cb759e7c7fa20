"""Protect tables: registered works, their append-only ledger, index checkpoints, matches.

Fingerprints live in blobs; rows hold their keys and digests. The ledger is the
truth: every registration and removal appends a row chained to the previous
one by sha256, and ``protect_works`` is a view of it that ``Registry.verify``
checks against the chain.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

works = sa.Table(
    "protect_works", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("content_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("licence", sa.Text, nullable=True),
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="active | removed"),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("source_uri", sa.Text, nullable=False),
    sa.Column("visual_blob", sa.String(128), nullable=True),
    sa.Column("audio_blob", sa.String(128), nullable=True),
    sa.Column("fingerprint_digest", sa.String(64), nullable=False),
    sa.Column("certificate", sa.JSON, nullable=False),
    sa.Column("ledger_seq", sa.Integer, nullable=False),
    sa.Column("registered_at", sa.Float, nullable=False),
)
# ``Registry.get`` by id prefix (LIKE 'abc%') on PostgreSQL under any collation (migration protect_0002)
sa.Index("ix_protect_works_id_prefix", works.c.id, postgresql_ops={"id": "varchar_pattern_ops"})

ledger = sa.Table(
    "protect_ledger", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("work_id", sa.String(32), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False, comment="register | remove"),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

index_checkpoints = sa.Table(
    "protect_index", metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("checkpoint", sa.String(64), nullable=False),
    sa.Column("blob", sa.String(128), nullable=False),
    sa.Column("built_at", sa.Float, nullable=False),
)

matches = sa.Table(
    "protect_matches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("query_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("query_uri", sa.Text, nullable=False),
    sa.Column("work_id", sa.String(32), nullable=False, index=True),
    sa.Column("query_start_s", sa.Float, nullable=False),
    sa.Column("query_end_s", sa.Float, nullable=False),
    sa.Column("reference_start_s", sa.Float, nullable=False),
    sa.Column("reference_end_s", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="visual | audio | visual+audio"),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("hints", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
