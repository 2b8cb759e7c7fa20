"""Find: play/like/skip events of viewers, the behaviour half of recommendations.

Revision ID: search_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "search_0002"
down_revision = "search_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False,
                  comment="the viewer, as the calling application names them (not a VidLens account)"),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False, comment="play | like | skip"),
        sa.Column("at", sa.Float, nullable=False, comment="epoch seconds"),
        sa.PrimaryKeyConstraint("id", name="pk_search_events"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_search_events_video_id_videos"),
    )
    op.create_index("ix_search_events_user_id", "search_events", ["user_id"])
    op.create_index("ix_search_events_video_id", "search_events", ["video_id"])


def downgrade() -> None:
    op.drop_table("search_events")
