"""Core: an index over the jobs a worker can claim, in claim order.

With millions of finished jobs and thousands queued, the claim query sorted every queued row to take
the first; this partial index (only queued and running rows, ordered as the claim orders) lets it read
one entry. On a large existing table the upgrade builds the index once (writes to ``jobs`` wait meanwhile).

Revision ID: 0003_jobs_ready_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_jobs_ready_index"
down_revision = "0002_video_titles"
branch_labels = None
depends_on = None

READY = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_index("ix_jobs_ready", "jobs", [sa.text("priority DESC"), "id"],
                    postgresql_where=sa.text(READY), sqlite_where=sa.text(READY))


def downgrade() -> None:
    op.drop_index("ix_jobs_ready", "jobs")
