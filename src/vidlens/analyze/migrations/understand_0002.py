"""Understand: identities (people across the library, with the names people give them) and the links
from each video's people to them. Filled by the ``identities`` projection (``vidlens reindex``).

Revision ID: understand_0002
"""
import time

import sqlalchemy as sa
from alembic import op

revision = "understand_0002"
down_revision = "understand_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=True, comment="given by a person; null until named"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
    )
    op.create_index("ix_identities_name", "identities", ["name"])
    op.create_table(
        "identity_faces",
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False, comment="people.person_id within the video"),
        sa.Column("identity_id", sa.Integer, nullable=False),
        sa.Column("similarity", sa.Float, nullable=True, comment="cosine to the identity when linked automatically"),
        sa.Column("pinned", sa.Boolean, nullable=False, comment="set by a merge or split; kept by the projection"),
        sa.PrimaryKeyConstraint("video_id", "person_id", name="pk_identity_faces"),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE",
                                name="fk_identity_faces_video_id_videos"),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"], ondelete="CASCADE",
                                name="fk_identity_faces_identity_id_identities"),
    )
    op.create_index("ix_identity_faces_identity_id", "identity_faces", ["identity_id"])

    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM documents LIMIT 1")).first() is not None:
        jobs = sa.table("jobs", *(sa.column(c) for c in (
            "kind", "key", "video_id", "status", "priority", "attempts", "max_attempts", "run_after", "progress",
            "cancel_requested", "created_at", "completions")), sa.column("payload", sa.JSON))
        now = time.time()
        conn.execute(jobs.insert().values(
            kind="reindex", key="reindex:understand_0002", video_id=None, payload={"projections": ["identities"]},
            status="queued", priority=0, attempts=0, max_attempts=3, run_after=now, progress=0.0,
            cancel_requested=False, created_at=now, completions=0))


def downgrade() -> None:
    op.drop_table("identity_faces")
    op.drop_table("identities")
