"""API domain: titles move to the catalogue; search entries become a projection of the stored document.

``video_uploads.original_name`` is copied to ``videos.title`` and dropped. ``search_entries`` are
now written with each video's document (keyed by video, no longer by result row), so ``result_id``
and the ``search_sources`` bookkeeping go; the existing entries stay until ``vidlens reindex``
(queued by understand_0001) rebuilds them from the documents.

Revision ID: api_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "api_0002"
down_revision = "api_0001"
branch_labels = None
depends_on = "0002_video_titles"


def upgrade() -> None:
    op.execute(sa.text("UPDATE videos SET title = (SELECT original_name FROM video_uploads "
                       "WHERE video_uploads.video_id = videos.id) "
                       "WHERE id IN (SELECT video_id FROM video_uploads)"))
    with op.batch_alter_table("video_uploads") as batch:
        batch.drop_column("original_name")
    op.drop_table("search_sources")
    op.drop_index("ix_search_entries_result_id", table_name="search_entries")
    with op.batch_alter_table("search_entries") as batch:
        batch.drop_constraint("fk_search_entries_result_id_results", type_="foreignkey")
        batch.drop_column("result_id")
        batch.create_foreign_key("fk_search_entries_video_id_videos", "videos", ["video_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade() -> None:
    """Back to per-result search entries (emptied: api_0001's lazy indexing refills them) and upload names."""
    op.execute(sa.text("DELETE FROM search_entries"))
    with op.batch_alter_table("search_entries") as batch:
        batch.drop_constraint("fk_search_entries_video_id_videos", type_="foreignkey")
        batch.add_column(sa.Column("result_id", sa.Integer, nullable=False))
        batch.create_foreign_key("fk_search_entries_result_id_results", "results", ["result_id"], ["id"],
                                 ondelete="CASCADE")
    op.create_index("ix_search_entries_result_id", "search_entries", ["result_id"])
    op.create_table(
        "search_sources",
        sa.Column("result_id", sa.Integer, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("indexed_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("result_id", name="pk_search_sources"),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], ondelete="CASCADE",
                                name="fk_search_sources_result_id_results"),
    )
    with op.batch_alter_table("video_uploads") as batch:
        batch.add_column(sa.Column("original_name", sa.Text, nullable=False, server_default="",
                                   comment="client-supplied name, for display only"))
    op.execute(sa.text("UPDATE video_uploads SET original_name = (SELECT COALESCE(title, filename) FROM videos "
                       "WHERE videos.id = video_uploads.video_id)"))
