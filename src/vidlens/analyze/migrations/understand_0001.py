"""Understand: the stored analysis document per video, and the people and tracks projected from it.

Existing analyzer results are kept as they are. When there are any (a data dir analysed before
documents were stored), a ``reindex`` job is queued: the next worker builds every video's document
and projections from them, as ``vidlens reindex`` does.

Revision ID: understand_0001
"""
import time

import sqlalchemy as sa
from alembic import op

revision = "understand_0001"
down_revision = "0001_core"
branch_labels = ("understand",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, comment="document version (docs/formats.md)"),
        sa.Column("status", sa.String(16), nullable=False, comment="analysed | partial | failed"),
        sa.Column("analyzers", sa.JSON, nullable=False,
                  comment="per analyzer: version, config_hash, status and error of the result it was built from"),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("video_id", name="pk_documents"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_documents_video_id_videos"),
    )
    op.create_table(
        "people",
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False, comment="distinct face cluster within the video"),
        sa.Column("identity", sa.String(255), nullable=True, comment="gallery name, when matched"),
        sa.Column("identity_score", sa.Float, nullable=True),
        sa.Column("first_s", sa.Float, nullable=True),
        sa.Column("screen_time_s", sa.Float, nullable=False),
        sa.Column("faces", sa.Integer, nullable=False, comment="detections clustered into this person"),
        sa.Column("best_t", sa.Float, nullable=True),
        sa.Column("thumbnail_blob", sa.String(128), nullable=True),
        sa.Column("embedding", sa.LargeBinary, nullable=True, comment="float32 little-endian, unit length"),
        sa.PrimaryKeyConstraint("video_id", "person_id", name="pk_people"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE", name="fk_people_video_id_videos"),
    )
    op.create_index("ix_people_identity", "people", ["identity"])
    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="object | person"),
        sa.Column("ref", sa.String(64), nullable=False, comment="object track_id, or people.person_id"),
        sa.Column("label", sa.String(128), nullable=False,
                  comment="COCO label of an object; identity (else 'person') of a person"),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=False),
        sa.Column("shot_index", sa.Integer, nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("best_t", sa.Float, nullable=True),
        sa.Column("box_x1", sa.Float, nullable=True, comment="best box, display pixels"),
        sa.Column("box_y1", sa.Float, nullable=True),
        sa.Column("box_x2", sa.Float, nullable=True),
        sa.Column("box_y2", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tracks"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE", name="fk_tracks_video_id_videos"),
    )
    op.create_index("ix_tracks_video_id", "tracks", ["video_id"])
    op.create_index("ix_tracks_label", "tracks", ["label"])

    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM results LIMIT 1")).first() is not None:
        jobs = sa.table("jobs", *(sa.column(c) for c in (
            "kind", "key", "video_id", "status", "priority", "attempts", "max_attempts", "run_after", "progress",
            "cancel_requested", "created_at", "completions")), sa.column("payload", sa.JSON))
        now = time.time()
        conn.execute(jobs.insert().values(
            kind="reindex", key="reindex:understand_0001", video_id=None, payload={}, status="queued", priority=0,
            attempts=0, max_attempts=3, run_after=now, progress=0.0, cancel_requested=False, created_at=now,
            completions=0))


def downgrade() -> None:
    op.drop_table("tracks")
    op.drop_table("people")
    op.drop_table("documents")
