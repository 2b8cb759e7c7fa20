"""Claims tables: one policy per work or digital human, and the claims made from matches.

Every change of either is also an entry of govern's audit chain, written in the same transaction,
so the rows are the current state and the chain is the history.
"""

from __future__ import annotations

import sqlalchemy as sa

from vidlens.store.schema import metadata

policies = sa.Table(
    "claims_policies", metadata,
    sa.Column("subject_kind", sa.String(8), primary_key=True, comment="work | human"),
    sa.Column("subject_id", sa.String(32), primary_key=True),
    sa.Column("action", sa.String(16), nullable=False, comment="block | monetise | track"),
    sa.Column("allow_uploaders", sa.JSON, nullable=False, comment="uploaders never claimed"),
    sa.Column("set_at", sa.Float, nullable=False),
    sa.Column("set_by", sa.String(64), nullable=True),
)

claims = sa.Table(
    "claims_claims", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("subject_kind", sa.String(8), nullable=False, comment="work | human"),
    sa.Column("subject_id", sa.String(32), nullable=False, index=True),
    sa.Column("subject_name", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("media_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("media_name", sa.Text, nullable=False),
    sa.Column("video_id", sa.String(64), nullable=True),
    sa.Column("uploader", sa.String(200), nullable=False, index=True),
    sa.Column("segments", sa.JSON, nullable=False, comment="[{kind, start, end, score}]"),
    sa.Column("action", sa.String(16), nullable=False, comment="block | monetise | track, as the policy said"),
    sa.Column("status", sa.String(16), nullable=False, index=True,
              comment="active | disputed | upheld | released"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("dispute_by", sa.Float, nullable=False, comment="the uploader may dispute until then"),
    sa.Column("dispute_reason", sa.Text, nullable=True),
    sa.Column("disputed_at", sa.Float, nullable=True),
    sa.Column("respond_by", sa.Float, nullable=True, comment="the owner must answer a dispute until then"),
    sa.Column("resolution", sa.Text, nullable=True, comment="why it was upheld, released or expired"),
    sa.Column("resolved_at", sa.Float, nullable=True),
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.UniqueConstraint("subject_kind", "subject_id", "media_sha256", "uploader", name="uq_claims_claims_subject_media"),
)
