"""Tables of the API domain: users, API keys, sessions, review queue, uploads, search entries.

API writes are audited in the one audit log, ``vidlens.govern.tables.govern_audit``.

Secrets never sit in these tables in the clear: passwords are scrypt hashes, API keys
and session tokens are stored as their sha256.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True, comment="scrypt; NULL = API keys only"),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, comment="first characters, shown to identify the key"),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True, comment="sha256 of the key"),
    sa.Column("name", sa.String(128), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("last_used_at", sa.Float, nullable=True),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True, comment="sha256 of the session token"),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "subject", sa.String(255), nullable=False, comment="what is reviewed, e.g. video:<id> or match:<id>"
    ),
    sa.Column(
        "video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False, comment="domain that raised it"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("label", sa.String(128), nullable=True, comment="label proposed by the source"),
    sa.Column("start_s", sa.Float, nullable=True),
    sa.Column("end_s", sa.Float, nullable=True),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("decision", sa.String(16), nullable=True),
    sa.Column("decided_label", sa.String(128), nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", sa.Float, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("filename", sa.Text, nullable=False, comment="client-supplied name, for display only"),
    sa.Column("total_bytes", sa.BigInteger, nullable=False),
    sa.Column("received_bytes", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("video_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

video_uploads = sa.Table(
    "video_uploads",
    metadata,
    sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("uploaded_by", sa.String(64), nullable=True),
    sa.Column("uploaded_at", sa.Float, nullable=False),
)

search_entries = sa.Table(
    "search_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("analyzer", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("start_s", sa.Float, nullable=True),
    sa.Column("end_s", sa.Float, nullable=True),
)
