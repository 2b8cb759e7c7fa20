"""Find: the moments projected from each stored document, and cached text vectors.

When documents exist already, a ``reindex`` job of the ``moments`` projection is queued so the next
worker fills the index, as ``vidlens reindex --projection moments`` does.

Revision ID: search_0001
"""
import time

import sqlalchemy as sa
from alembic import op

revision = "search_0001"
down_revision = "0001_core"
branch_labels = ("search",)
depends_on = "understand_0001"


def upgrade() -> None:
    op.create_table(
        "search_moments",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False,
                  comment="speech | translation | text | object | person | tag | shot | frame"),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False, comment="what is shown as evidence and embedded"),
        sa.Column("terms", sa.Text, nullable=False, comment="lower-case words of text, Chinese segmented (jieba)"),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("label", sa.String(128), nullable=True, comment="object label, tag, or a person's identity"),
        sa.Column("person", sa.String(64), nullable=True, comment="person_id within the video, for people"),
        sa.Column("shot_index", sa.Integer, nullable=True),
        sa.Column("thumbnail_blob", sa.String(128), nullable=True),
        sa.Column("image_blob", sa.String(128), nullable=True, comment="keyframe feature (.npy) of frame moments"),
        sa.Column("face", sa.LargeBinary, nullable=True, comment="SFace embedding, float32 little-endian"),
        sa.Column("text_key", sa.String(64), nullable=True, comment="sha256 of text: its vector in search_text_vectors"),
        sa.PrimaryKeyConstraint("id", name="pk_search_moments"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_search_moments_video_id_videos"),
    )
    op.create_index("ix_search_moments_video_id", "search_moments", ["video_id"])
    op.create_index("ix_search_moments_text_key", "search_moments", ["text_key"])
    op.create_table(
        "search_text_vectors",
        sa.Column("model", sa.String(128), nullable=False, comment="the text model that made the vector"),
        sa.Column("key", sa.String(64), nullable=False, comment="sha256 of the text"),
        sa.Column("vector", sa.LargeBinary, nullable=False, comment="unit float32 little-endian"),
        sa.PrimaryKeyConstraint("model", "key", name="pk_search_text_vectors"),
    )
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM documents LIMIT 1")).first() is not None:
        jobs = sa.table("jobs", *(sa.column(c) for c in (
            "kind", "key", "video_id", "status", "priority", "attempts", "max_attempts", "run_after", "progress",
            "cancel_requested", "created_at", "completions")), sa.column("payload", sa.JSON))
        now = time.time()
        conn.execute(jobs.insert().values(
            kind="reindex", key="reindex:search_0001", video_id=None, payload={"projections": ["moments"]},
            status="queued", priority=0, attempts=0, max_attempts=3, run_after=now, progress=0.0,
            cancel_requested=False, created_at=now, completions=0))


def downgrade() -> None:
    op.drop_table("search_text_vectors")
    op.drop_table("search_moments")
