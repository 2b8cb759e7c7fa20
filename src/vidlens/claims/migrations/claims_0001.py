"""Claims: policies per work or digital human, and claims with their disputes.

Revision ID: claims_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "claims_0001"
down_revision = "0001_core"
branch_labels = ("claims",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims_policies",
        sa.Column("subject_kind", sa.String(8), nullable=False, comment="work | human"),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False, comment="block | monetise | track"),
        sa.Column("allow_uploaders", sa.JSON, nullable=False, comment="uploaders never claimed"),
        sa.Column("set_at", sa.Float, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", name="pk_claims_policies"),
    )
    op.create_table(
        "claims_claims",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(8), nullable=False, comment="work | human"),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_name", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("media_sha256", sa.String(64), nullable=False),
        sa.Column("media_name", sa.Text, nullable=False),
        sa.Column("video_id", sa.String(64), nullable=True),
        sa.Column("uploader", sa.String(200), nullable=False),
        sa.Column("segments", sa.JSON, nullable=False, comment="[{kind, start, end, score}]"),
        sa.Column("action", sa.String(16), nullable=False, comment="block | monetise | track, as the policy said"),
        sa.Column("status", sa.String(16), nullable=False, comment="active | disputed | upheld | released"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("dispute_by", sa.Float, nullable=False, comment="the uploader may dispute until then"),
        sa.Column("dispute_reason", sa.Text, nullable=True),
        sa.Column("disputed_at", sa.Float, nullable=True),
        sa.Column("respond_by", sa.Float, nullable=True, comment="the owner must answer a dispute until then"),
        sa.Column("resolution", sa.Text, nullable=True, comment="why it was upheld, released or expired"),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_claims_claims"),
        sa.UniqueConstraint("subject_kind", "subject_id", "media_sha256", "uploader",
                            name="uq_claims_claims_subject_media"),
    )
    op.create_index("ix_claims_claims_subject_id", "claims_claims", ["subject_id"])
    op.create_index("ix_claims_claims_media_sha256", "claims_claims", ["media_sha256"])
    op.create_index("ix_claims_claims_uploader", "claims_claims", ["uploader"])
    op.create_index("ix_claims_claims_status", "claims_claims", ["status"])


def downgrade() -> None:
    op.drop_table("claims_claims")
    op.drop_table("claims_policies")
