"""Govern: hash-chained audit log.

Revision ID: govern_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "govern_0001"
down_revision = "0001_core"
branch_labels = ("govern",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "govern_audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False, comment="epoch seconds"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False, comment="file path or video id the entry is about"),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_govern_audit"),
        sa.UniqueConstraint("hash", name="uq_govern_audit_hash"),
    )
    op.create_index("ix_govern_audit_at", "govern_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_govern_audit_at", table_name="govern_audit")
    op.drop_table("govern_audit")
