"""Find: moments of camera events beside moments of videos (``source``: video | event).

Existing moments keep every value and become ``source = 'video'``; ``video_id`` may now be empty for
an event's moment, whose ``event_id``, ``camera``, ``at`` and ``event`` say where it comes from. SQLite
rebuilds the table (Alembic's batch mode copies every row with its id, so the word index, keyed by
moment id, stays valid).

Revision ID: search_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "search_0003"
down_revision = "search_0002"
branch_labels = None
depends_on = None

CHECK = "(source = 'video' AND video_id IS NOT NULL) OR (source = 'event' AND event_id IS NOT NULL)"


def upgrade() -> None:
    with op.batch_alter_table("search_moments") as batch:
        batch.add_column(sa.Column("source", sa.String(8), nullable=False, server_default="video",
                                   comment="video | event: a span of a library video, or a camera event"))
        batch.alter_column("video_id", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("event_id", sa.String(64), nullable=True, comment="the camera event (source event)"))
        batch.add_column(sa.Column("camera", sa.String(64), nullable=True, comment="the camera of an event"))
        batch.add_column(sa.Column("at", sa.Float, nullable=True,
                                   comment="epoch seconds when the event was stored (source event)"))
        batch.add_column(sa.Column("event", sa.JSON, nullable=True,
                                   comment="the event's type, zone, line, direction, track and links (source event)"))
        batch.alter_column("kind", existing_type=sa.String(16), existing_nullable=False,
                           comment="speech | translation | text | object | person | tag | shot | frame | event",
                           existing_comment="speech | translation | text | object | person | tag | shot | frame")
        batch.create_check_constraint("ck_search_moments_source", CHECK)
    op.create_index("ix_search_moments_event_id", "search_moments", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_search_moments_event_id", table_name="search_moments")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'search_moments_fts'").first() is not None:
        # the word index of the events' moments goes with them: a later moment may take the same id
        op.execute(sa.text("DELETE FROM search_moments_fts WHERE rowid IN "
                           "(SELECT id FROM search_moments WHERE source != 'video')"))
    op.execute(sa.text("DELETE FROM search_moments WHERE source != 'video'"))
    with op.batch_alter_table("search_moments") as batch:
        batch.drop_constraint("ck_search_moments_source", type_="check")
        batch.alter_column("kind", existing_type=sa.String(16), existing_nullable=False,
                           comment="speech | translation | text | object | person | tag | shot | frame",
                           existing_comment="speech | translation | text | object | person | tag | shot | frame | event")
        for column in ("event", "at", "camera", "event_id", "source"):
            batch.drop_column(column)
        batch.alter_column("video_id", existing_type=sa.String(64), nullable=False)
