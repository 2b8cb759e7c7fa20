"""Watch tables: the events the cameras raised and the outbox their alerts leave from.

``watch_events`` holds one row per event (one ``object`` event per track; times in seconds from the
camera's stream start). ``watch_outbox`` holds every alert (an MQTT message or a webhook call) until
it is delivered: it is written in the transaction that stores the event, so a broker or a receiver
that is down loses nothing; the message is sent when it is back.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

events = sa.Table(
    "watch_events", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("camera", sa.String(64), nullable=False, index=True),
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
    sa.Column("created_at", sa.Float, nullable=False, index=True),
)

outbox = sa.Table(
    "watch_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False, comment="mqtt | webhook:<index>"),
    sa.Column("topic", sa.Text, nullable=False, comment="MQTT topic, or the webhook URL"),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("retain", sa.Boolean, nullable=False, default=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True, index=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)
