"""Core: a video's display title lives in the catalogue (NULL: its file name).

Revision ID: 0002_video_titles
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_video_titles"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: rebuilding `videos` on SQLite would cascade-delete every row that refers to it
    op.add_column("videos", sa.Column("title", sa.Text, nullable=True,
                                      comment="display title, such as an upload's own file name; NULL: filename"))


def downgrade() -> None:
    op.drop_column("videos", "title")
