"""Humans tables: digital humans, their samples, their ledger.

Revision ID: humans_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "humans_0001"
down_revision = "0001_core"
branch_labels = ("humans",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "humans_humans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="active | revoked | removed"),
        sa.Column("consent", sa.JSON, nullable=True),
        sa.Column("samples_digest", sa.String(64), nullable=False),
        sa.Column("certificate", sa.JSON, nullable=False),
        sa.Column("ledger_seq", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_humans_humans"),
    )
    op.create_table(
        "humans_samples",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("human_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False, comment="face | voice"),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_humans_samples"),
    )
    op.create_index("ix_humans_samples_human_id", "humans_samples", ["human_id"])
    op.create_table(
        "humans_ledger",
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("human_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False, comment="register | revoke | remove"),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_humans_ledger"),
        sa.UniqueConstraint("hash", name="uq_humans_ledger_hash"),
    )
    op.create_index("ix_humans_ledger_human_id", "humans_ledger", ["human_id"])


def downgrade() -> None:
    for name in ("humans_ledger", "humans_samples", "humans_humans"):
        op.drop_table(name)
