"""Govern: the face watch-list (deep-synthesis "blacklist"); additions and removals go to the audit chain.

Revision ID: govern_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "govern_0003"
down_revision = "govern_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "govern_watchlist",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False, comment="who the face is, as the listing party knows them"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False, comment="the face model the embeddings come from"),
        sa.Column("embeddings", sa.LargeBinary, nullable=False, comment="n x 128 float32, unit rows"),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=True),
        sa.Column("audit_seq", sa.Integer, nullable=False, comment="the audit entry that added it"),
        sa.PrimaryKeyConstraint("id", name="pk_govern_watchlist"),
    )


def downgrade() -> None:
    op.drop_table("govern_watchlist")
