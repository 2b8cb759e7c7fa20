"""Watch tables: events and the alert outbox.

Revision ID: watch_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "watch_0001"
down_revision = "0001_core"
branch_labels = ("watch",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("type", sa.String(16), nullable=False,
                  comment="object | zone_enter | zone_exit | loiter | line_cross | watchlist | camera_offline"),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("track_id", sa.Integer, nullable=True),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=True),
        sa.Column("zone", sa.Text, nullable=True),
        sa.Column("line", sa.Text, nullable=True),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("box", sa.JSON, nullable=True),
        sa.Column("snapshot", sa.Text, nullable=True, comment="file name under the camera's snapshots/"),
        sa.Column("clip", sa.Text, nullable=True, comment="file name under the camera's clips/, once cut"),
        sa.Column("review", sa.String(16), nullable=True, comment="acknowledged | false_positive"),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watch_events"),
    )
    op.create_index("ix_watch_events_camera", "watch_events", ["camera"])
    op.create_index("ix_watch_events_created_at", "watch_events", ["created_at"])
    op.create_table(
        "watch_outbox",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False, comment="mqtt | webhook:<index>"),
        sa.Column("topic", sa.Text, nullable=False, comment="MQTT topic, or the webhook URL"),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("retain", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watch_outbox"),
    )
    op.create_index("ix_watch_outbox_delivered_at", "watch_outbox", ["delivered_at"])


def downgrade() -> None:
    op.drop_table("watch_outbox")
    op.drop_table("watch_events")
