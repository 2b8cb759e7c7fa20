"""API domain: the word-only search entries go; Find's moments (search_0001) replace them.

``search_entries`` and its run-time FTS5 index ``search_fts`` are dropped; the ``moments`` projection
of the ``search`` capability is filled from the stored documents by the reindex job search_0001 queues.

Revision ID: api_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "api_0003"
down_revision = "api_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DROP TABLE IF EXISTS search_fts"))
    op.drop_index("ix_search_entries_video_id", table_name="search_entries")
    op.drop_table("search_entries")


def downgrade() -> None:
    """The entries table comes back empty; ``vidlens reindex`` of an earlier version refills it."""
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("analyzer", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start_s", sa.Float, nullable=True),
        sa.Column("end_s", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_search_entries"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_search_entries_video_id_videos"),
    )
    op.create_index("ix_search_entries_video_id", "search_entries", ["video_id"])
