"""API domain: users, API keys, web sessions, audit, review queue, uploads, search index.

Revision ID: api_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "api_0001"
down_revision = "0001_core"
branch_labels = ("serve",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True, comment="scrypt; NULL = API keys only"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, comment="first characters, shown to identify the key"),
        sa.Column("key_hash", sa.String(64), nullable=False, comment="sha256 of the key"),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("last_used_at", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE", name="fk_api_keys_user_id_users"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), nullable=False, comment="sha256 of the session token"),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_web_sessions_user_id_users"),
    )
    op.create_table(
        "api_audit",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("via", sa.String(16), nullable=False, comment="key | session | cli"),
        sa.Column("key_id", sa.Integer, nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("detail", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_audit"),
    )
    op.create_index("ix_api_audit_at", "api_audit", ["at"])
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False,
                  comment="what is reviewed, e.g. video:<id> or match:<id>"),
        sa.Column("video_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False, comment="domain that raised it"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("label", sa.String(128), nullable=True, comment="label proposed by the source"),
        sa.Column("start_s", sa.Float, nullable=True),
        sa.Column("end_s", sa.Float, nullable=True),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_label", sa.String(128), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_review_items_video_id_videos"),
    )
    op.create_index("ix_review_items_video_id", "review_items", ["video_id"])
    op.create_index("ix_review_items_status", "review_items", ["status"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("filename", sa.Text, nullable=False, comment="client-supplied name, for display only"),
        sa.Column("total_bytes", sa.BigInteger, nullable=False),
        sa.Column("received_bytes", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("video_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE", name="fk_uploads_user_id_users"),
    )
    op.create_table(
        "video_uploads",
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("original_name", sa.Text, nullable=False, comment="client-supplied name, for display only"),
        sa.Column("uploaded_by", sa.String(64), nullable=True),
        sa.Column("uploaded_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("video_id", name="pk_video_uploads"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_video_uploads_video_id_videos"),
    )
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("result_id", sa.Integer, nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("analyzer", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start_s", sa.Float, nullable=True),
        sa.Column("end_s", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_search_entries"),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], ondelete="CASCADE",
                                name="fk_search_entries_result_id_results"),
    )
    op.create_index("ix_search_entries_result_id", "search_entries", ["result_id"])
    op.create_index("ix_search_entries_video_id", "search_entries", ["video_id"])
    op.create_table(
        "search_sources",
        sa.Column("result_id", sa.Integer, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("indexed_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("result_id", name="pk_search_sources"),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], ondelete="CASCADE",
                                name="fk_search_sources_result_id_results"),
    )


def downgrade() -> None:
    for name in ("search_sources", "search_entries", "video_uploads", "uploads", "review_items", "api_audit",
                 "web_sessions", "api_keys", "users"):
        op.drop_table(name)
