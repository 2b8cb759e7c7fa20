"""Core tables: videos, jobs, results, shots.

Revision ID: 0001_core
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.String(64), primary_key=True, comment="content sha256"),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("container", sa.String(64), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("fps", sa.String(32), nullable=True),
        sa.Column("has_audio", sa.Boolean, nullable=False),
        sa.Column("probe", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_videos"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, comment="idempotency key"),
        sa.Column("video_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
        sa.Column("run_after", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires", sa.Float, nullable=True),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("progress_message", sa.Text, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("error_detail", sa.JSON, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("completions", sa.Integer, nullable=False, server_default="0",
                  comment="times the step body ran to completion; must end at 1"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("key", name="uq_jobs_key"),
    )
    op.create_index("ix_jobs_video_id", "jobs", ["video_id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("analyzer", sa.String(128), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_results"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_results_video_id_videos"),
        sa.UniqueConstraint("video_id", "analyzer", "version", "config_hash", name="uq_results_cache_key"),
    )
    op.create_table(
        "shots",
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("start_frame", sa.Integer, nullable=False),
        sa.Column("end_frame", sa.Integer, nullable=False),
        sa.Column("start_pts", sa.BigInteger, nullable=False),
        sa.Column("end_pts", sa.BigInteger, nullable=False),
        sa.Column("time_base", sa.String(32), nullable=False),
        sa.Column("keyframe_frame", sa.Integer, nullable=False),
        sa.Column("keyframe_pts", sa.BigInteger, nullable=False),
        sa.Column("transition_in", sa.String(16), nullable=False),
        sa.Column("keyframe_blob", sa.String(128), nullable=True),
        sa.Column("thumbnail_blob", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("video_id", "idx", name="pk_shots"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE", name="fk_shots_video_id_videos"),
    )


def downgrade() -> None:
    for name in ("shots", "results", "jobs", "videos"):
        op.drop_table(name)
