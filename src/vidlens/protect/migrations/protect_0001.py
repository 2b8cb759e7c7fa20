"""Protect tables: works, ledger, index checkpoints, matches.

Revision ID: protect_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "protect_0001"
down_revision = "0001_core"
branch_labels = ("protect",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "protect_works",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name="pk_protect_works"),
    )
    op.create_index("ix_protect_works_content_sha256", "protect_works", ["content_sha256"])
    op.create_table(
        "protect_ledger",
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("work_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False, comment="register | remove"),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_protect_ledger"),
        sa.UniqueConstraint("entry_hash", name="uq_protect_ledger_entry_hash"),
    )
    op.create_index("ix_protect_ledger_work_id", "protect_ledger", ["work_id"])
    op.create_table(
        "protect_index",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("checkpoint", sa.String(64), nullable=False),
        sa.Column("blob", sa.String(128), nullable=False),
        sa.Column("built_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("kind", name="pk_protect_index"),
    )
    op.create_table(
        "protect_matches",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("query_sha256", sa.String(64), nullable=False),
        sa.Column("query_uri", sa.Text, nullable=False),
        sa.Column("work_id", sa.String(32), nullable=False),
        sa.Column("query_start_s", sa.Float, nullable=False),
        sa.Column("query_end_s", sa.Float, nullable=False),
        sa.Column("reference_start_s", sa.Float, nullable=False),
        sa.Column("reference_end_s", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="visual | audio | visual+audio"),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("hints", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_protect_matches"),
    )
    op.create_index("ix_protect_matches_query_sha256", "protect_matches", ["query_sha256"])
    op.create_index("ix_protect_matches_work_id", "protect_matches", ["work_id"])


def downgrade() -> None:
    for name in ("protect_matches", "protect_index", "protect_ledger", "protect_works"):
        op.drop_table(name)
